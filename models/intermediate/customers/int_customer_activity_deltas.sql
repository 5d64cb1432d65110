{#
    Point-in-time windows as running sums of deltas.

    An event (order, order line, refund, session) happens on `event_date` and becomes known on
    `known_date` (the day its last row landed; never before `event_date`). An N-day window feature
    at as-of date D counts the events with event_date in D-N+1 .. D that are known by D, so each
    event is inside the window exactly on the days known_date .. event_date + N - 1. It therefore
    adds its value on known_date and removes it on event_date + N; a running sum of these deltas
    over the days gives the windowed feature for every day in one pass, late-landed rows included.
    Lifetime features only ever add.
#}
{%- set windowed_measures = {
    'orders': [10, 30],
    'order_value': [10],
    'net_sales': [30],
    'sessions': [30],
} -%}
{%- set lifetime_measures = ['orders', 'net_sales'] -%}

with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

refunds as (
    select * from {{ ref('int_refunds_converted') }}
),

sessions as (
    select * from {{ ref('stg_shop__web_sessions') }}
),

order_events as (
    select
        customer_id,
        'orders' as measure,
        cast(ordered_at as date) as event_date,
        cast(loaded_at as date) as known_date,
        cast(1 as decimal(18, 2)) as value,
    from orders
    where not is_cancelled
),

-- Order value: net sales of an order's lines before refunds (docs: order_value).
order_value_events as (
    select
        customer_id,
        'order_value' as measure,
        order_date as event_date,
        cast(known_at as date) as known_date,
        net_sales_eur as value,
    from order_lines
    where not is_cancelled
),

net_sales_events as (
    select
        customer_id,
        'net_sales' as measure,
        event_date,
        known_date,
        value,
    from order_value_events
    union all
    select
        customer_id,
        'net_sales' as measure,
        return_date as event_date,
        cast(known_at as date) as known_date,
        -refund_eur as value,
    from refunds
),

session_events as (
    select
        customer_id,
        'sessions' as measure,
        cast(started_at as date) as event_date,
        cast(loaded_at as date) as known_date,
        cast(1 as decimal(18, 2)) as value,
    from sessions
    where not is_anonymous
),

events as (
    select * from order_events
    union all
    select * from order_value_events
    union all
    select * from net_sales_events
    union all
    select * from session_events
),

deltas as (
{%- for measure, windows in windowed_measures.items() %}
    {%- for n in windows %}
    select
        customer_id,
        '{{ measure }}_{{ n }}d' as feature,
        known_date as change_date,
        value as delta,
    from events
    where measure = '{{ measure }}' and known_date < event_date + {{ n }}
    union all
    select
        customer_id,
        '{{ measure }}_{{ n }}d' as feature,
        event_date + {{ n }} as change_date,
        -value as delta,
    from events
    where measure = '{{ measure }}' and known_date < event_date + {{ n }}
    union all
    {%- endfor %}
{%- endfor %}
{%- for measure in lifetime_measures %}
    select
        customer_id,
        '{{ measure }}_lifetime' as feature,
        known_date as change_date,
        value as delta,
    from events
    where measure = '{{ measure }}'
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}
),

last_order_known as (
    select
        customer_id,
        known_date as change_date,
        max(event_date) as last_order_date,
    from order_events
    group by customer_id, known_date
),

pivoted as (
    select
        customer_id,
        change_date,
{%- for measure, windows in windowed_measures.items() %}
    {%- for n in windows %}
        sum(delta) filter (where feature = '{{ measure }}_{{ n }}d') as {{ measure }}_{{ n }}d_delta,
    {%- endfor %}
{%- endfor %}
{%- for measure in lifetime_measures %}
        sum(delta) filter (where feature = '{{ measure }}_lifetime') as {{ measure }}_lifetime_delta,
{%- endfor %}
    from deltas
    group by customer_id, change_date
),

final as (
    select
        coalesce(pivoted.customer_id, last_order_known.customer_id) as customer_id,
        coalesce(pivoted.change_date, last_order_known.change_date) as change_date,
        pivoted.* exclude (customer_id, change_date),
        last_order_known.last_order_date,
    from pivoted
    full outer join last_order_known
        on pivoted.customer_id = last_order_known.customer_id
        and pivoted.change_date = last_order_known.change_date
)

select * from final
