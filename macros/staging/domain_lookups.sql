{#
    The tables the rules of one raw table consult, derived from its domains: one entry per seed
    reference (`<column>_reference`), per parent (`<column>_parent`) and per declared lookup.
    Each is {alias, kind, sql, on[, raw_columns, missing_rule, column, sql_for_keys_of]}; its sql
    returns at most one row per join key, so joining it never multiplies raw rows. A parent's
    `sql_for_keys_of` is the same restricted to the keys a relation `{rows}` names (replace the
    placeholder): what an incremental run joins to its few rows, without aggregating every
    parent row. Parent lookups read the
    parent's base model and carry `is_staged` (1 when a copy of the parent was staged, 0 when
    every copy was quarantined), the staged copy's `columns` and `known_at`: when its first
    staged copy became usable (its own known_at, which includes its parents': check_raw_rows).
#}
{% macro domain_lookups(table_name, domains) %}
{%- set spec = domains[table_name] -%}
{%- set lookups = [] -%}
{%- for column, domain in spec.columns.items() if domain.reference -%}
    {%- set alias = column ~ '_reference' -%}
    {%- set conditions = [] -%}
    {%- for raw_column, seed_column in domain.reference.match.items() -%}
        {%- do conditions.append('source.' ~ raw_column ~ ' = ' ~ alias ~ '.' ~ seed_column) -%}
    {%- endfor -%}
    {%- do lookups.append({
        'alias': alias, 'kind': 'reference',
        'sql': 'select distinct ' ~ (domain.reference.match.values() | join(', ')) ~ ' from ' ~ ref(domain.reference.seed),
        'on': conditions | join(' and '),
    }) -%}
{%- endfor -%}
{%- set parents = [] -%}
{%- for column, domain in spec.columns.items() if domain.parent -%}
    {%- set parent = {'alias': column ~ '_parent', 'column': column, 'kind': 'parent',
        'missing_rule': 'unknown_' ~ domain.parent.table[:-1]} -%}
    {%- do parent.update(domain.parent) -%}
    {%- do parents.append(parent) -%}
{%- endfor -%}
{%- for lookup in spec.get('lookups', []) -%}
    {%- set parent = {'kind': 'lookup'} -%}
    {%- do parent.update(lookup) -%}
    {%- do parents.append(parent) -%}
{%- endfor -%}
{%- for parent in parents -%}
    {%- set keys = parent.match.values() | list -%}
    {%- set selected = [] -%}
    {%- for key in keys -%}{%- do selected.append(key) -%}{%- endfor -%}
    {%- do selected.append('max(case when quarantine_rule is null then 1 else 0 end) as is_staged') -%}
    {%- do selected.append('min(case when quarantine_rule is null then known_at end) as known_at') -%}
    {%- for extra in parent.get('columns', []) -%}
        {%- do selected.append('max(case when quarantine_rule is null then ' ~ extra ~ ' end) as ' ~ extra) -%}
    {%- endfor -%}
    {%- set conditions = [] -%}
    {%- for raw_column, parent_column in parent.match.items() -%}
        {%- do conditions.append('source.' ~ raw_column ~ ' = ' ~ parent.alias ~ '.' ~ parent_column) -%}
    {%- endfor -%}
    {#- Restricting on the first key alone keeps every row a join on all of them can match. -#}
    {%- set first_raw, first_key = (parent.match.items() | list)[0] -%}
    {%- do lookups.append({
        'alias': parent.alias, 'kind': parent.kind,
        'sql': 'select ' ~ selected | join(', ') ~ ' from ' ~ ref('base_shop__' ~ parent.table)
            ~ ' where ' ~ keys | join(' is not null and ') ~ ' is not null group by ' ~ keys | join(', '),
        'sql_for_keys_of': 'select ' ~ selected | join(', ') ~ ' from ' ~ ref('base_shop__' ~ parent.table)
            ~ ' as parent_rows where ' ~ keys | join(' is not null and ') ~ ' is not null'
            ~ ' and parent_rows.' ~ first_key ~ ' in (select keyed_rows.' ~ first_raw
            ~ ' from {rows} as keyed_rows) group by ' ~ keys | join(', '),
        'on': conditions | join(' and '),
        'raw_columns': parent.match.keys() | list,
        'missing_rule': parent.missing_rule, 'column': parent.column,
    }) -%}
{%- endfor -%}
{{ return(lookups) }}
{% endmacro %}
