-- A view: the base table already holds the checked rows in their staged types, so staging
-- only renames; a table would write every row a second time.
{{ config(materialized='view') }}

with

checked as (
    select * from {{ ref('base_shop__order_items') }}
    where quarantine_rule is null
),

final as (
    select
        order_id || '-' || line_number as order_item_id,
        order_id,
        product_id,
        line_number,
        quantity,
        unit_price,
        coalesce(discount_amount, cast(0 as decimal(18, 2))) as discount_amount,
        _loaded_at as loaded_at,
        known_at
    from checked
)

select * from final
