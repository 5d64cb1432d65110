{#
    Features that are not plain sums of events — distinct counts and returns matched to the
    purchase they undo — as intervals of as-of dates: the row adds `value` to the feature on every
    as-of date from start_date (inclusive) to end_date (exclusive).
#}
{%- set category_window = 90 -%}
{%- set active_day_window = 30 -%}
{%- set return_window = 90 -%}

with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

refunds as (
    select * from {{ ref('int_refunds_converted') }}
),

sessions as (
    select * from {{ ref('stg_shop__web_sessions') }}
),

purchased_lines as (
    select
        order_lines.order_id,
        order_lines.customer_id,
        order_lines.product_id,
        products.category,
        order_lines.quantity,
        order_lines.order_date,
        cast(order_lines.known_at as date) as known_date,
    from order_lines
    inner join products
        on order_lines.product_id = products.product_id
    where not order_lines.is_cancelled
),

-- A category is in the window on D when the latest purchase of it known by D is inside the
-- window; that latest date only changes on days a purchase of it becomes known.
category_known_days as (
    select
        customer_id,
        category,
        known_date,
        max(order_date) as latest_order_date_that_day,
    from purchased_lines
    group by customer_id, category, known_date
),

category_running as (
    select
        customer_id,
        known_date,
        max(latest_order_date_that_day) over (
            partition by customer_id, category
            order by known_date
            rows between unbounded preceding and current row
        ) as latest_order_date,
        lead(known_date) over (
            partition by customer_id, category
            order by known_date
        ) as next_known_date,
    from category_known_days
),

category_intervals as (
    select
        customer_id,
        'distinct_categories_{{ category_window }}d' as feature,
        1 as value,
        known_date as start_date,
        least(
            coalesce(next_known_date, latest_order_date + {{ category_window }}),
            latest_order_date + {{ category_window }}
        ) as end_date,
    from category_running
),

-- A day is active on D once its first logged-in session is known, while the day is in the window.
active_days as (
    select
        customer_id,
        'active_days_{{ active_day_window }}d' as feature,
        1 as value,
        min(cast(loaded_at as date)) as start_date,
        cast(started_at as date) + {{ active_day_window }} as end_date,
    from sessions
    where not is_anonymous
    group by customer_id, cast(started_at as date)
),

-- Returned units count against the purchase they undo: from the day both the return and the
-- line are known, while the purchase is in the window. Several returns of one line are capped
-- at the line's quantity in the order they became known.
returns_on_lines as (
    select
        purchased_lines.customer_id,
        purchased_lines.order_date,
        purchased_lines.quantity as line_quantity,
        refunds.quantity as returned_quantity,
        greatest(cast(refunds.known_at as date), purchased_lines.known_date) as start_date,
        sum(refunds.quantity) over (
            partition by refunds.order_id, refunds.product_id
            order by refunds.known_at, refunds.return_id
            rows between unbounded preceding and current row
        ) as cumulative_returned,
    from refunds
    inner join purchased_lines
        on refunds.order_id = purchased_lines.order_id
        and refunds.product_id = purchased_lines.product_id
),

returned_units as (
    select
        customer_id,
        'returned_units_{{ return_window }}d' as feature,
        least(cumulative_returned, line_quantity)
            - least(cumulative_returned - returned_quantity, line_quantity) as value,
        start_date,
        order_date + {{ return_window }} as end_date,
    from returns_on_lines
),

unioned as (
    select * from category_intervals
    union all
    select * from active_days
    union all
    select * from returned_units
),

final as (
    select
        customer_id,
        feature,
        cast(value as decimal(18, 2)) as value,
        start_date,
        end_date,
    from unioned
    where start_date < end_date and value <> 0
)

select * from final
