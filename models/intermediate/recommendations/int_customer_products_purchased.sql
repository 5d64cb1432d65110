-- One row per customer, product and recommender as-of date (int_feature_dates_requested: the
-- serving day and the recommender's evaluation cutoff): the date of the customer's last
-- non-cancelled order of the product known by the end of that date (pit_known_date). What the
-- recommender sees of a customer's history, point in time.
with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

recommender_dates as (
    select as_of_date
    from requested_dates
    where is_latest or is_recommender_evaluation
),

-- Per known day first: the join below then reads a few rows per (customer, product).
bought_known_days as (
    select
        customer_id,
        product_id,
        {{ pit_known_date('known_at', 'order_date') }} as known_date,
        max(order_date) as last_order_date
    from order_lines
    where not is_cancelled
    group by customer_id, product_id, {{ pit_known_date('known_at', 'order_date') }}
),

final as (
    select
        bought_known_days.customer_id,
        bought_known_days.product_id,
        max(bought_known_days.last_order_date) as last_order_date,
        recommender_dates.as_of_date
    from bought_known_days
    inner join recommender_dates
        on bought_known_days.known_date <= recommender_dates.as_of_date
    group by
        bought_known_days.customer_id,
        bought_known_days.product_id,
        recommender_dates.as_of_date
)

select * from final
