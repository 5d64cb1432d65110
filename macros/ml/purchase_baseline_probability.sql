{#-
    The baseline's probability of a bucket, defined once: its purchase rate on the rows it is
    calibrated on, shrunk towards their overall rate with the weight of one row (m-estimate,
    m = 1): never exactly 0 or 1, and the overall rate for a bucket never seen.
-#}
{% macro purchase_baseline_probability(bucket_purchases, bucket_rows, overall_rate) -%}
    cast(
        (coalesce({{ bucket_purchases }}, 0) + {{ overall_rate }})
        / (coalesce({{ bucket_rows }}, 0) + 1)
        as double
    )
{%- endmacro %}
