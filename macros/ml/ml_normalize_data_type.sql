{#- A data type in a comparable form: lower case, single spaces, no spaces inside parentheses,
    DuckDB's aliases resolved to its canonical names (e.g. int8 -> bigint, timestamptz ->
    timestamp with time zone). -#}
{% macro ml_normalize_data_type(data_type) %}
    {%- set aliases = {
        'int8': 'bigint', 'long': 'bigint',
        'int4': 'integer', 'int': 'integer', 'signed': 'integer',
        'int2': 'smallint', 'short': 'smallint',
        'int1': 'tinyint',
        'float8': 'double', 'double precision': 'double',
        'float4': 'float', 'real': 'float',
        'bool': 'boolean', 'logical': 'boolean',
        'text': 'varchar', 'string': 'varchar', 'char': 'varchar', 'bpchar': 'varchar',
        'bytea': 'blob', 'binary': 'blob', 'varbinary': 'blob',
        'timestamptz': 'timestamp with time zone',
        'datetime': 'timestamp',
    } -%}
    {%- set text = (data_type | string | lower).split() | join(' ') -%}
    {%- set text = text | replace('( ', '(') | replace(' )', ')') | replace(', ', ',') -%}
    {{- return(aliases.get(text, text)) -}}
{% endmacro %}
