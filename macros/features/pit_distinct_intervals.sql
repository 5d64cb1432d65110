{#-
    Distinct counts as presence intervals, for every distinct measure and window of `entity`'s
    spec. `keyed_events` holds (key, measure, distinct_key, event_date, known_date): e.g. a
    customer's purchased category, or the day of a session.

    A distinct key is in the N-day window on D when the latest event date of it known by D is
    >= D - N + 1. That latest date only changes on days an event of it becomes known, so each
    such day opens an interval lasting until the next such day or until latest + N, whichever
    comes first, adding 1 to `distinct_<measure>_<N>d` over [start_date, end_date); spans of
    one entity with the same dates are summed into one row (the grain: entity, start, end).
    Emits CTEs (no leading `with`) ending in one named `name`.
-#}
{% macro pit_distinct_intervals(entity, keyed_events, name='intervals') %}
{%- set plan = feature_spec(entity) -%}
{%- set key = plan.key -%}
{%- set columns = pit_running_columns(entity).distinct -%}
{{ name }}_keyed_events as (
    select * from {{ keyed_events }}
),

{{ name }}_known_days as (
    select
        {{ key }},
        measure,
        distinct_key,
        known_date,
        max(event_date) as latest_event_date_that_day
    from {{ name }}_keyed_events
    group by {{ key }}, measure, distinct_key, known_date
),

{{ name }}_running as (
    select
        {{ key }},
        measure,
        known_date,
        max(latest_event_date_that_day) over (
            partition by {{ key }}, measure, distinct_key
            order by known_date
            rows between unbounded preceding and current row
        ) as latest_event_date,
        lead(known_date) over (
            partition by {{ key }}, measure, distinct_key
            order by known_date
        ) as next_known_date
    from {{ name }}_known_days
),

{{ name }}_spans as (
{%- for column in columns %}
    select
        {{ key }},
        known_date as start_date,
        case
            when next_known_date < {{ pit_add_days('latest_event_date', column.days) }}
                then next_known_date
            else {{ pit_add_days('latest_event_date', column.days) }}
        end as end_date,
    {%- for other in columns %}
        {{ '1' if other.name == column.name else 'cast(null as integer)' }} as {{ other.name }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_running
    where measure = '{{ column.measure }}'
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
),

-- Keys present over the same span add up: one row per entity and span.
{{ name }} as (
    select
        {{ key }},
        start_date,
        end_date,
    {%- for column in columns %}
        cast(sum({{ column.name }}) as integer) as {{ column.name }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_spans
    where start_date < end_date
    group by {{ key }}, start_date, end_date
)
{%- endmacro %}
