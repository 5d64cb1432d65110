-- One row per non-cancelled order: its customer, channel, units and order value in EUR (the
-- net sales of its lines before any refund). What order counts and average order value read.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

order_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as units,
        sum(net_sales_eur) as order_value_eur
    from order_lines
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.channel,
        orders.currency_code,
        -- An order whose every line was quarantined still counts as an order, worth 0.
        cast(coalesce(order_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(order_totals.units, 0) as integer) as units,
        {{ to_money('coalesce(order_totals.order_value_eur, 0)') }} as order_value_eur,
        cast(orders.ordered_at as date) as order_date,
        orders.ordered_at
    from orders
    left join order_totals
        on orders.order_id = order_totals.order_id
    where not orders.is_cancelled
)

select * from final
