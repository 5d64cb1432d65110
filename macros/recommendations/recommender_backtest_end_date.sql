{#-
    The last day of the recommender backtest's newest label period, on a latest complete day:
    the latest month-end whose label period has fully landed, late rows included (at least
    `purchase_label_lateness_days` before that day). The backtest's windows therefore move once
    a month, not daily, and ml_recommendation_metrics recomputes only when they (or a row they
    read) change. Latest month-end on or before d = the first of the month of d + 1, minus a day.
-#}
{% macro recommender_backtest_end_date(latest_date) -%}
    {%- set landed_by = pit_add_days(latest_date, 1 - var('purchase_label_lateness_days')) -%}
    {{ pit_add_days('cast(' ~ dbt.date_trunc('month', landed_by) ~ ' as date)', -1) }}
{%- endmacro %}

{#- The newest backtest window's cutoff on a latest complete day: `recommender_evaluation_days`
    before its end (moves once a month). -#}
{% macro recommender_evaluation_cutoff(latest_date) -%}
    {{ pit_add_days(recommender_backtest_end_date(latest_date), -var('recommender_evaluation_days')) }}
{%- endmacro %}
