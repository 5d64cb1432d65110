-- Monitoring: how many raw rows each rule quarantined, per table and column, and when the
-- latest landed. A view: always as fresh as the quarantine table.
{{ config(materialized='view') }}

with

quarantined_rows as (
    select * from {{ ref('stg_shop__quarantined_rows') }}
),

final as (
    select
        source_table,
        quarantine_rule,
        quarantine_column,
        count(*) as quarantined_rows,
        min(loaded_at) as first_loaded_at,
        max(loaded_at) as last_loaded_at
    from quarantined_rows
    group by source_table, quarantine_rule, quarantine_column
)

select * from final
