{#-
    The select list of one event source in an entity's events model: every summed measure of
    the spec, `values[measure]` where the source provides it, a typed null elsewhere, so the
    sources union by position on every engine.
-#}
{% macro pit_measure_columns(entity, values) -%}
    {%- set plan = feature_spec(entity) -%}
    {%- for measure in plan.sum_measures %}
        cast({{ values.get(measure, 'null') }} as {{ plan.measures[measure].data_type }}) as {{ measure }}
        {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
