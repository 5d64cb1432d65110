-- A view: the base table already holds the checked rows in their staged types, so staging
-- only renames; a table would write every row a second time.
{{ config(materialized='view') }}

with

checked as (
    select * from {{ ref('base_shop__web_sessions') }}
    where quarantine_rule is null
),

final as (
    select
        id as session_id,
        customer_id,
        viewed_product_ids,
        pages_viewed,
        coalesce(len(viewed_product_ids), 0) as products_viewed,
        customer_id is null as is_anonymous,
        started_at,
        _loaded_at as loaded_at,
        known_at
    from checked
)

select * from final
