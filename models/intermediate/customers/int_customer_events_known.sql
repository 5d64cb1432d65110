-- One row per customer event that feeds a point-in-time feature: what happened (measure, value),
-- on which day (event_date) and from which day the warehouse knew it (known_date, the UTC date
-- of the latest _loaded_at of the rows it needs). known_date is never before event_date.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

refunds as (
    select * from {{ ref('int_refunds_converted') }}
),

sessions as (
    select * from {{ ref('stg_shop__web_sessions') }}
),

reviews as (
    select * from {{ ref('stg_shop__reviews') }}
),

order_events as (
    select
        customer_id,
        'orders' as measure,
        cast(1 as decimal(18, 2)) as value,
        cast(ordered_at as date) as event_date,
        cast(loaded_at as date) as known_date,
    from orders
    where not is_cancelled
),

-- Order value: net sales of an order's lines before refunds (docs: order_value).
order_value_events as (
    select
        customer_id,
        'order_value' as measure,
        net_sales_eur as value,
        order_date as event_date,
        cast(known_at as date) as known_date,
    from order_lines
    where not is_cancelled
),

unit_events as (
    select
        customer_id,
        'units' as measure,
        cast(quantity as decimal(18, 2)) as value,
        order_date as event_date,
        cast(known_at as date) as known_date,
    from order_lines
    where not is_cancelled
),

refund_events as (
    select
        customer_id,
        'refunds' as measure,
        refund_eur as value,
        return_date as event_date,
        cast(known_at as date) as known_date,
    from refunds
),

session_events as (
    select
        customer_id,
        'sessions' as measure,
        cast(1 as decimal(18, 2)) as value,
        cast(started_at as date) as event_date,
        cast(loaded_at as date) as known_date,
    from sessions
    where not is_anonymous
),

review_events as (
    select
        customer_id,
        'reviews' as measure,
        cast(1 as decimal(18, 2)) as value,
        cast(created_at as date) as event_date,
        cast(loaded_at as date) as known_date,
    from reviews
),

rating_events as (
    select
        customer_id,
        'rating_sum' as measure,
        cast(rating as decimal(18, 2)) as value,
        cast(created_at as date) as event_date,
        cast(loaded_at as date) as known_date,
    from reviews
),

final as (
    select * from order_events
    union all
    select * from order_value_events
    union all
    select * from unit_events
    union all
    select * from refund_events
    union all
    select * from session_events
    union all
    select * from review_events
    union all
    select * from rating_events
)

select * from final
