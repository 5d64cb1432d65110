-- One row per line of a non-cancelled order, valued in EUR: the sales half of the net sales
-- definition (int_order_lines_netted), for analysts and the semantic layer. Cancelled orders'
-- lines count for no net sales, so they are not here.
-- Incremental (docs: incremental_orders): a run rewrites the orders with a version or a line
-- that became usable since the newest known_at the table holds, and deletes the orders
-- cancelled since (post-hook).
{{ config(
    materialized='incremental',
    unique_key='order_id',
    post_hook="{{ delete_cancelled_orders(ref('int_order_lines_netted')) }}"
) }}

{%- set order_lines = ref('int_order_lines_netted') %}
{%- set orders = ref('stg_shop__orders') %}
{%- if is_incremental() %}
    {%- set changed_orders = orders_changed_since(
        orders, order_lines, usable_since_last_run(['known_at'])) %}
    {%- set order_lines -%}
        {{ rows_with_keys(ref('int_order_lines_netted'), 'order_id', changed_orders, 'changed_lines') }}
    {%- endset %}
{%- endif %}

with

order_lines as (
    select * from {{ order_lines }}
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
        net_sales_eur,
        order_date,
        ordered_at,
        known_at
    from order_lines
    where not is_cancelled
)

select * from final
