-- One row per customer, order and product of a non-cancelled order: the recommender's purchase
-- history with the day each line became known (pit_known_date). The recommender keeps the lines
-- known by the end of its as-of date (serving day or a backtest cutoff), so every date it needs
-- reads the same rows and no date's history can see a line that landed later.
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
        min({{ pit_known_date('known_at', 'order_date') }}) as known_date
    from order_lines
    where not is_cancelled
    group by customer_id, order_id, product_id
)

select * from final
