{#
    Where an incremental run of a model keyed by order re-reads its inputs from: the start of
    the UTC day of the newest `known_at` it holds (the largest of `columns` over its rows).
    docs: incremental_orders.
#}
{% macro usable_since_last_run(columns) -%}
    {%- set newest = columns[0] if columns | length == 1 else 'greatest(' ~ columns | join(', ') ~ ')' -%}
    coalesce(
        (select cast(cast(max({{ newest }}) as date) as timestamp) from {{ this }}),
        cast('1900-01-01' as timestamp)
    )
{%- endmacro %}
