-- One row per customer, order and product: the recommender's purchase history with the day each
-- line became known (pit_known_date) and, for an order later cancelled, the day its cancellation
-- became known (retracted_date, the engine's rule). The recommender keeps the lines known by the
-- end of its as-of date and not yet retracted by then (serving day or a backtest cutoff), so
-- every date reads the same rows and no date's history sees a line or a cancellation that
-- landed later.
-- Incremental (docs: incremental_orders): a run recomputes the rows of the orders with a line
-- that became usable or cancelled since the newest known or retracted date the table holds.
{{ config(
    materialized='incremental',
    unique_key='order_id'
) }}

{%- set order_lines = ref('int_order_lines_netted') %}
{%- if is_incremental() %}
    {%- set order_lines = rows_of_changed_keys(
        ref('int_order_lines_netted'), 'order_id', ['known_at', 'cancellation_known_at'],
        since=usable_since_last_run(['known_date', 'retracted_date']), alias='changed_order_lines'
    ) %}
{%- endif %}

{{ recommender_order_lines(
    order_lines=order_lines
) }}
