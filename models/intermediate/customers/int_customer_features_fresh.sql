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
{%- set running = pit_running_columns('customer') %}
{%- set order_kinds = customer_event_kinds().orders %}
{#- The measures customer_events_known makes of sessions and of reviews: their events older than
    the spec's longest window over them feed no feature of the open day, so they are not read. #}
{%- set session_days = pit_event_horizon_days('customer', ['sessions', 'active_days']) %}
{%- set review_days = pit_event_horizon_days('customer', ['reviews', 'rating_sum']) %}
{%- set category_days = pit_event_horizon_days('customer', ['category']) %}
{%- set open_day = 'cast(' ~ (landing_open_day_start() or 'null') ~ ' as date)' %}
{%- set event_key = ['customer_id', 'event_kind', 'event_date', 'known_date', 'retracted_date'] %}
{%- set interval_key = ['customer_id', 'start_date', 'end_date'] %}
{%- set event_measures = {} %}
{%- for measure in plan.sum_measures %}
{%- do event_measures.update({measure: plan.measures[measure].data_type}) %}
{%- endfor %}
{%- set interval_measures = {} %}
{%- for column in running.distinct %}
{%- do interval_measures.update({column.name: 'integer'}) %}
{%- endfor %}

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

-- The fresh customers' changed orders as their rows make them now ...
fresh_order_lines as (
    {{ order_lines_netted('fresh_order_items', 'fresh_orders', 'currencies') }}
),

fresh_refunds as (
    {{ refunds_converted('fresh_returns', 'fresh_orders', 'currencies') }}
),

fresh_returned_units as (
    {{ returned_units_capped('fresh_order_lines', 'fresh_refunds') }}
),

restaged_events as (
    {{ customer_events_known('fresh_orders', 'fresh_order_lines', 'fresh_refunds',
        'fresh_returned_units', none, none) }}
),

-- ... and as the daily run made them (the rows its events hold for them).
{% for part in ['orders', 'order_lines', 'refunds', 'returned_units'] -%}
replaced_{{ part }} as (
    select closed_{{ part }}.* from closed_{{ part }}
    where
        closed_{{ part }}.order_id in (select changed.order_id from changed)
        and closed_{{ part }}.customer_id in (select fresh.customer_id from fresh)
),

{% endfor -%}
replaced_events as (
    {{ customer_events_known('replaced_orders', 'replaced_order_lines', 'replaced_refunds',
        'replaced_returned_units', none, none) }}
),

activity_events as (
    {{ customer_events_known(none, none, none, none, 'fresh_sessions', 'fresh_reviews') }}
),

kept_order_events as (
    select closed_events.* from closed_events
    where
        closed_events.customer_id in (select fresh.customer_id from fresh)
        and closed_events.event_kind in (
            {%- for kind in order_kinds %}
            '{{ kind }}'{{ ',' if not loop.last }}
            {%- endfor %}
        )
),

-- Netted only on the (customer, event date) a changed order has events on.
{{ net_replaced_rows('kept_order_events', 'replaced_events', 'restaged_events', event_key,
    event_measures, name='order_events_now', split_on=['customer_id', 'event_date']) }},

fresh_events as (
    select * from order_events_now
    union all
    select * from activity_events
),

-- Distinct counts: the intervals of the customers a changed order has a line of, made from the
-- daily run's lines and from the same lines with the changed orders restaged (the two agree
-- on every category no changed line is in). An interval adds 1 on the days it spans, so of
-- both only what spans the open day counts: the lines whose order date some window over
-- categories still reaches on it.
horizon_lines_before as (
    select replaced_order_lines.* from replaced_order_lines
    {%- if category_days is not none %}
    where replaced_order_lines.order_date >= {{ pit_add_days(open_day, 1 - category_days) }}
    {%- endif %}
),

horizon_lines_now as (
    select fresh_order_lines.* from fresh_order_lines
    {%- if category_days is not none %}
    where fresh_order_lines.order_date >= {{ pit_add_days(open_day, 1 - category_days) }}
    {%- endif %}
),

interval_customers as (
    select horizon_lines_before.customer_id from horizon_lines_before
    union
    select horizon_lines_now.customer_id from horizon_lines_now
),

interval_lines_before as (
    select closed_order_lines.*
    from closed_order_lines
    where
        closed_order_lines.customer_id in (
            select interval_customers.customer_id from interval_customers
        )
        {%- if category_days is not none %}
        and closed_order_lines.order_date >= {{ pit_add_days(open_day, 1 - category_days) }}
        {%- endif %}
),

interval_lines_now as (
    select interval_lines_before.* from interval_lines_before
    where interval_lines_before.order_id not in (select changed.order_id from changed)
    union all
    select * from horizon_lines_now
),

fresh_closed_intervals as (
    select closed_intervals.* from closed_intervals
    where
        closed_intervals.customer_id in (select fresh.customer_id from fresh)
        and (closed_intervals.end_date is null or closed_intervals.end_date > {{ open_day }})
),

replaced_intervals as (
    {{ customer_presence_intervals('interval_lines_before', 'products') }}
),

restaged_intervals as (
    {{ customer_presence_intervals('interval_lines_now', 'products') }}
),

{{ net_replaced_rows('fresh_closed_intervals', 'replaced_intervals', 'restaged_intervals',
    interval_key, interval_measures, name='fresh_intervals') }},

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
