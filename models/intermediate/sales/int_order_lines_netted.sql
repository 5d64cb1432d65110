-- One row per staged order line, valued in EUR under the project's net sales definition.
-- Incremental (docs: incremental_orders): a run recomputes every line of the orders with a
-- version or a line that became usable since the newest known time the table holds.
{{ config(
    materialized='incremental',
    unique_key='order_id'
) }}

{%- set order_items = ref('stg_shop__order_items') %}
{%- set orders = ref('stg_shop__orders') %}
{%- if is_incremental() %}
    {%- set since = usable_since_last_run(['known_at', 'cancellation_known_at']) %}
    {%- set changed_orders = orders_changed_since(orders, order_items, since) %}
    {%- set order_items -%}
        {{ rows_with_keys(ref('stg_shop__order_items'), 'order_id', changed_orders, 'changed_items') }}
    {%- endset %}
    {%- set orders -%}
        {{ rows_with_keys(ref('stg_shop__orders'), 'order_id', changed_orders, 'changed_orders') }}
    {%- endset %}
{%- endif %}

{{ order_lines_netted(
    order_items=order_items,
    orders=orders,
    currencies=ref('currencies')
) }}
