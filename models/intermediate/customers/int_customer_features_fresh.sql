-- One row per fresh customer (int_customers_fresh) as of the open day: every feature of
-- features/customers.yml as known by the landing clock, by the closed days' SQL (the
-- model_bodies macros, the same point-in-time engine). A customer's features depend on their own
-- rows alone, except the cross-sectional ranks, which rank a fresh row against the last closed
-- day's population (pit_rank_against). Cost follows what landed since the daily run, not the
-- fresh customers' histories:
--   - order events: the daily run's (int_customer_events_known), with those of each changed
--     order (int_orders_changed_intraday) taken out as the daily run made them and put back as
--     its rows make them now. Events are sums per key (customer, kind, event, known and
--     retraction dates), so netting the three per key gives what the whole history gives; a
--     key netted to zero adds nothing to any sum and, with no positive measure, to no latest
--     date, as a missing key.
--   - distinct counts: the daily run's presence intervals, with those of each (customer,
--     category) a changed order has a line in replaced in the same way (intervals add up per
--     span).
--   - sessions and reviews: restaged, only the days some feature's window reaches
--     (pit_event_horizon_days); customer versions: restaged.
{{ config(materialized='table') }}
{%- set plan = feature_spec('customer') %}
{#- The measures customer_events_known makes of sessions and of reviews: their events older than
    the spec's longest window over them feed no feature of the open day, so they are not read. #}
{%- set session_days = pit_event_horizon_days('customer', ['sessions', 'active_days']) %}
{%- set review_days = pit_event_horizon_days('customer', ['reviews', 'rating_sum']) %}
{%- set open_day = 'cast(' ~ (landing_open_day_start() or 'null') ~ ' as date)' %}

with

fresh as (
    select * from {{ ref('int_customers_fresh') }}
),

changed as (
    select * from {{ ref('int_orders_changed_intraday') }}
),

closed_day_rows as (
    select * from {{ ref('int_customer_features_requested') }}
    where is_latest
),

-- What the daily run built (a refresh rebuilds none of these).
closed_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

closed_order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

closed_refunds as (
    select * from {{ ref('int_refunds_converted') }}
),

closed_returned_units as (
    select * from {{ ref('int_returned_units_capped') }}
),

closed_events as (
    select * from {{ ref('int_customer_events_known') }}
),

closed_intervals as (
    select * from {{ ref('int_customer_presence_intervals') }}
),

-- The order versions (fresh_customer_orders stages them as stg_shop__orders does).
order_versions as (
    select * from {{ ref('base_shop__orders') }}
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

products as (
    select * from {{ ref('stg_shop__products') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

{{ fresh_customer_orders('fresh', 'changed', 'order_versions', 'order_items') }},

fresh_returns as (
    select returns.* from returns
    where returns.order_id in (select fresh_orders.order_id from fresh_orders)
),

fresh_customer_versions as (
    select customer_versions.* from customer_versions
    where customer_versions.customer_id in (select fresh.customer_id from fresh)
),

fresh_sessions as (
    select sessions.* from sessions
    where
        sessions.customer_id in (select fresh.customer_id from fresh)
        {%- if session_days is not none %}
        and cast(sessions.started_at as date) >= {{ pit_add_days(open_day, 1 - session_days) }}
        {%- endif %}
),

fresh_reviews as (
    select reviews.* from reviews
    where
        reviews.customer_id in (select fresh.customer_id from fresh)
        {%- if review_days is not none %}
        and cast(reviews.created_at as date) >= {{ pit_add_days(open_day, 1 - review_days) }}
        {%- endif %}
),

{{ fresh_order_events() }},

fresh_events as (
    select * from order_events_now
    union all
    select * from activity_events
),

{{ fresh_presence_intervals(open_day) }},

fresh_versions as (
    {{ customer_versions_dated('fresh_customer_versions') }}
),

fresh_signed_up as (
    {{ customers_signed_up('fresh_customer_versions') }}
),

open_day as (
    select distinct as_of_date from fresh
),

entities as (
    select
        customer_id,
        signup_date,
        first_known_date as first_date
    from fresh_signed_up
),

{{ pit_running_features(
    'customer',
    events='fresh_events',
    entities='entities',
    spine='open_day',
    intervals='fresh_intervals',
    name='running'
) }},

{{ pit_finish_features('customer', 'running', 'entities', versions='fresh_versions') }},

{{ pit_rank_against('customer', 'features', 'closed_day_rows', name='ranks') }},

final as (
    select
        features.customer_id,
        {% for feature in plan.features if feature.published -%}
        {{ 'ranks' if feature.kind == 'rank' else 'features' }}.{{ feature.name }},
        {% endfor -%}
        features.as_of_date
    from features
    inner join ranks
        on features.customer_id = ranks.customer_id
)

select * from final
