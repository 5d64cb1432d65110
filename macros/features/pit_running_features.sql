{#-
    The point-in-time engine's running strategy (docs: point_in_time_engine): pit_running_pass
    over every entity at once, or, when `events` is a relation holding more rows than one pass
    should aggregate (pit_passes), once per disjoint share of the entities (key modulo the
    number of passes), the shares' rows put together. Every output row depends on its own
    entity's events, intervals and first date only, so the shares give the same rows; each
    pass groups a share of the events, so its aggregations hold a share of the groups in
    memory as the events grow (xl: docs/benchmarks/daily_and_scale.md).
-#}
{% macro pit_running_features(entity, events, entities, spine, intervals=none, name='running') %}
{%- set passes = pit_passes(events) -%}
{%- if passes == 1 -%}
{{ pit_running_pass(entity, events, entities, spine, intervals, name) }}
{%- else -%}
{%- set key = feature_spec(entity).key -%}
{#- The non-negative remainder, on DuckDB and Spark alike (% keeps the dividend's sign); a null
    key in the first share, as in a single pass. #}
{%- for share in range(passes) -%}
{%- set of_share = ' where coalesce((' ~ key ~ ' % ' ~ passes ~ ' + ' ~ passes ~ ') % ' ~ passes ~ ', 0) = ' ~ share ~ ')' -%}
{{ pit_running_pass(
    entity,
    '(select * from ' ~ events ~ of_share,
    '(select * from ' ~ entities ~ of_share,
    spine,
    ('(select * from ' ~ intervals ~ of_share) if intervals else none,
    name ~ '_share' ~ share
) }},

{% endfor -%}
{{ name }} as (
    {%- for share in range(passes) %}
    select * from {{ name }}_share{{ share }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)
{%- endif -%}
{%- endmacro %}

{#-
    The point-in-time engine shared by every entity (docs: point_in_time_engine).

    Emits CTEs (no leading `with`) ending in one named `name`: one row per entity per date of
    `spine` from the entity's first date (key, as_of_date, running columns), holding the running
    sums, distinct counts and latest event dates of `entity`'s spec (`feature_spec`) as known by
    the end of that date.

    - events: key, event_date, known_date, retracted_date and one column per summed measure
      (pit_measure_columns). An event is inside an N-day window on the days
      known_date .. event_date + N - 1 before retracted_date (null: never retracted, e.g. an
      order until its cancellation became known): it enters on known_date and leaves on the
      earlier of event_date + N and retracted_date. Lifetime sums leave on retracted_date only.
      Latest event dates come from a running max over the events never retracted, and from
      the retracted ones on the spine dates they are live (few: a direct range join).
    - intervals: key, start_date, end_date and one `distinct_<measure>_<N>d` column per distinct
      count (see pit_distinct_intervals), or none: they enter on start_date, leave on end_date.
    - entities: key and first_date, the first as-of date the entity has a row.
    - spine: the as-of dates to compute (`as_of_date`), e.g. the training cutoffs and the
      serving day. A change counts from the first spine date on or after the day it happens
      (its bucket), what changed before an entity's first date counts from its first row, and
      one running sum per entity over the spine dates gives every window. Events are grouped by
      their buckets before they are spread into changes, so the cost follows the events and
      entities x spine dates, not entities x days.
    - settled events (known, and out of every window, by the spine's first date, never
      retracted by then) only add to the lifetime sums and latest dates, from each entity's
      first row: they take that row's bucket without the bucket joins, and retracted settled
      events add nothing at all. An incremental run's spine starts at the last landed day, so its
      cost follows the last `max(window)` days of events, not the whole history.
-#}
{% macro pit_running_pass(entity, events, entities, spine, intervals=none, name='running') %}
{%- set plan = feature_spec(entity) -%}
{%- set key = plan.key -%}
{%- set columns = pit_running_columns(entity) -%}
{%- set running = columns.sums + columns.distinct -%}
{%- set settled -%}
    {{ name }}_events.known_date <= {{ name }}_bounds.first_date
        and {{ pit_add_days(name ~ '_events.event_date', plan.window_lengths | max) }} <= {{ name }}_bounds.first_date
        and ({{ name }}_events.retracted_date is null or {{ name }}_events.retracted_date <= {{ name }}_bounds.first_date)
{%- endset -%}
{{ name }}_spine as (
    select as_of_date from {{ spine }}
),

{{ name }}_bounds as (
    select
        min(as_of_date) as first_date,
        max(as_of_date) as last_date
    from {{ name }}_spine
),

{{ name }}_calendar as (
    {{ date_series(name ~ '_bounds', name ~ '_bounds.first_date', name ~ '_bounds.last_date', 'calendar_date') }}
),

-- The bucket of a calendar day: the first spine date on or after it. Days before the spine
-- fall in its first date; days after its last date have no bucket (they never show).
{{ name }}_buckets as (
    select
        {{ name }}_calendar.calendar_date,
        min({{ name }}_spine.as_of_date) as as_of_date
    from {{ name }}_calendar
    inner join {{ name }}_spine
        on {{ name }}_spine.as_of_date >= {{ name }}_calendar.calendar_date
    group by {{ name }}_calendar.calendar_date
),

-- An entity's rows start on the bucket of its first date (the spine's first date at the earliest).
{{ name }}_entity_starts as (
    select
        {{ name }}_entities.{{ key }},
        coalesce({{ name }}_buckets.as_of_date, {{ name }}_bounds.first_date) as first_as_of_date
    from {{ entities }} as {{ name }}_entities
    cross join {{ name }}_bounds
    left join {{ name }}_buckets
        on {{ name }}_entities.first_date = {{ name }}_buckets.calendar_date
    where {{ name }}_entities.first_date <= {{ name }}_bounds.last_date
),

-- The events not settled (see above; null dates count as not settled), filtered before they
-- are bucketed.
{{ name }}_unsettled_events as (
    select {{ name }}_events.*
    from {{ events }} as {{ name }}_events
    cross join {{ name }}_bounds
    where not coalesce({{ settled }}, false)
),

-- Each event with the buckets it enters (known date) and leaves (event date + N, or its
-- retraction if earlier) in; all clamped to the entity's first row before bucketing (a null
-- bucket: after the spine, never). Settled events take their buckets without the joins.
{{ name }}_event_buckets as (
    select
        {{ name }}_events.{{ key }},
        entered.as_of_date as entered_on,
    {%- for days in plan.window_lengths %}
        left_{{ days }}d.as_of_date as left_{{ days }}d_on,
    {%- endfor %}
        retracted.as_of_date as left_lifetime_on,
    {%- for measure in plan.sum_measures %}
        {{ name }}_events.{{ measure }},
    {%- endfor %}
        {{ name }}_events.event_date
    from {{ name }}_unsettled_events as {{ name }}_events
    inner join {{ name }}_entity_starts
        on {{ name }}_events.{{ key }} = {{ name }}_entity_starts.{{ key }}
    -- Before the spine: the spine's first date; after it: never.
    inner join {{ name }}_buckets as entered
        on greatest({{ name }}_events.known_date, {{ name }}_entity_starts.first_as_of_date) = entered.calendar_date
    {%- for days in plan.window_lengths %}
    left join {{ name }}_buckets as left_{{ days }}d
        on greatest(
            least(
                {{ pit_add_days(name ~ '_events.event_date', days) }},
                coalesce({{ name }}_events.retracted_date, {{ pit_add_days(name ~ '_events.event_date', days) }})
            ),
            {{ name }}_entity_starts.first_as_of_date
        ) = left_{{ days }}d.calendar_date
    {%- endfor %}
    -- One equality, so a hash join: a condition on the left side only (`retracted_date is not
    -- null and ...`) made DuckDB compare every event with every calendar day (20 of the 30 s
    -- of a full build at `large`). greatest() skips nulls, hence the case.
    left join {{ name }}_buckets as retracted
        on case
            when {{ name }}_events.retracted_date is not null
                then greatest({{ name }}_events.retracted_date, {{ name }}_entity_starts.first_as_of_date)
        end = retracted.calendar_date
    union all
    -- Settled events: every bucket of theirs is the entity's first row (first_as_of_date, on
    -- or after the spine's first date), so they enter the lifetime sums and latest dates there
    -- and never leave; a window they entered they left in the same bucket. Retracted ones
    -- add nothing.
    select
        {{ name }}_events.{{ key }},
        {{ name }}_entity_starts.first_as_of_date as entered_on,
    {%- for days in plan.window_lengths %}
        {{ name }}_entity_starts.first_as_of_date as left_{{ days }}d_on,
    {%- endfor %}
        cast(null as date) as left_lifetime_on,
    {%- for measure in plan.sum_measures %}
        {{ name }}_events.{{ measure }},
    {%- endfor %}
        {{ name }}_events.event_date
    from {{ events }} as {{ name }}_events
    inner join {{ name }}_entity_starts
        on {{ name }}_events.{{ key }} = {{ name }}_entity_starts.{{ key }}
    cross join {{ name }}_bounds
    where {{ settled }}
        and {{ name }}_events.retracted_date is null
),

-- Events entering and leaving in the same buckets move every window together.
{{ name }}_event_groups as (
    select
        {{ key }},
        entered_on,
    {%- for days in plan.window_lengths %}
        left_{{ days }}d_on,
    {%- endfor %}
        left_lifetime_on,
    {%- for measure in plan.sum_measures %}
        cast(sum({{ measure }}) as {{ plan.measures[measure].data_type }}) as {{ measure }},
    {%- endfor %}
    {%- for column in columns.latest %}
        max(case when {{ column.measure }} > 0 then event_date end) as {{ column.name }},
    {%- endfor %}
        count(*) as event_count
    from {{ name }}_event_buckets
    group by
        {{ key }},
        entered_on
    {%- for days in plan.window_lengths %},
        left_{{ days }}d_on
    {%- endfor %},
        left_lifetime_on
),

{{ name }}_changes as (
    -- An event enters the windows it is still inside at the bucket it became known in ...
    select
        {{ key }},
        entered_on as as_of_date,
    {%- for column in columns.sums %}
        {%- if column.days %}
        case
            when left_{{ column.days }}d_on is null or entered_on < left_{{ column.days }}d_on
                then {{ column.measure }}
        end as {{ column.name }},
        {%- else %}
        case
            when left_lifetime_on is null or entered_on < left_lifetime_on
                then {{ column.measure }}
        end as {{ column.name }},
        {%- endif %}
    {%- endfor %}
    {%- for column in columns.distinct %}
        cast(null as integer) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        -- Retracted events are not in the running max (it cannot forget): see _retractable_latest.
        case when left_lifetime_on is null then {{ column.name }} end as {{ column.name }},
    {%- endfor %}
        1 as change_count
    from {{ name }}_event_groups
{%- for days in plan.window_lengths %}
    union all
    -- ... and leaves the {{ days }}-day windows at the bucket of event_date + {{ days }}.
    select
        {{ key }},
        left_{{ days }}d_on as as_of_date,
    {%- for column in columns.sums %}
        {%- if column.days == days %}
        -{{ column.measure }} as {{ column.name }},
        {%- else %}
        cast(null as {{ column.data_type }}) as {{ column.name }},
        {%- endif %}
    {%- endfor %}
    {%- for column in columns.distinct %}
        cast(null as integer) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        cast(null as date) as {{ column.name }},
    {%- endfor %}
        1 as change_count
    from {{ name }}_event_groups
    where entered_on < left_{{ days }}d_on
{%- endfor %}
{%- if columns.sums | selectattr('days', 'none') | list %}
    union all
    -- ... and leaves the lifetime sums at the bucket of its retraction.
    select
        {{ key }},
        left_lifetime_on as as_of_date,
    {%- for column in columns.sums %}
        {%- if not column.days %}
        -{{ column.measure }} as {{ column.name }},
        {%- else %}
        cast(null as {{ column.data_type }}) as {{ column.name }},
        {%- endif %}
    {%- endfor %}
    {%- for column in columns.distinct %}
        cast(null as integer) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        cast(null as date) as {{ column.name }},
    {%- endfor %}
        1 as change_count
    from {{ name }}_event_groups
    where entered_on < left_lifetime_on
{%- endif %}
{%- if intervals %}
{%- for edge in ['start', 'end'] %}
    union all
    -- Distinct keys: +1 from the bucket of the interval's start, -1 from its end's.
    select
        {{ name }}_intervals.{{ key }},
        {{ name }}_edges.as_of_date,
    {%- for column in columns.sums %}
        cast(null as {{ column.data_type }}) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.distinct %}
        {{ '-' if edge == 'end' }}{{ name }}_intervals.{{ column.name }} as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        cast(null as date) as {{ column.name }},
    {%- endfor %}
        1 as change_count
    from {{ intervals }} as {{ name }}_intervals
    inner join {{ name }}_entity_starts
        on {{ name }}_intervals.{{ key }} = {{ name }}_entity_starts.{{ key }}
    inner join {{ name }}_buckets as {{ name }}_edges
        on greatest({{ name }}_intervals.{{ edge }}_date, {{ name }}_entity_starts.first_as_of_date)
            = {{ name }}_edges.calendar_date
{%- endfor %}
{%- endif %}
),

{{ name }}_changes_on_spine as (
    select
        {{ key }},
        as_of_date,
    {#- Narrow types: running sums over DECIMAL(38)/HUGEINT (what sum() returns) are many times slower. #}
    {%- for column in running %}
        cast(sum({{ column.name }}) as {{ column.data_type }}) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        max({{ column.name }}) as {{ column.name }},
    {%- endfor %}
        cast(sum(change_count) as integer) as change_count
    from {{ name }}_changes
    group by {{ key }}, as_of_date
),

{%- if columns.latest %}
-- Latest dates of the retracted events, on each spine date they are live (known, not yet
-- retracted): they cannot enter the running max, which never forgets.
{{ name }}_retractable_latest as (
    select
        {{ name }}_event_groups.{{ key }},
        {{ name }}_spine.as_of_date,
    {%- for column in columns.latest %}
        max({{ name }}_event_groups.{{ column.name }}) as {{ column.name }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_event_groups
    inner join {{ name }}_spine
        on {{ name }}_spine.as_of_date >= {{ name }}_event_groups.entered_on
        and {{ name }}_spine.as_of_date < {{ name }}_event_groups.left_lifetime_on
    where {{ name }}_event_groups.left_lifetime_on is not null
    group by {{ name }}_event_groups.{{ key }}, {{ name }}_spine.as_of_date
),

{%- endif %}
{{ name }}_grid as (
    select
        {{ name }}_entity_starts.{{ key }},
        {{ name }}_spine.as_of_date
    from {{ name }}_entity_starts
    inner join {{ name }}_spine
        on {{ name }}_spine.as_of_date >= {{ name }}_entity_starts.first_as_of_date
),

{{ name }} as (
    select
        {{ name }}_grid.{{ key }},
    {%- for column in running %}
        cast(
            sum(coalesce({{ name }}_changes_on_spine.{{ column.name }}, 0)) over {{ name }}_history
            as {{ column.data_type }}
        ) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        {#- greatest skips nulls (DuckDB, Spark): either side may have no date. #}
        greatest(
            max({{ name }}_changes_on_spine.{{ column.name }}) over {{ name }}_history,
            {{ name }}_retractable_latest.{{ column.name }}
        ) as {{ column.name }},
    {%- endfor %}
        {{ name }}_grid.as_of_date
    from {{ name }}_grid
    left join {{ name }}_changes_on_spine
        on {{ name }}_grid.{{ key }} = {{ name }}_changes_on_spine.{{ key }}
        and {{ name }}_grid.as_of_date = {{ name }}_changes_on_spine.as_of_date
    {%- if columns.latest %}
    left join {{ name }}_retractable_latest
        on {{ name }}_grid.{{ key }} = {{ name }}_retractable_latest.{{ key }}
        and {{ name }}_grid.as_of_date = {{ name }}_retractable_latest.as_of_date
    {%- endif %}
    window {{ name }}_history as (
        partition by {{ name }}_grid.{{ key }}
        order by {{ name }}_grid.as_of_date
        rows between unbounded preceding and current row
    )
)
{%- endmacro %}
