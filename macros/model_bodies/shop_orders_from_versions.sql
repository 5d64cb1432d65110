{#- The body of stg_shop__orders (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). -#}
{% macro shop_orders_from_versions(order_versions) %}
with

checked as (
    select * from {{ order_versions }}
    where quarantine_rule is null
),

final as (
    select
        id as order_id,
        min_by(customer_id, updated_at) as customer_id,
        min_by(channel, updated_at) as channel,
        max_by(status, updated_at) as order_status,
        min_by(currency, updated_at) as currency_code,
        min_by(discount_code, updated_at) as discount_code,
        min_by(shipping_amount, updated_at) as shipping_amount,
        min_by(tax_amount, updated_at) as tax_amount,
        -- Cancelled is final: the first cancellation counts, whatever comes after it.
        count(case when status = 'cancelled' then 1 end) > 0 as is_cancelled,
        min_by(discount_code, updated_at) is not null as has_discount_code,
        min_by(ordered_at, updated_at) as ordered_at,
        max(updated_at) as status_updated_at,
        min(case when status = 'cancelled' then updated_at end) as cancelled_at,
        min(case when status = 'cancelled' then _loaded_at end) as cancellation_loaded_at,
        min(_loaded_at) as loaded_at,
        -- Point in time: a version is usable from its known_at (its customer may land later).
        min(case when status = 'cancelled' then known_at end) as cancellation_known_at,
        min(known_at) as known_at,
        max(known_at) as last_known_at
    from checked
    group by id
)

select * from final
{% endmacro %}
