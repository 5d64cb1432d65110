{#- The body of int_returned_units_capped (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). -#}
{% macro returned_units_capped(order_lines, refunds) %}
with

order_lines as (
    select * from {{ order_lines }}
),

refunds as (
    select * from {{ refunds }}
),

-- What a return can be matched to: the units of a product in one order.
bought_order_products as (
    select
        order_id,
        product_id,
        customer_id,
        sum(quantity) as quantity,
        min(order_date) as order_date,
        max({{ pit_known_date('known_at', 'order_date') }}) as known_date,
        max({{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }})
            as retracted_date
    from order_lines
    group by order_id, product_id, customer_id
),

matched as (
    select
        refunds.return_id,
        refunds.order_id,
        refunds.product_id,
        bought_order_products.customer_id,
        refunds.quantity as returned_quantity,
        bought_order_products.quantity as bought_quantity,
        bought_order_products.order_date,
        bought_order_products.retracted_date,
        -- Counted once both the return and the purchase are known.
        greatest(
            {{ pit_known_date('refunds.known_at', 'refunds.return_date') }},
            bought_order_products.known_date
        ) as known_date,
        sum(refunds.quantity) over (
            partition by refunds.order_id, refunds.product_id
            order by refunds.known_at, refunds.return_id
            rows between unbounded preceding and current row
        ) as cumulative_returned
    from refunds
    inner join bought_order_products
        on refunds.order_id = bought_order_products.order_id
            and refunds.product_id = bought_order_products.product_id
),

final as (
    select
        return_id,
        order_id,
        product_id,
        customer_id,
        cast(
            least(cumulative_returned, bought_quantity)
            - least(cumulative_returned - returned_quantity, bought_quantity)
            as integer
        ) as returned_units,
        order_date,
        known_date,
        retracted_date
    from matched
)

select * from final
{% endmacro %}
