{#-
    CTEs (no leading `with`) of int_customer_features_fresh: the fresh customers' order events
    as known now (`order_events_now`), from the daily run's events (`closed_events`) with each
    changed order's events taken out as the daily run made them (from `closed_orders`,
    `closed_order_lines`, `closed_refunds`, `closed_returned_units`) and put back as its rows
    make them now (from `fresh_orders`, `fresh_order_items`, `fresh_returns`, `currencies`),
    and their activity events (`activity_events`, from `fresh_sessions`, `fresh_reviews`).
    Reads those CTEs and `fresh`, `changed` of the model. Also emits `fresh_order_lines` and
    `replaced_order_lines`, which fresh_presence_intervals reads.
-#}
{% macro fresh_order_events() %}
{%- set plan = feature_spec('customer') %}
{%- set order_kinds = customer_event_kinds().orders %}
{%- set event_key = ['customer_id', 'event_kind', 'event_date', 'known_date', 'retracted_date'] %}
{%- set event_measures = {} %}
{%- for measure in plan.sum_measures %}
{%- do event_measures.update({measure: plan.measures[measure].data_type}) %}
{%- endfor %}
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
    event_measures, name='order_events_now', split_on=['customer_id', 'event_date']) }}
{%- endmacro %}

{#-
    CTEs (no leading `with`) of int_customer_features_fresh ending in `fresh_intervals`: the
    fresh customers' presence intervals (distinct counts) as known on `open_day`, from the
    daily run's (`closed_intervals`) with those of the customers a changed order has a line of
    recomputed from the daily run's lines (`closed_order_lines`, `replaced_order_lines`) and
    from the same with the changed orders restaged (`fresh_order_lines`). Reads those CTEs and
    `fresh`, `changed`, `products` of the model.
-#}
{% macro fresh_presence_intervals(open_day) %}
{%- set running = pit_running_columns('customer') %}
{%- set category_days = pit_event_horizon_days('customer', ['category']) %}
{%- set interval_key = ['customer_id', 'start_date', 'end_date'] %}
{%- set interval_measures = {} %}
{%- for column in running.distinct %}
{%- do interval_measures.update({column.name: 'integer'}) %}
{%- endfor %}
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
    interval_key, interval_measures, name='fresh_intervals') }}
{%- endmacro %}
