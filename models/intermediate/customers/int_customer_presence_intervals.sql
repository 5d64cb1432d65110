-- Distinct counts of the customer feature spec as presence intervals: one row per interval in
-- which a distinct key (a purchased product category) is inside a
-- window; the row adds 1 to its `distinct_<measure>_<N>d` column on every as-of date in
-- [start_date, end_date). See pit_distinct_intervals.
-- Incremental (docs: incremental_orders): a run recomputes every interval of the customers with
-- a line that became usable or cancelled since the newest start date the table holds (a start
-- is a known date).
{{ config(
    materialized='incremental',
    unique_key='customer_id'
) }}

{%- set order_lines = ref('int_order_lines_netted') %}
{%- if is_incremental() %}
    {%- set order_lines = rows_of_changed_keys(
        ref('int_order_lines_netted'), 'customer_id', ['known_at', 'cancellation_known_at'],
        since=usable_since_last_run(['start_date']), alias='changed_order_lines'
    ) %}
{%- endif %}

{{ customer_presence_intervals(
    order_lines=order_lines,
    products=ref('stg_shop__products')
) }}
