-- A view: the base table already holds the checked rows in their staged types, so staging
-- only renames; a table would write every row a second time.
{{ config(materialized='view') }}

with

checked as (
    select * from {{ ref('base_shop__products') }}
    where quarantine_rule is null
),

final as (
    select
        id as product_id,
        name as product_name,
        category,
        subcategory,
        brand,
        list_price as list_price_eur,
        launched_at,
        _loaded_at as loaded_at
    from checked
)

select * from final
