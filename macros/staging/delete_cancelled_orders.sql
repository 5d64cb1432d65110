{#
    The post-hook of an incremental table of non-cancelled orders (fct_orders, fct_order_lines):
    deletes the orders `orders` says are cancelled now. A run's batch leaves an order cancelled
    since the last run out (the model filters cancelled orders), so delete+insert alone would
    keep its old rows. docs: incremental_orders.
#}
{% macro delete_cancelled_orders(orders) -%}
    {%- if is_incremental() %}
    delete from {{ this }}
    where order_id in (select order_id from {{ orders }} where is_cancelled)
    {%- endif %}
{%- endmacro %}
