{#
    Point-in-time windows as running sums of deltas.

    An event happens on `event_date` and is known from `known_date` (never earlier). An N-day
    window feature at as-of date D counts the events with event_date in D-N+1 .. D known by D,
    so each event is inside the window exactly on the days known_date .. event_date + N - 1: it
    adds its value on known_date and removes it on event_date + N. Lifetime features only add.
    Presence intervals (distinct counts, returned units) add on start_date and remove on
    end_date. A running sum of the deltas over the days gives every feature for every day in
    one pass, late-landed rows included.
#}
{%- set windowed_measures = {
    'orders': [7, 10, 30, 90],
    'order_value': [10],
    'net_sales': [7, 30, 90],
    'units': [90],
    'sessions': [30],
    'reviews': [90],
    'rating_sum': [90],
} -%}
{%- set lifetime_measures = ['orders', 'net_sales'] -%}
{%- set delta_types = {'order_value': 'decimal(18, 2)', 'net_sales': 'decimal(18, 2)'} -%}
{%- set interval_features = ['distinct_categories_90d', 'active_days_30d', 'returned_units_90d'] -%}

with

events as (
    select * from {{ ref('int_customer_events_known') }}
),

intervals as (
    select * from {{ ref('int_customer_presence_intervals') }}
),

-- Net sales are sales minus refunds, each on its own date (docs: net_sales).
measured_events as (
    select customer_id, measure, value, event_date, known_date,
    from events
    where measure <> 'refunds'
    union all
    select customer_id, 'net_sales' as measure, value, event_date, known_date,
    from events
    where measure = 'order_value'
    union all
    select customer_id, 'net_sales' as measure, -value as value, event_date, known_date,
    from events
    where measure = 'refunds'
),

-- Events of one kind known and happening on the same days move every window together.
daily_events as (
    select
        customer_id,
        measure,
        sum(value) as value,
        event_date,
        known_date,
    from measured_events
    group by customer_id, measure, event_date, known_date
),

window_spans as (
{%- for measure, windows in windowed_measures.items() %}
    {%- for n in windows %}
    select
        customer_id,
        '{{ measure }}_{{ n }}d' as feature,
        value,
        known_date as start_date,
        event_date + {{ n }} as end_date,
    from daily_events
    where measure = '{{ measure }}'
    union all
    {%- endfor %}
{%- endfor %}
{%- for measure in lifetime_measures %}
    select
        customer_id,
        '{{ measure }}_lifetime' as feature,
        value,
        known_date as start_date,
        null::date as end_date,
    from daily_events
    where measure = '{{ measure }}'
    union all
{%- endfor %}
    select customer_id, feature, value, start_date, end_date,
    from intervals
),

deltas as (
    select customer_id, feature, start_date as change_date, value as delta,
    from window_spans
    where end_date is null or start_date < end_date
    union all
    select customer_id, feature, end_date as change_date, -value as delta,
    from window_spans
    where end_date is not null and start_date < end_date
),

last_order_known as (
    select
        customer_id,
        known_date as change_date,
        max(event_date) as last_order_date,
    from events
    where measure = 'orders'
    group by customer_id, known_date
),

-- Narrow types: sums of DECIMAL(38)/HUGEINT are several times slower in the running totals.
pivoted as (
    select
        customer_id,
        change_date,
{%- for measure, windows in windowed_measures.items() %}
    {%- for n in windows %}
        cast(sum(delta) filter (where feature = '{{ measure }}_{{ n }}d')
            as {{ delta_types.get(measure, 'integer') }}) as {{ measure }}_{{ n }}d_delta,
    {%- endfor %}
{%- endfor %}
{%- for measure in lifetime_measures %}
        cast(sum(delta) filter (where feature = '{{ measure }}_lifetime')
            as {{ delta_types.get(measure, 'integer') }}) as {{ measure }}_lifetime_delta,
{%- endfor %}
{%- for feature in interval_features %}
        cast(sum(delta) filter (where feature = '{{ feature }}') as integer) as {{ feature }}_delta,
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
