{#-
    The engine's running columns for an entity's spec: sums (`sum_<measure>_<N>d`,
    `sum_<measure>_lifetime`), distinct counts (`distinct_<measure>_<N>d`) and latest event
    dates (`last_<measure>_date`), each {name, measure, days, data_type}.
-#}
{% macro pit_running_columns(entity) -%}
    {%- set plan = feature_spec(entity) -%}
    {%- set sums = [] -%}
    {%- set distinct = [] -%}
    {%- set latest = [] -%}
    {%- for measure, lengths in plan.sums.items() -%}
        {%- for days in lengths -%}
            {%- do sums.append({'name': 'sum_' ~ measure ~ '_' ~ days ~ 'd', 'measure': measure, 'days': days, 'data_type': plan.measures[measure].data_type}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for measure in plan.lifetime -%}
        {%- do sums.append({'name': 'sum_' ~ measure ~ '_lifetime', 'measure': measure, 'days': none, 'data_type': plan.measures[measure].data_type}) -%}
    {%- endfor -%}
    {%- for measure, lengths in plan.distinct.items() -%}
        {%- for days in lengths -%}
            {%- do distinct.append({'name': 'distinct_' ~ measure ~ '_' ~ days ~ 'd', 'measure': measure, 'days': days, 'data_type': 'integer'}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for measure in plan.latest -%}
        {%- do latest.append({'name': 'last_' ~ measure ~ '_date', 'measure': measure, 'days': none, 'data_type': 'date'}) -%}
    {%- endfor -%}
    {{ return({'sums': sums, 'distinct': distinct, 'latest': latest}) }}
{%- endmacro %}
