{#- The body of int_recommender_order_lines (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). -#}
{% macro recommender_order_lines(order_lines) %}
with

order_lines as (
    select * from {{ order_lines }}
),

final as (
    select
        customer_id,
        order_id,
        product_id,
        min(order_date) as order_date,
        min({{ pit_known_date('known_at', 'order_date') }}) as known_date,
        min(
            {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
        ) as retracted_date
    from order_lines
    group by customer_id, order_id, product_id
)

select * from final
{% endmacro %}
