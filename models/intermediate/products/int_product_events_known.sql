-- One row per product, event date and known date: the summed measures of the product feature
-- spec (features/products.yml) of the events that happened on event_date and became known on
-- known_date (pit_known_date, the one rule shared with the customers), until retracted_date
-- (a line of an order counts until its cancellation is known). Every windowed and lifetime sum
-- of the product features is computed from this table.
-- Incremental (docs: incremental_orders): a run recomputes every row of each product and event
-- date with an input row that became usable since the newest known or retracted date the table
-- holds (the rows of one product and event date depend on that day's inputs only).
-- A loop of select columns: its tags sit one level out, like a block (see .sqlfluff).
-- sqlfluff:indentation:template_blocks_indent:true
{{ config(
    materialized='incremental',
    unique_key=['product_id', 'event_date']
) }}
{%- set plan = feature_spec('product') %}
{%- set inputs = {
    'order_lines': ref('int_order_lines_netted'),
    'refunds': ref('int_refunds_converted'),
    'returned_units': ref('int_returned_units_capped'),
    'reviews': ref('stg_shop__reviews')
} %}
{#- Each input's event date: the body and the incremental run's changed days read it. -#}
{%- set event_dates = {
    'order_lines': 'order_date',
    'refunds': 'return_date',
    'returned_units': 'order_date',
    'reviews': 'cast(created_at as date)'
} %}
{%- set changed_only = {} %}
{%- if is_incremental() %}
    {%- for name in inputs %}
        {%- do changed_only.update({name: '\n    where '
            ~ pit_in_changed_days('product_id', event_dates[name])}) %}
    {%- endfor %}
    {%- set since = usable_since_last_run(['known_date', 'retracted_date']) %}
    {%- set usable_since = {
        'order_lines': 'known_at >= ' ~ since ~ ' or cancellation_known_at >= ' ~ since,
        'refunds': 'known_at >= ' ~ since,
        'returned_units': 'known_date >= ' ~ since ~ ' or retracted_date >= ' ~ since,
        'reviews': 'known_at >= ' ~ since
    } %}
{%- endif %}

with
{% if is_incremental() %}
-- Found once, read by every input.
changed_days as (
    {{- pit_changed_days('product_id', inputs, event_dates, usable_since) }}
),
{% endif %}
order_lines as (
    select * from {{ inputs['order_lines'] }}{{ changed_only.get('order_lines', '') }}
),

refunds as (
    select * from {{ inputs['refunds'] }}{{ changed_only.get('refunds', '') }}
),

returned_units as (
    select * from {{ inputs['returned_units'] }}{{ changed_only.get('returned_units', '') }}
),

reviews as (
    select * from {{ inputs['reviews'] }}{{ changed_only.get('reviews', '') }}
),

line_events as (
    select
        product_id,
        {{ event_dates['order_lines'] }} as event_date,
        {{ pit_known_date('known_at', event_dates['order_lines']) }} as known_date,
        {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
            as retracted_date,
        {{ pit_measure_columns('product', {'units': 'quantity', 'net_sales': 'net_sales_eur'}) }}
    from order_lines
),

-- Refunds reduce net sales on the return date, whatever the order's date (docs: net_sales).
refund_events as (
    select
        product_id,
        {{ event_dates['refunds'] }} as event_date,
        {{ pit_known_date('known_at', event_dates['refunds']) }} as known_date,
        cast(null as date) as retracted_date,
        {{ pit_measure_columns('product', {'net_sales': '-refund_eur'}) }}
    from refunds
),

-- Returned units count against the purchase they undo: event date = the order's date.
returned_unit_events as (
    select
        product_id,
        {{ event_dates['returned_units'] }} as event_date,
        known_date,
        retracted_date,
        {{ pit_measure_columns('product', {'returned_units': 'returned_units'}) }}
    from returned_units
),

review_events as (
    select
        product_id,
        {{ event_dates['reviews'] }} as event_date,
        {{ pit_known_date('known_at', event_dates['reviews']) }} as known_date,
        cast(null as date) as retracted_date,
        {{ pit_measure_columns('product', {'reviews': '1', 'rating_sum': 'rating'}) }}
    from reviews
),

unioned as (
    select * from line_events
    union all
    select * from refund_events
    union all
    select * from returned_unit_events
    union all
    select * from review_events
),

final as (
    select
        product_id,
        event_date,
        known_date,
        retracted_date,
    {%- for measure in plan.sum_measures %}
        cast(sum({{ measure }}) as {{ plan.measures[measure].data_type }}) as {{ measure }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from unioned
    group by product_id, event_date, known_date, retracted_date
)

select * from final
