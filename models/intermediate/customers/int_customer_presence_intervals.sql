-- Distinct counts of the customer feature spec as presence intervals: one row per interval in
-- which a distinct key (a purchased product category) is inside a
-- window; the row adds 1 to its `distinct_<measure>_<N>d` column on every as-of date in
-- [start_date, end_date). See pit_distinct_intervals.
-- Incremental (docs: incremental_orders): a run recomputes every interval of the customers with
-- a line that became usable or cancelled since the newest start date the table holds (a start
-- is a known date).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail'
) }}

{%- set order_lines = ref('int_order_lines_netted') %}
{%- if is_incremental() %}
    {%- set since = usable_since_last_run(['start_date']) %}
    {%- set order_lines -%}
        (
            select * from {{ ref('int_order_lines_netted') }}
            where customer_id in (
                select customer_id from {{ ref('int_order_lines_netted') }}
                where known_at >= {{ since }} or cancellation_known_at >= {{ since }}
            )
        ) as changed_order_lines
    {%- endset %}
{%- endif %}

{{ customer_presence_intervals(
    order_lines=order_lines,
    products=ref('stg_shop__products')
) }}
