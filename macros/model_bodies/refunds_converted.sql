{#- The body of int_refunds_converted (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). -#}
{% macro refunds_converted(returns, orders, currencies) %}
with

returns as (
    select * from {{ returns }}
),

orders as (
    select * from {{ orders }}
),

currencies as (
    select * from {{ currencies }}
),

returns_with_orders as (
    select
        returns.return_id,
        returns.order_id,
        orders.customer_id,
        returns.product_id,
        returns.quantity,
        returns.refund_amount,
        currencies.eur_per_unit,
        returns.returned_at,
        greatest(orders.known_at, returns.known_at) as known_at
    from returns
    inner join orders
        on returns.order_id = orders.order_id
    inner join currencies
        on orders.currency_code = currencies.currency_code
),

final as (
    select
        return_id,
        order_id,
        customer_id,
        product_id,
        quantity,
        refund_amount,
        {{ to_money('refund_amount * eur_per_unit') }} as refund_eur,
        cast(returned_at as date) as return_date,
        returned_at,
        known_at
    from returns_with_orders
)

select * from final
{% endmacro %}
