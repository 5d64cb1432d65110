{#- The body of int_order_lines_netted (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). -#}
{% macro order_lines_netted(order_items, orders, currencies) %}
with

order_items as (
    select * from {{ order_items }}
),

orders as (
    select * from {{ orders }}
),

currencies as (
    select * from {{ currencies }}
),

lines_with_orders as (
    select
        order_items.order_item_id,
        order_items.order_id,
        orders.customer_id,
        order_items.product_id,
        orders.currency_code,
        order_items.line_number,
        order_items.quantity,
        order_items.unit_price,
        order_items.discount_amount,
        order_items.quantity * order_items.unit_price - order_items.discount_amount
            as line_net_amount,
        currencies.eur_per_unit,
        orders.is_cancelled,
        orders.ordered_at,
        -- A line is known once its own row and its order have become usable (known_at: the
        -- line's includes its product's landing, the order's its customer's).
        greatest(orders.known_at, order_items.known_at) as known_at,
        orders.cancelled_at,
        orders.cancellation_known_at
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    inner join currencies
        on orders.currency_code = currencies.currency_code
),

final as (
    select
        order_item_id,
        order_id,
        customer_id,
        product_id,
        currency_code,
        line_number,
        quantity,
        unit_price,
        discount_amount,
        line_net_amount,
        {{ to_money('line_net_amount * eur_per_unit') }} as net_sales_eur,
        is_cancelled,
        cast(ordered_at as date) as order_date,
        ordered_at,
        known_at,
        cancelled_at,
        cancellation_known_at
    from lines_with_orders
)

select * from final
{% endmacro %}
