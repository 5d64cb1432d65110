{#- The body of int_customer_presence_intervals (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). -#}
{% macro customer_presence_intervals(order_lines, products) %}
with

order_lines as (
    select * from {{ order_lines }}
),

products as (
    select * from {{ products }}
),

category_events as (
    select
        order_lines.customer_id,
        'category' as measure,
        products.category as distinct_key,
        order_lines.order_date as event_date,
        {{ pit_known_date('order_lines.known_at', 'order_lines.order_date') }} as known_date,
        -- A cancelled order's categories count until its cancellation is known.
        {{ pit_known_date(
            'order_lines.cancellation_known_at', 'cast(order_lines.cancelled_at as date)'
        ) }} as retracted_date
    from order_lines
    inner join products
        on order_lines.product_id = products.product_id
),

keyed_events as (
    select * from category_events
),

{{ pit_distinct_intervals('customer', 'keyed_events', name='intervals') }},

final as (
    select * from intervals
)

select * from final
{% endmacro %}
