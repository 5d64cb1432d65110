-- One row per customer per as-of date, from the signup date to the latest complete day.
-- Every value uses only rows that had landed by the end of the as-of date.
with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

feature_dates as (
    select * from {{ ref('int_feature_dates_spined') }}
),

customer_versions as (
    select * from {{ ref('int_customer_versions_dated') }}
),

activity_deltas as (
    select * from {{ ref('int_customer_activity_deltas') }}
),

customer_days as (
    select
        customers.customer_id,
        customers.signup_date,
        feature_dates.as_of_date,
        feature_dates.is_latest,
    from customers
    inner join feature_dates
        on feature_dates.as_of_date >= customers.signup_date
),

-- Changes dated before the signup (an order stamped before its customer's signup) count from
-- the signup day, so nothing known is dropped from the running sums.
deltas_on_spine as (
    select
        activity_deltas.* exclude (change_date),
        greatest(activity_deltas.change_date, customers.signup_date) as as_of_date,
    from activity_deltas
    inner join customers
        on activity_deltas.customer_id = customers.customer_id
),

deltas_per_day as (
    select
        customer_id,
        as_of_date,
        sum(orders_10d_delta) as orders_10d_delta,
        sum(orders_30d_delta) as orders_30d_delta,
        sum(order_value_10d_delta) as order_value_10d_delta,
        sum(net_sales_30d_delta) as net_sales_30d_delta,
        sum(sessions_30d_delta) as sessions_30d_delta,
        sum(orders_lifetime_delta) as orders_lifetime_delta,
        sum(net_sales_lifetime_delta) as net_sales_lifetime_delta,
        max(last_order_date) as last_order_date,
    from deltas_on_spine
    group by customer_id, as_of_date
),

running as (
    select
        customer_days.customer_id,
        customer_days.as_of_date,
        customer_days.signup_date,
        customer_days.is_latest,
        sum(coalesce(deltas_per_day.orders_10d_delta, 0)) over customer_history as orders_10d,
        sum(coalesce(deltas_per_day.orders_30d_delta, 0)) over customer_history as orders_30d,
        sum(coalesce(deltas_per_day.order_value_10d_delta, 0)) over customer_history
            as order_value_10d,
        sum(coalesce(deltas_per_day.net_sales_30d_delta, 0)) over customer_history
            as net_sales_30d,
        sum(coalesce(deltas_per_day.sessions_30d_delta, 0)) over customer_history
            as sessions_30d,
        sum(coalesce(deltas_per_day.orders_lifetime_delta, 0)) over customer_history
            as orders_lifetime,
        sum(coalesce(deltas_per_day.net_sales_lifetime_delta, 0)) over customer_history
            as lifetime_net_sales,
        max(deltas_per_day.last_order_date) over customer_history as last_order_date,
    from customer_days
    left join deltas_per_day
        on customer_days.customer_id = deltas_per_day.customer_id
        and customer_days.as_of_date = deltas_per_day.as_of_date
    window customer_history as (
        partition by customer_days.customer_id
        order by customer_days.as_of_date
        rows between unbounded preceding and current row
    )
),

with_attributes as (
    select
        running.*,
        customer_versions.country_code,
        customer_versions.signup_channel,
        customer_versions.is_marketing_opt_in,
    from running
    left join customer_versions
        on running.customer_id = customer_versions.customer_id
        and running.as_of_date >= customer_versions.valid_from_date
        -- No OR on the open end: it would turn this hash join into a nested loop.
        and running.as_of_date < coalesce(customer_versions.valid_to_date, date '9999-12-31')
),

final as (
    select
        customer_id,
        country_code,
        signup_channel,
        cast(orders_10d as integer) as orders_10d,
        cast(orders_30d as integer) as orders_30d,
        cast(orders_lifetime as integer) as orders_lifetime,
        cast(sessions_30d as integer) as sessions_30d,
        cast(net_sales_30d as decimal(18, 2)) as net_sales_30d,
        cast(lifetime_net_sales as decimal(18, 2)) as lifetime_net_sales,
        case
            when orders_10d > 0 then cast(order_value_10d as double) / cast(orders_10d as double)
        end as avg_order_value_10d,
        as_of_date - last_order_date as days_since_last_order,
        as_of_date - signup_date as tenure_days,
        is_marketing_opt_in,
        as_of_date - signup_date < 30 as is_new_customer,
        is_latest,
        as_of_date,
        signup_date,
    from with_attributes
)

select * from final
