{#- A date plus a number of days, as a date on every engine (dateadd returns a timestamp). -#}
{% macro pit_add_days(date_expression, days) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}
