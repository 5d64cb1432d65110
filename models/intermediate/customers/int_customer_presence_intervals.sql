-- Distinct counts of the customer feature spec as presence intervals: one row per interval in
-- which a distinct key (a purchased product category) is inside a
-- window; the row adds 1 to its `distinct_<measure>_<N>d` column on every as-of date in
-- [start_date, end_date). See pit_distinct_intervals.
with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

category_events as (
    select
        order_lines.customer_id,
        'category' as measure,
        products.category as distinct_key,
        order_lines.order_date as event_date,
        {{ pit_known_date('order_lines.known_at', 'order_lines.order_date') }} as known_date,
        -- A cancelled order's categories count until its cancellation is known.
        {{ pit_known_date(
            'order_lines.cancellation_known_at', 'cast(order_lines.cancelled_at as date)'
        ) }} as retracted_date
    from order_lines
    inner join products
        on order_lines.product_id = products.product_id
),

keyed_events as (
    select * from category_events
),

{{ pit_distinct_intervals('customer', 'keyed_events', name='intervals') }},

final as (
    select * from intervals
)

select * from final
