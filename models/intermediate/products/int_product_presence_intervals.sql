-- Distinct counts of the product feature spec as presence intervals: one row per product and
-- interval over which buyers (customers with a line of the product in an order, until its
-- cancellation is known) are inside a distinct-count window; the row adds their count to
-- `distinct_<measure>_<N>d` on every as-of date in [start_date, end_date). See
-- pit_distinct_intervals.
with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

buyer_events as (
    select
        product_id,
        'buyer' as measure,
        customer_id as distinct_key,
        order_date as event_date,
        {{ pit_known_date('known_at', 'order_date') }} as known_date,
        {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
            as retracted_date
    from order_lines
),

{{ pit_distinct_intervals('product', 'buyer_events', name='intervals') }},

final as (
    select * from intervals
)

select * from final
