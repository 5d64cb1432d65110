{#-
    CTEs (no leading `with`) of the fresh customers' changed orders, restaged: every version of
    an order of `changed` (int_orders_changed_intraday) aggregated as stg_shop__orders does
    (shop_orders_from_versions), the ones whose customer (the first version's) is fresh
    (`fresh_orders`), and their staged lines (`fresh_order_items`). The fresh customers' other
    orders are the daily run's rows. `order_versions` is base_shop__orders: stg_shop__orders
    is the daily run's table.
-#}
{% macro fresh_customer_orders(fresh, changed, order_versions, order_items) %}
fresh_order_versions as (
    select *
    from {{ order_versions }}
    where id in (select changed_keys.order_id from {{ changed }} as changed_keys)
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
