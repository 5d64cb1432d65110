{#- The body of int_customer_events_known (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). Either half can be left
    out: the order half (orders, order_lines, refunds, returned_units all none) or the activity
    half (sessions and reviews none); customer_event_kinds names the kinds of each. -#}
{% macro customer_events_known(orders, order_lines, refunds, returned_units, sessions, reviews) %}
{%- set kinds = customer_event_kinds() %}
{%- set dates = customer_event_dates() %}
{%- set parts = [] %}
{%- if orders is not none %}{% do parts.extend(kinds.orders) %}{% endif %}
{%- if sessions is not none %}{% do parts.extend(kinds.activity) %}{% endif %}
with
{%- if orders is not none %}

orders as (
    select * from {{ orders }}
),

order_lines as (
    select * from {{ order_lines }}
),

refunds as (
    select * from {{ refunds }}
),

returned_units as (
    select * from {{ returned_units }}
),
{%- endif %}
{%- if sessions is not none %}

sessions as (
    select * from {{ sessions }}
),

reviews as (
    select * from {{ reviews }}
),
{%- endif %}
{%- if orders is not none %}

dated_orders as (
    select
        customer_id,
        {{ dates.orders }} as event_date,
        {{ pit_known_date('known_at', dates.orders) }} as known_date,
        {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
            as retracted_date
    from orders
),

-- Net sales are line values on the order date minus refunds on the return date (docs: net_sales).
dated_lines as (
    select
        customer_id,
        {{ dates.order_lines }} as event_date,
        {{ pit_known_date('known_at', dates.order_lines) }} as known_date,
        {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
            as retracted_date,
        net_sales_eur,
        quantity
    from order_lines
),

dated_refunds as (
    select
        customer_id,
        {{ dates.refunds }} as event_date,
        {{ pit_known_date('known_at', dates.refunds) }} as known_date,
        refund_eur
    from refunds
),

order_events as (
    select
        customer_id,
        'order' as event_kind,
        event_date,
        known_date,
        retracted_date,
        {{ pit_measure_columns('customer', {'orders': 'count(*)'}) }}
    from dated_orders
    group by customer_id, event_date, known_date, retracted_date
),

order_line_events as (
    select
        customer_id,
        'order_line' as event_kind,
        event_date,
        known_date,
        retracted_date,
        {{ pit_measure_columns('customer', {
            'order_value': 'sum(net_sales_eur)',
            'net_sales': 'sum(net_sales_eur)',
            'units': 'sum(quantity)'}) }}
    from dated_lines
    group by customer_id, event_date, known_date, retracted_date
),

refund_events as (
    select
        customer_id,
        'refund' as event_kind,
        event_date,
        known_date,
        cast(null as date) as retracted_date,
        {{ pit_measure_columns('customer', {'net_sales': '-sum(refund_eur)'}) }}
    from dated_refunds
    group by customer_id, event_date, known_date
),

-- Returned units count against the purchase they undo: event date = the order's date.
returned_units_events as (
    select
        customer_id,
        'returned_units' as event_kind,
        {{ dates.returned_units }} as event_date,
        known_date,
        retracted_date,
        {{ pit_measure_columns('customer', {'returned_units': 'sum(returned_units)'}) }}
    from returned_units
    group by customer_id, {{ dates.returned_units }}, known_date, retracted_date
),
{%- endif %}
{%- if sessions is not none %}

dated_sessions as (
    select
        customer_id,
        {{ dates.sessions }} as event_date,
        {{ pit_known_date('known_at', dates.sessions) }} as known_date
    from sessions
    where not is_anonymous
),

dated_reviews as (
    select
        customer_id,
        {{ dates.reviews }} as event_date,
        {{ pit_known_date('known_at', dates.reviews) }} as known_date,
        rating
    from reviews
),

session_events as (
    select
        customer_id,
        'session' as event_kind,
        event_date,
        known_date,
        cast(null as date) as retracted_date,
        {{ pit_measure_columns('customer', {'sessions': 'count(*)'}) }}
    from dated_sessions
    group by customer_id, event_date, known_date
),

-- A day with logged-in sessions is one event, known when its first session landed: summed over
-- a window it counts distinct active days.
active_day_events as (
    select
        customer_id,
        'active_day' as event_kind,
        event_date,
        min(known_date) as known_date,
        cast(null as date) as retracted_date,
        {{ pit_measure_columns('customer', {'active_days': '1'}) }}
    from dated_sessions
    group by customer_id, event_date
),

review_events as (
    select
        customer_id,
        'review' as event_kind,
        event_date,
        known_date,
        cast(null as date) as retracted_date,
        {{ pit_measure_columns('customer', {'reviews': 'count(*)', 'rating_sum': 'sum(rating)'}) }}
    from dated_reviews
    group by customer_id, event_date, known_date
),
{%- endif %}

final as (
{%- for kind in parts %}
    select * from {{ kind }}_events
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
)

select * from final
{% endmacro %}

{#- The event kinds of int_customer_events_known by the half that makes them (a CTE
    `<kind>_events` each): the order half, from orders, their lines, refunds and returned
    units, and the activity half, from sessions and reviews. -#}
{% macro customer_event_kinds() %}
    {{ return({
        'orders': ['order', 'order_line', 'refund', 'returned_units'],
        'activity': ['session', 'active_day', 'review'],
    }) }}
{% endmacro %}

{#- The event date of each input's rows (its column or expression): what customer_events_known
    dates its events by, and what int_customer_events_known's incremental run recomputes by. -#}
{% macro customer_event_dates() %}
    {{ return({
        'orders': 'cast(ordered_at as date)',
        'order_lines': 'order_date',
        'refunds': 'return_date',
        'returned_units': 'order_date',
        'sessions': 'cast(started_at as date)',
        'reviews': 'cast(created_at as date)',
    }) }}
{% endmacro %}
