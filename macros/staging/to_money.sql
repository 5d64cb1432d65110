{#
    Money as DECIMAL(18, 2): the source system sends floats; summing floats gives results that
    differ in the last digits between runs, DECIMAL sums do not.
#}
{% macro to_money(column) -%}
    cast(round({{ column }}, 2) as decimal(18, 2))
{%- endmacro %}
