-- One row per staged version of an order from the order feed's change stream: every status the
-- order reached (placed, shipped, delivered, cancelled), valid from its updated_at until the
-- next version's. A view over the checked rows: staging only renames (the base table holds
-- them in their staged types).
{{ config(materialized='view') }}

with

checked as (
    select * from {{ ref('base_shop__orders') }}
    where quarantine_rule is null
),

final as (
    select
        id as order_id,
        status as order_status,
        status = 'cancelled' as is_cancelled,
        updated_at as valid_from,
        lead(updated_at) over (partition by id order by updated_at) as valid_to,
        _loaded_at as loaded_at,
        known_at
    from checked
)

select * from final
