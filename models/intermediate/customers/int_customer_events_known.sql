-- One row per customer, event date and known date: the summed measures of the customer
-- feature spec (features/customers.yml) of the events that happened on event_date and became
-- known on known_date (pit_known_date: the UTC date the last raw row they need landed, never
-- before they happened). Every windowed and lifetime sum is computed from this table.
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

returned_units as (
    select * from {{ ref('int_returned_units_capped') }}
),

sessions as (
    select * from {{ ref('stg_shop__web_sessions') }}
),

reviews as (
    select * from {{ ref('stg_shop__reviews') }}
),

order_events as (
    select
        customer_id,
        cast(ordered_at as date) as event_date,
        {{ pit_known_date('loaded_at', 'cast(ordered_at as date)') }} as known_date,
        {{ pit_measure_columns('customer', {'orders': '1'}) }}
    from orders
    where not is_cancelled
),

-- Net sales are line values on the order date minus refunds on the return date (docs: net_sales).
line_events as (
    select
        customer_id,
        order_date as event_date,
        {{ pit_known_date('known_at', 'order_date') }} as known_date,
        {{ pit_measure_columns('customer', {
            'order_value': 'net_sales_eur', 'net_sales': 'net_sales_eur', 'units': 'quantity'}) }}
    from order_lines
    where not is_cancelled
),

refund_events as (
    select
        customer_id,
        return_date as event_date,
        {{ pit_known_date('known_at', 'return_date') }} as known_date,
        {{ pit_measure_columns('customer', {'net_sales': '-refund_eur'}) }}
    from refunds
),

-- Returned units count against the purchase they undo: event date = the order's date.
returned_unit_events as (
    select
        customer_id,
        order_date as event_date,
        known_date,
        {{ pit_measure_columns('customer', {'returned_units': 'returned_units'}) }}
    from returned_units
),

session_events as (
    select
        customer_id,
        cast(started_at as date) as event_date,
        {{ pit_known_date('loaded_at', 'cast(started_at as date)') }} as known_date,
        {{ pit_measure_columns('customer', {'sessions': '1'}) }}
    from sessions
    where not is_anonymous
),

review_events as (
    select
        customer_id,
        cast(created_at as date) as event_date,
        {{ pit_known_date('loaded_at', 'cast(created_at as date)') }} as known_date,
        {{ pit_measure_columns('customer', {'reviews': '1', 'rating_sum': 'rating'}) }}
    from reviews
),

unioned as (
    select * from order_events
    union all
    select * from line_events
    union all
    select * from refund_events
    union all
    select * from returned_unit_events
    union all
    select * from session_events
    union all
    select * from review_events
),

final as (
    select
        customer_id,
        event_date,
        known_date,
    {%- set plan = feature_spec('customer') %}
    {%- for measure in plan.sum_measures %}
        cast(sum({{ measure }}) as {{ plan.measures[measure].data_type }}) as {{ measure }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from unioned
    group by customer_id, event_date, known_date
)

select * from final
