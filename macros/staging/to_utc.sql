{#
    A UTC wall-clock TIMESTAMP from a raw TIMESTAMPTZ, independent of the session time zone.
    Every `_at` column in the project is a naive TIMESTAMP in UTC.
#}
{% macro to_utc(column) -%}
    timezone('UTC', {{ column }})
{%- endmacro %}
