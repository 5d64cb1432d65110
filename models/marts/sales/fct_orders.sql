-- One row per non-cancelled order: its customer, channel, units and order value in EUR (the
-- net sales of its lines before any refund). What order counts and average order value read.
-- Incremental (docs: incremental_orders): a run rewrites the orders with a version or a line
-- that became usable since the newest known_at the table holds, and deletes the orders
-- cancelled since (post-hook).
{{ config(
    materialized='incremental',
    unique_key='order_id',
    post_hook="{{ delete_cancelled_orders(ref('stg_shop__orders')) }}"
) }}

{%- set orders = ref('stg_shop__orders') %}
{%- set order_lines = ref('int_order_lines_netted') %}
{%- if is_incremental() %}
    {%- set since = usable_since_last_run(['known_at']) %}
    {%- set changed_orders = orders_changed_since(orders, order_lines, since) %}
    {%- set orders -%}
        {{ rows_with_keys(ref('stg_shop__orders'), 'order_id', changed_orders, 'changed_orders') }}
    {%- endset %}
    {%- set order_lines -%}
        {{ rows_with_keys(ref('int_order_lines_netted'), 'order_id', changed_orders, 'changed_lines') }}
    {%- endset %}
{%- endif %}

with

orders as (
    select * from {{ orders }}
),

order_lines as (
    select * from {{ order_lines }}
),

order_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as units,
        sum(net_sales_eur) as order_value_eur,
        max(known_at) as lines_known_at
    from order_lines
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.channel,
        orders.currency_code,
        -- An order whose every line was quarantined still counts as an order, worth 0.
        cast(coalesce(order_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(order_totals.units, 0) as integer) as units,
        {{ to_money('coalesce(order_totals.order_value_eur, 0)') }} as order_value_eur,
        cast(orders.ordered_at as date) as order_date,
        orders.ordered_at,
        -- The row's values are known once its latest version and every line are.
        greatest(orders.last_known_at, coalesce(order_totals.lines_known_at, orders.last_known_at))
            as known_at
    from orders
    left join order_totals
        on orders.order_id = order_totals.order_id
    where not orders.is_cancelled
)

select * from final
