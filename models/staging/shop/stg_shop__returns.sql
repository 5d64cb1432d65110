-- A view: the base table already holds the checked rows in their staged types, so staging
-- only renames; a table would write every row a second time.
{{ config(materialized='view') }}

with

checked as (
    select * from {{ ref('base_shop__returns') }}
    where quarantine_rule is null
),

final as (
    select
        id as return_id,
        order_id,
        product_id,
        quantity,
        refund_amount,
        returned_at,
        _loaded_at as loaded_at,
        known_at
    from checked
)

select * from final
