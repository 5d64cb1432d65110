-- One row per customer, order and product: the recommender's purchase history with the day each
-- line became known (pit_known_date) and, for an order later cancelled, the day its cancellation
-- became known (retracted_date, the engine's rule). The recommender keeps the lines known by the
-- end of its as-of date and not yet retracted by then (serving day or a backtest cutoff), so
-- every date reads the same rows and no date's history sees a line or a cancellation that
-- landed later.
with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

final as (
    select
        customer_id,
        order_id,
        product_id,
        min(order_date) as order_date,
        min({{ pit_known_date('known_at', 'order_date') }}) as known_date,
        min(
            {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
        ) as retracted_date
    from order_lines
    group by customer_id, order_id, product_id
)

select * from final
