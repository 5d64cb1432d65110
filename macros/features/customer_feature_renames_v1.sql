{#
    The one home of what version 1 of the customer feature tables serves under another name
    ({current name: version-1 name}); feat_customer_daily_v1 and feat_customer_serving_v1 both
    read it, so the two deprecated versions cannot drift apart. Docs block
    customer_feature_versions.
#}
{% macro customer_feature_renames_v1() %}
    {{ return({'net_sales_lifetime': 'lifetime_net_sales'}) }}
{% endmacro %}
