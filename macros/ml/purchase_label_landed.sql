{#-
    Whether the purchase label of a cutoff is complete, late rows included, on a later date:
    its window (cutoff+1 .. cutoff+N days) ended at least `purchase_label_lateness_days` days
    before that date. The one rule for which cutoffs a model may learn from on a date.
-#}
{% macro purchase_label_landed(cutoff_date, as_of_date) -%}
    {{ pit_add_days(cutoff_date, var('purchase_label_window_days') + var('purchase_label_lateness_days')) }}
    <= {{ as_of_date }}
{%- endmacro %}
