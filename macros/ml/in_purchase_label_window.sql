{#-
    The purchase label's window, defined once: an order day inside the
    `purchase_label_window_days` days after the as-of date (D+1 .. D+N, UTC).
-#}
{% macro in_purchase_label_window(order_date, as_of_date) -%}
    {{ order_date }} > {{ as_of_date }}
    and {{ order_date }} <= {{ pit_add_days(as_of_date, var('purchase_label_window_days')) }}
{%- endmacro %}
