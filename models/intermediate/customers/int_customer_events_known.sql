-- One row per customer, event kind, event date and known date: the summed measures of the
-- customer feature spec (features/customers.yml) of the events of that kind that happened on
-- event_date and became known on known_date (pit_known_date: the UTC date the last raw row they
-- need landed, never before they happened) and stopped counting on retracted_date (null:
-- never). An order and its lines count from the day they are known until the day their
-- cancellation is known (the cancellation is an event of its own date, known when its status
-- row landed, that retracts them). Every windowed and lifetime sum of the customer features
-- is computed from this table. Each kind is aggregated on its own (a few measures
-- each) and the kinds are stacked: no wide aggregate over every measure.
-- Incremental (docs: incremental_orders): a run recomputes every row of each customer and event
-- date with an input row that became usable since the newest known or retracted date the table
-- holds (the rows of one customer and event date depend on that day's inputs only).
{{ config(
    materialized='incremental',
    unique_key=['customer_id', 'event_date']
) }}

{%- set inputs = {
    'orders': ref('stg_shop__orders'),
    'order_lines': ref('int_order_lines_netted'),
    'refunds': ref('int_refunds_converted'),
    'returned_units': ref('int_returned_units_capped'),
    'sessions': ref('stg_shop__web_sessions'),
    'reviews': ref('stg_shop__reviews')
} %}
{%- if is_incremental() %}
    {#- Dates, not times: a known or retracted date is the date of a known_at (events never
        happen after they land: future_timestamp), so its start is a usable_since_last_run. -#}
    {%- set since = usable_since_last_run(['known_date', 'retracted_date']) %}
    {%- set dates = customer_event_dates() %}
    {%- set usable_since = {
        'orders': 'last_known_at >= ' ~ since,
        'order_lines': 'known_at >= ' ~ since ~ ' or cancellation_known_at >= ' ~ since,
        'refunds': 'known_at >= ' ~ since,
        'returned_units': 'known_date >= ' ~ since ~ ' or retracted_date >= ' ~ since,
        'sessions': 'known_at >= ' ~ since ~ ' and not is_anonymous',
        'reviews': 'known_at >= ' ~ since
    } %}
    {%- set changed = {} %}
    {%- for name, relation in inputs.items() %}
        {%- do changed.update({name: '(select * from ' ~ relation ~ ' where '
            ~ pit_in_changed_days('customer_id', dates[name]) ~ ') as changed_' ~ name}) %}
    {%- endfor %}

with

-- Found once, read by every input (a CTE read six times is materialised).
changed_days as (
    {{- pit_changed_days('customer_id', inputs, dates, usable_since) }}
),

final as (
    {{ customer_events_known(**changed) | indent(4) }}
)

select * from final
{%- else %}

{{ customer_events_known(**inputs) }}
{%- endif %}
