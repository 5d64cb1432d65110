{#-
    How many days up to an as-of date (that day included) hold every event of `measures` some
    feature of the entity's spec reads: the longest window of a sum or distinct feature over
    them, or none when a lifetime sum or a days-since reads one (every event counts). A
    measure no feature reads needs no day. An unknown measure stops the compile.
-#}
{% macro pit_event_horizon_days(entity, measures) -%}
{%- set plan = feature_spec(entity) -%}
{%- set horizon = namespace(days=0, unbounded=false) -%}
{%- for measure in measures -%}
    {%- if measure not in plan.measures -%}
        {{ exceptions.raise_compiler_error("pit_event_horizon_days: " ~ entity ~ " has no measure " ~ measure) }}
    {%- endif -%}
    {%- if measure in plan.lifetime or measure in plan.latest -%}
        {%- set horizon.unbounded = true -%}
    {%- endif -%}
    {%- for days in plan.sums.get(measure, []) + plan.distinct.get(measure, []) -%}
        {%- if days > horizon.days -%}{%- set horizon.days = days -%}{%- endif -%}
    {%- endfor -%}
{%- endfor -%}
{{ return(none if horizon.unbounded else horizon.days) }}
{%- endmacro %}
