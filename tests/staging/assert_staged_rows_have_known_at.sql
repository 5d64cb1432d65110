-- Every staged row of every base table has a known_at (the point-in-time rules date it by
-- that; macro check_raw_rows). One cheap pass over the base tables instead of a not_null
-- test per staging view, each of which would recompute its view. Returns the tables with a
-- staged row without one.
-- The base tables are private to the data platform's group. In the file, not the YAML: a
-- partial parse that re-reads this file without its YAML patch would lose it.
{{ config(group='data_platform') }}
{%- set tables = shop_raw_domains().keys() | list %}

with

missing as (
    {%- for table_name in tables %}
    select
        '{{ table_name }}' as source_table,
        count(*) as staged_rows_without_known_at
    from {{ ref('base_shop__' ~ table_name) }}
    where quarantine_rule is null and known_at is null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select * from missing
    where staged_rows_without_known_at > 0
)

select * from final
