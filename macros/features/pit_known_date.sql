{#-
    The one point-in-time rule: an event is known from the UTC date its last needed raw row
    landed (`known_at`, a timestamp), and never before it happened (`event_date`).
-#}
{% macro pit_known_date(known_at, event_date) -%}
    greatest(cast({{ known_at }} as date), {{ event_date }})
{%- endmacro %}
