{#- The published features of `entity`'s spec, in spec order, as a select list (`relation.` prefixed). -#}
{% macro pit_published_columns(entity, relation) -%}
    {%- set plan = feature_spec(entity) -%}
    {%- for feature in plan.features if feature.published %}
        {{ relation }}.{{ feature.name }}
        {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
