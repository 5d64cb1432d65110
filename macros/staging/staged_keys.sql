{#
    A lookup for check_raw_rows: the distinct ids of the rows staged from another base model,
    so children of a quarantined (or missing) parent are quarantined too, not left orphaned.
#}
{% macro staged_keys(alias, base_model_relation, on) %}
    {%- do return({
        'alias': alias,
        'relation': base_model_relation,
        'columns': 'distinct id',
        'where': 'quarantine_rule is null',
        'on': on,
    }) -%}
{% endmacro %}
