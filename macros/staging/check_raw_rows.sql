{#
    The body of a base model: every raw row of `source('shop', table_name)`, identified by its
    file and row number, with the first quarantine rule it breaks (`quarantine_rule`, null when
    staged) and the column the rule is about. The rules are derived from the table's declared
    domains (shop_raw_domains) by domain_rules, in the order documented there.

    What the base table keeps: the declared columns, already in their staged types (timestamps
    as naive UTC, money as DECIMAL(18,2) for staged rows; a quarantined row's money may not be
    castable, e.g. NaN), PII pseudonymised as its domain says (email -> email_hash, full_name
    dropped, review_text -> review_text_length), and the raw row as pseudonymised JSON for
    quarantined rows only, and `known_at`: when the row became usable, the latest of its own
    landing and the `known_at` of the first staged copy of every parent or lookup row it names
    (docs: incremental_feature_dates; a line whose product lands days later is known from
    then, not from its own landing). So no raw PII is persisted, each value is converted once, and the
    expensive JSON is built for the 0.5% of rows that need it, not for every row. The staging
    models are views renaming the staged rows' columns.

    Incremental (the base models are incremental, delete+insert on raw_row_id): a run re-checks
    only the rows raw_rows_to_recheck selects (the files landed since the last run and the rows
    whose verdict they can change); every other row keeps the verdict a full rebuild would give.
#}
{% macro check_raw_rows(table_name) %}
{%- set domains = shop_raw_domains() -%}
{%- set spec = domains[table_name] -%}
{%- set lookups = domain_lookups(table_name, domains) -%}
{%- set rules = domain_rules(table_name, domains) -%}
{%- set content_columns = [] -%}
{%- for column in spec.columns if column != '_loaded_at' -%}
    {%- do content_columns.append('source.' ~ column) -%}
{%- endfor -%}
with

{% if is_incremental() %}
{{ raw_rows_to_recheck(table_name, spec, lookups) }}
{% else %}
-- Read where used, not held: three readers each need a few columns of every landed row.
source as {{ cte_not_materialized() }}(
    select * from {{ source('shop', table_name) }}
),
{% endif %}

-- Per file, not per row: the file's label and its partition's day (a regex per row is slow).
source_files as (
    select
        filename,
        {{ file_label('filename') }} as file_label,
        partition_start,
        {{ dateadd('day', 1, 'partition_start') }} as partition_end
    from (
        select filename, {{ partition_start('filename') }} as partition_start
        from (select distinct filename from source) as distinct_files
    ) as files
),
{% for lookup in lookups %}
{{ lookup.alias }} as (
    {%- if is_incremental() and lookup.sql_for_keys_of %}
    {#- Only the parents the re-checked rows name: the result of their join is the same. #}
    {{ lookup.sql_for_keys_of | replace('{rows}', 'source') }}
    {%- else %}
    {{ lookup.sql }}
    {%- endif %}
),
{% endfor %}
-- Not held either: the duplicate rule reads it for the repeated keys only, the rest once.
row_checked as {{ cte_not_materialized() }}(
    select
        source_files.file_label || ':' || cast(source.file_row_number as {{ dbt.type_string() }}) as raw_row_id,
        {%- for column in spec.columns %}
        source.{{ column }},
        {%- endfor %}
        {{ row_fingerprint(content_columns) }} as row_fingerprint,
        {{ first_failing_rule(rules) }} as row_rule,
        {#- greatest skips nulls (DuckDB, Spark): a parent not found adds nothing. #}
        greatest(
            {{ to_utc('source._loaded_at') }}
            {%- for lookup in lookups if lookup.kind in ('parent', 'lookup') %},
            {{ lookup.alias }}.known_at
            {%- endfor %}
        ) as known_at
    from source
    inner join source_files
        on source.filename = source_files.filename
    {%- for lookup in lookups %}
    left join {{ lookup.alias }}
        on {{ lookup.on }}
    {%- endfor %}
),

{{ quarantine_duplicates('row_checked', spec.key) }},
{%- set checked = namespace(relation='deduplicated') %}
{% for unique in spec.get('unique', []) %}
unique_{{ loop.index }} as (
    {{ quarantine_repeats(checked.relation, unique.columns, unique.rule, spec.key) }}
),
{%- set checked.relation = 'unique_' ~ loop.index %}
{% endfor %}

final as (
    select
        raw_row_id,
        {%- for column, domain in spec.columns.items() %}
        {%- if domain.pii == 'hash' %}
        {{ hash_pii(column) }} as {{ column }}_hash,
        {%- elif domain.pii == 'length' %}
        coalesce(length({{ column }}), 0) as {{ column }}_length,
        {%- elif domain.type == 'timestamp' %}
        {{ to_utc(column) }} as {{ column }},
        {%- elif domain.type == 'double' %}
        case when quarantine_ref is null then {{ to_money(column) }} end as {{ column }},
        {%- elif domain.pii != 'drop' %}
        {{ column }},
        {%- endif %}
        {%- endfor %}
        -- Staged rows only: a quarantined row is not re-checked when a parent lands later.
        case when quarantine_ref is null then known_at end as known_at,
        {{ split_part('quarantine_ref', "'|'", 1) }} as quarantine_rule,
        nullif({{ split_part('quarantine_ref', "'|'", 2) }}, '') as quarantine_column,
        case
            when quarantine_ref is not null then {{ pseudonymised_row_json(spec.columns) }}
        end as raw_row_json
    from {{ checked.relation }}
)

select * from final
{% endmacro %}
