{#-
    Generic test: the relation's actual columns and types are exactly the columns documented
    for the model in YAML, each with its `data_type`. For models dbt cannot put under an
    enforced contract (Python models): it pins their output schema the way a contract would.

    One failing row per difference: a YAML column missing from the relation, a relation column
    not documented in YAML, a YAML column without data_type, or a type that differs. Types are
    compared after `ml_normalize_data_type` (case, spacing, common aliases); names ignore case.
-#}
{% test columns_match_yaml(model) %}
{%- set problems = [] -%}
{%- if execute -%}
    {%- set node = ml_model_node_of(model) -%}
    {%- set actual = {} -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- do actual.update({column.name | lower: column.dtype}) -%}
    {%- endfor -%}
    {%- set documented = {} -%}
    {%- for name, column in node.columns.items() -%}
        {%- do documented.update({name | lower: column.data_type}) -%}
    {%- endfor -%}
    {%- for name, yaml_type in documented.items() -%}
        {%- if name not in actual -%}
            {%- do problems.append([name, yaml_type, none, 'documented in YAML, missing from the relation']) -%}
        {%- elif not yaml_type -%}
            {%- do problems.append([name, none, actual[name], 'no data_type in YAML']) -%}
        {%- elif ml_normalize_data_type(yaml_type) != ml_normalize_data_type(actual[name]) -%}
            {%- do problems.append([name, yaml_type, actual[name], 'type differs']) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, actual_type in actual.items() if name not in documented -%}
        {%- do problems.append([name, none, actual_type, 'in the relation, not documented in YAML']) -%}
    {%- endfor -%}
{%- endif -%}

{%- if problems | length == 0 %}
select
    cast(null as varchar) as column_name,
    cast(null as varchar) as yaml_data_type,
    cast(null as varchar) as actual_data_type,
    cast(null as varchar) as problem,
where false
{%- else -%}
{%- for problem in problems %}
select
    {% for value in problem -%}
    {{ "null" if value is none else "'" ~ (value | string | replace("'", "''")) ~ "'" }}
    as {{ ['column_name', 'yaml_data_type', 'actual_data_type', 'problem'][loop.index0] }}
    {%- if not loop.last %},{% endif %}
    {% endfor %}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- endif %}
{% endtest %}
