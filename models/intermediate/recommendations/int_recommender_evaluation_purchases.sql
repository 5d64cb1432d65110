-- One row per backtest window, customer and product bought in the window's label period: lines
-- of non-cancelled orders placed from the day after the cutoff to the window's last day, by
-- customers known on the cutoff (int_recommender_evaluation_customers). Judged on everything
-- known now: this is the ground truth, never an input.
with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

windows as (
    select * from {{ ref('int_recommender_backtest_windows') }}
),

customers as (
    select * from {{ ref('int_recommender_evaluation_customers') }}
),

final as (
    select distinct
        order_lines.customer_id,
        order_lines.product_id,
        windows.cutoff_date,
        windows.evaluation_end_date
    from order_lines
    inner join windows
        on order_lines.order_date > windows.cutoff_date
            and order_lines.order_date <= windows.evaluation_end_date
    inner join customers
        on order_lines.customer_id = customers.customer_id
            and windows.cutoff_date = customers.as_of_date
    where not order_lines.is_cancelled
)

select * from final
