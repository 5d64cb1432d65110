-- One row per customer per UTC day on which they placed at least one order: what the purchase
-- label looks at (the training set's label, the realised outcome of scores). retracted_date is
-- the day the last of that day's orders was known to be cancelled (null while one of them never
-- was): the label counts the day unless that was known by the end of its window
-- (in_purchase_label_window).
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

dated_orders as (
    select
        customer_id,
        cast(ordered_at as date) as order_date,
        {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
            as retracted_date
    from orders
),

final as (
    select
        customer_id,
        order_date,
        case
            when count(retracted_date) = count(*) then max(retracted_date)
        end as retracted_date
    from dated_orders
    group by customer_id, order_date
)

select * from final
