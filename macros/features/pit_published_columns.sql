{#- The published features of `entity`'s spec, in spec order, as a select list (`relation.` prefixed).
    `renamed` ({current name: older name}) serves a column under the name an older model version
    had, so that version is a view of the latest one, not a second copy of the SQL. -#}
{% macro pit_published_columns(entity, relation, renamed={}) -%}
    {%- set plan = feature_spec(entity) -%}
    {%- for feature in plan.features if feature.published %}
        {{ relation }}.{{ feature.name }}
        {{- ' as ' ~ renamed[feature.name] if feature.name in renamed }}
        {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
