{#-
    One row per calendar day from `first_date` to `last_date` (both date expressions that may
    refer to `relation`'s columns, one row of it), in a column named `column_name`.
-#}
{% macro date_series(relation, first_date, last_date, column_name) -%}
    {{ return(adapter.dispatch('date_series', 'retail_ml')(relation, first_date, last_date, column_name)) }}
{%- endmacro %}

{% macro default__date_series(relation, first_date, last_date, column_name) -%}
    select cast(days.{{ column_name }} as date) as {{ column_name }}
    from {{ relation }}
    cross join generate_series({{ first_date }}, {{ last_date }}, interval 1 day)
        as days({{ column_name }})
{%- endmacro %}

{% macro spark__date_series(relation, first_date, last_date, column_name) -%}
    select explode(sequence({{ first_date }}, {{ last_date }}, interval 1 day)) as {{ column_name }}
    from {{ relation }}
{%- endmacro %}
