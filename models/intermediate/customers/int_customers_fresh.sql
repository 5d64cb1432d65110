-- One row per fresh customer: a customer with a staged row that became usable (known_at: it
-- landed, or a parent it names landed) on the open day (the landing clock's day,
-- landing_clock), with that day as the as-of date of their fresh features.
-- A row of an order, its lines or returns makes the order's customer fresh. Empty without a
-- clock or before any row of the open day has landed. Everything a fresh customer's features,
-- score and recommendations depend on is theirs (docs: intraday_freshness), so an intraday
-- refresh recomputes these customers only.
{{ config(materialized='table') }}
{#- Without a clock nothing is fresh: no row landed at or after a null start. #}
{%- set open_day_start = landing_open_day_start() or 'cast(null as timestamp)' %}

with

-- The orders with a row landed since the daily run (a superset of those with one landed on
-- the open day), with their staged versions as stg_shop__orders reads them: that table is the
-- daily run's.
changed as (
    select * from {{ ref('int_orders_changed_intraday') }}
),

order_versions as (
    select * from {{ ref('base_shop__orders') }}
    where id in (select changed.order_id from changed)
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

customer_versions as (
    select * from {{ ref('stg_shop__customers') }}
),

sessions as (
    select * from {{ ref('stg_shop__web_sessions') }}
),

reviews as (
    select * from {{ ref('stg_shop__reviews') }}
),

touched_order_ids as (
    select order_versions.id as order_id from order_versions
    where
        order_versions.quarantine_rule is null
        and order_versions.known_at >= {{ open_day_start }}
    union
    select order_items.order_id from order_items
    where
        order_items.known_at >= {{ open_day_start }}
        and order_items.order_id in (select changed.order_id from changed)
    union
    select returns.order_id from returns
    where
        returns.known_at >= {{ open_day_start }}
        and returns.order_id in (select changed.order_id from changed)
),

touched_order_versions as (
    select order_versions.*
    from order_versions
    where order_versions.id in (select touched_order_ids.order_id from touched_order_ids)
),

-- The order's customer as stg_shop__orders decides it (its first version's).
touched_orders as (
    {{ shop_orders_from_versions('touched_order_versions') }}
),

touched as (
    select touched_orders.customer_id from touched_orders
    union
    select customer_versions.customer_id from customer_versions
    where customer_versions.loaded_at >= {{ open_day_start }}
    union
    select sessions.customer_id from sessions
    where sessions.known_at >= {{ open_day_start }} and not sessions.is_anonymous
    union
    select reviews.customer_id from reviews
    where reviews.known_at >= {{ open_day_start }}
),

final as (
    select
        touched.customer_id,
        cast({{ open_day_start }} as date) as as_of_date
    from touched
    -- Known: a customer row has landed (an order without one is quarantined upstream).
    where touched.customer_id in (select customer_versions.customer_id from customer_versions)
)

select * from final
