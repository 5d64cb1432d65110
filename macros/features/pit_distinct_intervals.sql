{#-
    Distinct counts as presence intervals, for every distinct measure and window of `entity`'s
    spec. `keyed_events` holds (key, measure, distinct_key, event_date, known_date,
    retracted_date): e.g. a customer's purchased category, or the day of a session;
    retracted_date (null: never) is when the event stopped counting (its order's cancellation
    became known).

    A distinct key is in the N-day window on D when an event of it is live on D (known_date <= D
    < retracted_date, the known-date rule) with event date >= D - N + 1 (the window rule). So
    each event keeps its key present over [known_date, least(event_date + N, retracted_date)),
    and the key is present on the union of those spans: overlapping spans of one key are merged
    (islands), and each merged span adds 1 to `distinct_<measure>_<N>d` over
    [start_date, end_date); spans of one entity with the same dates are summed into one row
    (the grain: entity, start, end). Emits CTEs (no leading `with`) ending in one named `name`.
-#}
{% macro pit_distinct_intervals(entity, keyed_events, name='intervals') %}
{%- set plan = feature_spec(entity) -%}
{%- set key = plan.key -%}
{%- set columns = pit_running_columns(entity).distinct -%}
{{ name }}_keyed_events as (
    select * from {{ keyed_events }}
),

-- Events of a key known (and retracted) on the same days: only the latest can outlast the rest.
{{ name }}_known_days as (
    select
        {{ key }},
        measure,
        distinct_key,
        known_date,
        retracted_date,
        max(event_date) as latest_event_date
    from {{ name }}_keyed_events
    group by {{ key }}, measure, distinct_key, known_date, retracted_date
),

{{ name }}_spans as (
{%- for column in columns %}
    {%- set window_end = pit_add_days('latest_event_date', column.days) %}
    select
        {{ key }},
        distinct_key,
        '{{ column.name }}' as column_name,
        known_date as start_date,
        least({{ window_end }}, coalesce(retracted_date, {{ window_end }})) as end_date
    from {{ name }}_known_days
    where measure = '{{ column.measure }}'
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
),

-- The furthest end of the key's earlier spans: a span starting after it opens a new island.
{{ name }}_covered as (
    select
        {{ key }},
        distinct_key,
        column_name,
        start_date,
        end_date,
        max(end_date) over (
            partition by {{ key }}, column_name, distinct_key
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as covered_until
    from {{ name }}_spans
    where start_date < end_date
),

{{ name }}_islands as (
    select
        {{ key }},
        distinct_key,
        column_name,
        start_date,
        end_date,
        sum(case when covered_until is null or start_date > covered_until then 1 else 0 end) over (
            partition by {{ key }}, column_name, distinct_key
            order by start_date, end_date
            rows between unbounded preceding and current row
        ) as island
    from {{ name }}_covered
),

{{ name }}_merged as (
    select
        {{ key }},
        column_name,
        min(start_date) as start_date,
        max(end_date) as end_date
    from {{ name }}_islands
    group by {{ key }}, column_name, distinct_key, island
),

-- Keys present over the same span add up: one row per entity and span.
{{ name }} as (
    select
        {{ key }},
        start_date,
        end_date,
    {%- for column in columns %}
        cast(sum(case when column_name = '{{ column.name }}' then 1 end) as integer) as {{ column.name }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_merged
    group by {{ key }}, start_date, end_date
)
{%- endmacro %}
