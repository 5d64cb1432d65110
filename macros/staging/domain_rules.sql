{#
    The quarantine rules of one raw table, derived from its declared domains (shop_raw_domains):
    a list of {name, column, when}, in the order they are checked. The first that holds names
    the row's quarantine rule (first_failing_rule), so each row carries exactly one reason.

    Order: the row's own columns first, from the most basic kind of violation to the most
    specific (null_key, missing_value, not_finite, blank_string, too_long, malformed,
    not_accepted, out_of_range, before_opening, future_timestamp, loaded_outside_partition), then
    its parents (unknown_<parent>, parent_quarantined, missing lookups), then the checks relating
    columns of the row and its parents. Duplicates are decided after all of these
    (quarantine_duplicates).
#}
{% macro domain_rules(table_name, domains) %}
{%- set spec = domains[table_name] -%}
{%- set columns = spec.columns -%}
{%- set opening = utc_timestamp_literal(var('shop_opening_date') ~ ' 00:00:00') -%}
{%- set rules = [] -%}

{%- for column in spec.key -%}
    {%- do rules.append({'name': 'null_key', 'column': column, 'when': 'source.' ~ column ~ ' is null'}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if column not in spec.key and not domain.nullable -%}
    {%- do rules.append({'name': 'missing_value', 'column': column, 'when': 'source.' ~ column ~ ' is null'}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if domain.type == 'double' -%}
    {%- do rules.append({'name': 'not_finite', 'column': column, 'when': is_not_finite('source.' ~ column)}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if domain.type == 'string' and not domain.allow_blank -%}
    {%- do rules.append({'name': 'blank_string', 'column': column, 'when': 'trim(source.' ~ column ~ ") = ''"}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if domain.max_length -%}
    {%- do rules.append({'name': 'too_long', 'column': column, 'when': 'length(source.' ~ column ~ ') > ' ~ domain.max_length}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if domain.format -%}
    {%- do rules.append({'name': 'malformed', 'column': column,
        'when': 'not ' ~ regex_full_match('trim(source.' ~ column ~ ')', domain.format)}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if domain.accepted or domain.reference -%}
    {%- if domain.accepted -%}
        {%- set condition = 'source.' ~ column ~ " not in ('" ~ domain.accepted | join("', '") ~ "')" -%}
    {%- else -%}
        {%- set condition = 'source.' ~ column ~ ' is not null and ' ~ column ~ '_reference.' ~ (domain.reference.match.values() | list | first) ~ ' is null' -%}
    {%- endif -%}
    {%- do rules.append({'name': 'not_accepted', 'column': column, 'when': condition}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if domain.get('min') is not none or domain.get('max') is not none or domain.max_items -%}
    {%- set bounds = [] -%}
    {%- if domain.get('min') is not none -%}{%- do bounds.append('source.' ~ column ~ ' < ' ~ domain.min) -%}{%- endif -%}
    {%- if domain.get('max') is not none -%}{%- do bounds.append('source.' ~ column ~ ' > ' ~ domain.max) -%}{%- endif -%}
    {%- if domain.max_items -%}
        {%- do bounds.append('len(source.' ~ column ~ ') > ' ~ domain.max_items) -%}
        {%- do bounds.append('list_count(source.' ~ column ~ ') < len(source.' ~ column ~ ')') -%}
        {%- do bounds.append('list_min(source.' ~ column ~ ') < ' ~ domain.item_min) -%}
    {%- endif -%}
    {%- do rules.append({'name': 'out_of_range', 'column': column, 'when': bounds | join(' or ')}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if domain.event_time or domain.load_time -%}
    {%- do rules.append({'name': 'before_opening', 'column': column, 'when': 'source.' ~ column ~ ' < ' ~ opening}) -%}
{%- endfor -%}
{%- for column, domain in columns.items() if domain.event_time -%}
    {%- set latest = dateadd('day', domain.lead_days, 'source._loaded_at') if domain.lead_days else 'source._loaded_at' -%}
    {%- do rules.append({'name': 'future_timestamp', 'column': column, 'when': 'source.' ~ column ~ ' > ' ~ latest}) -%}
{%- endfor -%}
{%- do rules.append({'name': 'loaded_outside_partition', 'column': '_loaded_at',
    'when': '(source._loaded_at < source_files.partition_start'
        ~ ' or source._loaded_at >= source_files.partition_end)'}) -%}

{%- for lookup in domain_lookups(table_name, domains) if lookup.kind in ('parent', 'lookup') -%}
    {%- set probe = lookup.alias ~ '.is_staged' -%}
    {%- set present = [] -%}
    {%- for raw_column in lookup.raw_columns -%}{%- do present.append('source.' ~ raw_column ~ ' is not null') -%}{%- endfor -%}
    {%- do rules.append({'name': lookup.missing_rule, 'column': lookup.column,
        'when': present | join(' and ') ~ ' and ' ~ probe ~ ' is null'}) -%}
    {%- do rules.append({'name': 'parent_quarantined', 'column': lookup.column, 'when': probe ~ ' = 0'}) -%}
{%- endfor -%}

{%- for check in spec.get('checks', []) -%}
    {%- do rules.append({'name': check.name, 'column': check.columns | first, 'when': check.when}) -%}
{%- endfor -%}
{{ return(rules) }}
{% endmacro %}
