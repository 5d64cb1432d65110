{#
    The (`key`, event_date) pairs with an input row usable since the last run: for each input
    of `inputs` (name -> relation), its `event_dates[name]` where `usable_since[name]` holds,
    as one union. What an events model keyed by entity and event date recomputes (docs:
    incremental_orders); its inputs are then cut to these pairs.
#}
{% macro pit_changed_days(key, inputs, event_dates, usable_since) -%}
{%- for name, relation in inputs.items() %}
    select
        {{ key }},
        {{ event_dates[name] }} as event_date
    from {{ relation }}
    where {{ usable_since[name] }}
    {{- '\n    union' if not loop.last }}
{%- endfor %}
{%- endmacro %}
