-- One row per product, event date and known date: the summed measures of the product feature
-- spec (features/products.yml) of the events that happened on event_date and became known on
-- known_date (pit_known_date, the one rule shared with the customers), until retracted_date
-- (a line of an order counts until its cancellation is known). Every windowed and lifetime sum
-- of the product features is computed from this table.
-- A loop of select columns: its tags sit one level out, like a block (see .sqlfluff).
-- sqlfluff:indentation:template_blocks_indent:true
{%- set plan = feature_spec('product') %}
with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

refunds as (
    select * from {{ ref('int_refunds_converted') }}
),

returned_units as (
    select * from {{ ref('int_returned_units_capped') }}
),

reviews as (
    select * from {{ ref('stg_shop__reviews') }}
),

line_events as (
    select
        product_id,
        order_date as event_date,
        {{ pit_known_date('known_at', 'order_date') }} as known_date,
        {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
            as retracted_date,
        {{ pit_measure_columns('product', {'units': 'quantity', 'net_sales': 'net_sales_eur'}) }}
    from order_lines
),

-- Refunds reduce net sales on the return date, whatever the order's date (docs: net_sales).
refund_events as (
    select
        product_id,
        return_date as event_date,
        {{ pit_known_date('known_at', 'return_date') }} as known_date,
        cast(null as date) as retracted_date,
        {{ pit_measure_columns('product', {'net_sales': '-refund_eur'}) }}
    from refunds
),

-- Returned units count against the purchase they undo: event date = the order's date.
returned_unit_events as (
    select
        product_id,
        order_date as event_date,
        known_date,
        retracted_date,
        {{ pit_measure_columns('product', {'returned_units': 'returned_units'}) }}
    from returned_units
),

review_events as (
    select
        product_id,
        cast(created_at as date) as event_date,
        {{ pit_known_date('known_at', 'cast(created_at as date)') }} as known_date,
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
