{#-
    The purchase label's window, defined once: an order day inside the
    `purchase_label_window_days` days after the as-of date (D+1 .. D+N, UTC), whose orders were
    not all known to be cancelled by the end of the window (`retracted_date`, the day the
    cancellation became known; null: never). The label is decided at the end of its window with
    the status known then, so a cancellation that lands later does not change it.
-#}
{% macro in_purchase_label_window(order_date, as_of_date, retracted_date) -%}
    {%- set window_end = pit_add_days(as_of_date, var('purchase_label_window_days')) -%}
    {{ order_date }} > {{ as_of_date }}
    and {{ order_date }} <= {{ window_end }}
    and ({{ retracted_date }} is null or {{ retracted_date }} > {{ window_end }})
{%- endmacro %}
