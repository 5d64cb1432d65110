{#- A SQL list of string literals; the empty string when empty (`in ()` is invalid, and
    `not in (null)` would match nothing). -#}
{% macro pit_quoted_list(values) -%}
    {%- for value in values -%}
        '{{ value }}'{{ ', ' if not loop.last }}
    {%- else -%}
        ''
    {%- endfor -%}
{%- endmacro %}
