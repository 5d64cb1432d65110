-- One row per customer per as-of date, from the day the customer became known (their first
-- version landed; normally the signup day) to the latest complete day.
-- Every value uses only rows that had landed by the end of the as-of date
-- (docs: customer_feature_semantics).
{%- set running_features = [
    'orders_7d', 'orders_10d', 'orders_30d', 'orders_90d', 'orders_lifetime',
    'order_value_10d', 'net_sales_7d', 'net_sales_30d', 'net_sales_90d', 'net_sales_lifetime',
    'units_90d', 'returned_units_90d', 'sessions_30d', 'active_days_30d',
    'reviews_90d', 'rating_sum_90d', 'distinct_categories_90d',
] %}
{%- set money_features = ['order_value_10d', 'net_sales_7d', 'net_sales_30d', 'net_sales_90d', 'net_sales_lifetime'] %}

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

-- Changes known before the customer is (an order that landed before its customer's record)
-- count from the customer's first row, so nothing known is dropped from the running sums.
-- Every customer also gets an empty change on that first day, where their rows begin.
changes as (
    select
        activity_deltas.customer_id,
        greatest(activity_deltas.change_date, customers.first_known_date) as as_of_date,
        activity_deltas.* exclude (customer_id, change_date),
    from activity_deltas
    inner join customers
        on activity_deltas.customer_id = customers.customer_id
    union all by name
    select
        customer_id,
        first_known_date as as_of_date,
    from customers
),

changes_per_day as (
    select
        customer_id,
        as_of_date,
{%- for feature in running_features %}
        cast(sum({{ feature }}_delta) as {{ 'decimal(18, 2)' if feature in money_features else 'integer' }}) as {{ feature }}_delta,
{%- endfor %}
        max(last_order_date) as last_order_date,
    from changes
    group by customer_id, as_of_date
),

-- Running totals on the days something changes only (a fraction of all customer days) ...
running_on_change_days as (
    select
        customer_id,
        as_of_date,
{%- for feature in running_features %}
        cast(sum(coalesce({{ feature }}_delta, 0)) over customer_history
            as {{ 'decimal(18, 2)' if feature in money_features else 'integer' }}) as {{ feature }},
{%- endfor %}
        max(last_order_date) over customer_history as last_order_date,
        lead(as_of_date) over (
            partition by customer_id order by as_of_date
        ) as next_change_date,
    from changes_per_day
    window customer_history as (
        partition by customer_id
        order by as_of_date
        rows between unbounded preceding and current row
    )
),

-- ... then each holds until the next change: one row per customer per day up to the last day.
running as (
    select
        running_on_change_days.* exclude (as_of_date, next_change_date),
        cast(spread.as_of_date as date) as as_of_date,
    from running_on_change_days
    cross join (select max(as_of_date) as last_date from feature_dates) as bounds
    cross join unnest(
        generate_series(
            running_on_change_days.as_of_date,
            least(
                coalesce(running_on_change_days.next_change_date - 1, bounds.last_date),
                bounds.last_date
            ),
            interval 1 day
        )
    ) as spread(as_of_date)
    where running_on_change_days.as_of_date <= bounds.last_date
),

with_attributes as (
    select
        running.*,
        customers.signup_date,
        running.as_of_date = feature_dates_latest.last_date as is_latest,
        customer_versions.country_code,
        customer_versions.signup_channel,
        customer_versions.is_marketing_opt_in,
    from running
    inner join customers
        on running.customer_id = customers.customer_id
    cross join (select max(as_of_date) as last_date from feature_dates) as feature_dates_latest
    left join customer_versions
        on running.customer_id = customer_versions.customer_id
        and running.as_of_date >= customer_versions.valid_from_date
        -- No OR on the open end: it would turn this hash join into a nested loop.
        and running.as_of_date < coalesce(customer_versions.valid_to_date, date '9999-12-31')
),

ranked as (
    select
        *,
        percent_rank() over (
            partition by as_of_date
            order by orders_30d, net_sales_30d, sessions_30d
        ) as activity_rank_30d,
    from with_attributes
),

final as (
    select
        customer_id,
        country_code,
        signup_channel,
        cast(orders_7d as integer) as orders_7d,
        cast(orders_10d as integer) as orders_10d,
        cast(orders_30d as integer) as orders_30d,
        cast(orders_90d as integer) as orders_90d,
        cast(orders_lifetime as integer) as orders_lifetime,
        cast(net_sales_7d as decimal(18, 2)) as net_sales_7d,
        cast(net_sales_30d as decimal(18, 2)) as net_sales_30d,
        cast(net_sales_90d as decimal(18, 2)) as net_sales_90d,
        cast(net_sales_lifetime as decimal(18, 2)) as lifetime_net_sales,
        case
            when orders_10d > 0 then cast(order_value_10d as double) / cast(orders_10d as double)
        end as avg_order_value_10d,
        as_of_date - last_order_date as days_since_last_order,
        cast(distinct_categories_90d as integer) as distinct_categories_90d,
        case
            when units_90d > 0 then cast(returned_units_90d as double) / cast(units_90d as double)
        end as return_rate_90d,
        cast(reviews_90d as integer) as reviews_90d,
        case
            when reviews_90d > 0 then cast(rating_sum_90d as double) / cast(reviews_90d as double)
        end as avg_rating_90d,
        cast(sessions_30d as integer) as sessions_30d,
        cast(active_days_30d as integer) as active_days_30d,
        activity_rank_30d,
        as_of_date - signup_date as tenure_days,
        is_marketing_opt_in,
        as_of_date - signup_date < 30 as is_new_customer,
        orders_90d > 0 as is_active_customer,
        orders_lifetime > 0 and orders_90d = 0 as is_churned_customer,
        is_latest,
        as_of_date,
        signup_date,
    from ranked
)

select * from final
