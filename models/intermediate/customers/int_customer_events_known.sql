-- One row per customer, event kind, event date and known date: the summed measures of the
-- customer feature spec (features/customers.yml) of the events of that kind that happened on
-- event_date and became known on known_date (pit_known_date: the UTC date the last raw row they
-- need landed, never before they happened) and stopped counting on retracted_date (null:
-- never). An order and its lines count from the day they are known until the day their
-- cancellation is known (the cancellation is an event of its own date, known when its status
-- row landed, that retracts them). Every windowed and lifetime sum of the customer features
-- is computed from this table. Each kind is aggregated on its own (a few measures
-- each) and the kinds are stacked: no wide aggregate over every measure.
-- Incremental (docs: incremental_orders): a run recomputes every row of the customers with an
-- input row that became usable since the newest known or retracted date the table holds.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail'
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
    {%- set changed_customers -%}
        select customer_id from {{ inputs.orders }} where last_known_at >= {{ since }}
        union
        select customer_id from {{ inputs.order_lines }}
        where known_at >= {{ since }} or cancellation_known_at >= {{ since }}
        union
        select customer_id from {{ inputs.refunds }} where known_at >= {{ since }}
        union
        select customer_id from {{ inputs.returned_units }}
        where known_date >= {{ since }} or retracted_date >= {{ since }}
        union
        select customer_id from {{ inputs.sessions }}
        where known_at >= {{ since }} and not is_anonymous
        union
        select customer_id from {{ inputs.reviews }} where known_at >= {{ since }}
    {%- endset %}
    {%- set changed = {} %}
    {%- for name, relation in inputs.items() %}
        {%- do changed.update({name: '(select * from ' ~ relation ~ ' where customer_id in ('
            ~ changed_customers ~ ')) as changed_' ~ name}) %}
    {%- endfor %}
    {%- set inputs = changed %}
{%- endif %}

{{ customer_events_known(**inputs) }}
