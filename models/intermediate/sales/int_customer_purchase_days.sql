-- One row per customer per UTC day on which they placed at least one non-cancelled order: what
-- the purchase label looks at (the training set's label, the realised outcome of scores).
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

final as (
    select distinct
        customer_id,
        cast(ordered_at as date) as order_date
    from orders
    where not is_cancelled
)

select * from final
