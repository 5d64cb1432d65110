-- One row per customer and product bought in the recommender's evaluation window: lines of
-- non-cancelled orders placed from the day after the evaluation cutoff to the latest complete
-- day, by customers known on the cutoff (int_recommender_evaluation_customers). Judged on
-- everything known now: this is the ground truth, not an input.
with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

customers as (
    select * from {{ ref('int_recommender_evaluation_customers') }}
),

window_bounds as (
    select
        max(case when is_recommender_evaluation then as_of_date end) as cutoff_date,
        max(case when is_latest then as_of_date end) as evaluation_end_date
    from requested_dates
),

final as (
    select distinct
        order_lines.customer_id,
        order_lines.product_id,
        window_bounds.cutoff_date,
        window_bounds.evaluation_end_date
    from order_lines
    cross join window_bounds
    inner join customers
        on order_lines.customer_id = customers.customer_id
    where not order_lines.is_cancelled
        and order_lines.order_date > window_bounds.cutoff_date
        and order_lines.order_date <= window_bounds.evaluation_end_date
)

select * from final
