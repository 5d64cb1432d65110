{#-
    CTEs (no leading `with`) of the fresh customers' orders, in the staged shape: every version
    of an order any version of which names a customer of `fresh`, aggregated as
    stg_shop__orders does (shop_orders_from_versions), the orders whose customer (the first
    version's) is fresh (`fresh_orders`), and their staged lines (`fresh_order_items`).
    `order_versions` is base_shop__orders: stg_shop__orders is the daily run's table.
-#}
{% macro fresh_customer_orders(fresh, order_versions, order_items) %}
fresh_order_versions as (
    select *
    from {{ order_versions }}
    where id in (
        select versions.id from {{ order_versions }} as versions
        where versions.customer_id in (select fresh_keys.customer_id from {{ fresh }} as fresh_keys)
    )
),

fresh_orders_all as (
    {{ shop_orders_from_versions('fresh_order_versions') }}
),

fresh_orders as (
    select * from fresh_orders_all
    where fresh_orders_all.customer_id in (select fresh_keys.customer_id from {{ fresh }} as fresh_keys)
),

fresh_order_items as (
    select * from {{ order_items }} as items
    where items.order_id in (select fresh_orders.order_id from fresh_orders)
)
{%- endmacro %}
