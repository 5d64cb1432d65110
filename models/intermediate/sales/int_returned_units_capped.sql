-- One row per staged return of a purchase it can be matched to: the units it takes back from
-- that purchase (order x product), capped so that all returns of it together never exceed the
-- quantity bought, in the order they became known. The one return-capping rule of every entity.
-- A return counts against its purchase only while the purchase counts: until the order's
-- cancellation is known (retracted_date), never by the order's current status.
-- Incremental (docs: incremental_orders): a run recomputes the returns of the orders with a
-- version, a line or a return usable since the newest known or retracted date the table holds
-- (a return's row depends on its order's lines and returns only).
{{ config(
    materialized='incremental',
    unique_key='order_id'
) }}

{%- set order_lines = ref('int_order_lines_netted') %}
{%- set refunds = ref('int_refunds_converted') %}
{%- set orders = ref('stg_shop__orders') %}
{%- if is_incremental() %}
    {%- set since = usable_since_last_run(['known_date', 'retracted_date']) %}
    {%- set changed_orders -%}
        {{ orders_changed_since(orders, order_lines, since) }}
        union
        select order_id from {{ refunds }} where known_at >= {{ since }}
    {%- endset %}
    {%- set order_lines -%}
        {{ rows_with_keys(ref('int_order_lines_netted'), 'order_id', changed_orders, 'changed_lines') }}
    {%- endset %}
    {%- set refunds -%}
        {{ rows_with_keys(ref('int_refunds_converted'), 'order_id', changed_orders, 'changed_refunds') }}
    {%- endset %}
{%- endif %}

{{ returned_units_capped(
    order_lines=order_lines,
    refunds=refunds
) }}
