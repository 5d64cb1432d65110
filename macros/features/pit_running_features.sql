{#-
    The point-in-time engine shared by every entity (docs: point_in_time_engine).

    Emits CTEs (no leading `with`) ending in one named `name`: the running sums, distinct counts
    and latest event dates of `entity`'s spec (`feature_spec`) as known by the end of each date
    of `spine`.

    - events: key, event_date, known_date and one column per summed measure
      (pit_measure_columns). An event is inside an N-day window on the days
      known_date .. event_date + N - 1: it adds on known_date and leaves on event_date + N.
      Lifetime sums only add.
    - intervals: key, start_date, end_date and one `distinct_<measure>_<N>d` column per distinct
      count (1 while the key is present; see pit_distinct_intervals), or none.
    - entities: key and first_date, the first as-of date the entity has a row.
    - spine: the as-of dates to compute (`as_of_date`), e.g. every day or a few cutoffs. A change
      counts from the first spine date on or after it, so cost follows events and the spine,
      not entities x days.
    - output: 'grid' = one row per entity per spine date from its first date (key, as_of_date,
      running columns); 'history' = one row per entity per spine date on which something
      changed (key, valid_from_date, valid_to_date exclusive, running columns): any date's
      values are those of the row whose range holds it.
-#}
{% macro pit_running_features(entity, events, entities, spine, intervals=none, output='grid', name='running') %}
{%- set plan = feature_spec(entity) -%}
{%- set key = plan.key -%}
{%- set columns = pit_running_columns(entity) -%}
{{ name }}_events as (
    select * from {{ events }}
),

{{ name }}_entities as (
    select * from {{ entities }}
),

{{ name }}_spine as (
    select as_of_date from {{ spine }}
),
{%- if intervals %}

{{ name }}_intervals as (
    select * from {{ intervals }}
),
{%- endif %}

{{ name }}_bounds as (
    select
        min(as_of_date) as first_date,
        max(as_of_date) as last_date
    from {{ name }}_spine
),

{{ name }}_calendar as (
    {{ date_series(name ~ '_bounds', name ~ '_bounds.first_date', name ~ '_bounds.last_date', 'calendar_date') }}
),

-- A change made on a calendar day shows from the first spine date on or after it.
{{ name }}_day_to_as_of as (
    select
        {{ name }}_calendar.calendar_date,
        min({{ name }}_spine.as_of_date) as as_of_date
    from {{ name }}_calendar
    inner join {{ name }}_spine
        on {{ name }}_spine.as_of_date >= {{ name }}_calendar.calendar_date
    group by {{ name }}_calendar.calendar_date
),

-- Rows start on the entity's first date (or the spine's, when later); what changed before
-- counts from there, so nothing known is dropped.
{{ name }}_entity_starts as (
    select
        {{ name }}_entities.{{ key }},
        greatest({{ name }}_entities.first_date, {{ name }}_bounds.first_date) as first_date
    from {{ name }}_entities
    cross join {{ name }}_bounds
    where {{ name }}_entities.first_date <= {{ name }}_bounds.last_date
),

{{ name }}_dated_events as (
    select
        {{ name }}_events.*,
        {{ name }}_entity_starts.first_date
    from {{ name }}_events
    inner join {{ name }}_entity_starts
        on {{ name }}_events.{{ key }} = {{ name }}_entity_starts.{{ key }}
),

{{ name }}_changes as (
    -- An event enters every window it is still inside on the day it becomes known ...
    select
        {{ key }},
        greatest(known_date, first_date) as change_date,
    {%- for column in columns.sums %}
        {%- if column.days %}
        case
            when known_date < {{ pit_add_days('event_date', column.days) }} then {{ column.measure }}
        end as {{ column.name }},
        {%- else %}
        {{ column.measure }} as {{ column.name }},
        {%- endif %}
    {%- endfor %}
    {%- for column in columns.distinct %}
        cast(null as integer) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        case when {{ column.measure }} > 0 then event_date end as {{ column.name }},
    {%- endfor %}
        1 as change_count
    from {{ name }}_dated_events
{%- for days in plan.window_lengths %}
    union all
    -- ... and leaves the {{ days }}-day windows on event_date + {{ days }}.
    select
        {{ key }},
        greatest({{ pit_add_days('event_date', days) }}, first_date) as change_date,
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
    from {{ name }}_dated_events
    where known_date < {{ pit_add_days('event_date', days) }}
{%- endfor %}
{%- if intervals %}
{%- for sign in ['', '-'] %}
    union all
    -- Distinct keys: +1 from the interval's start, -1 from its end.
    select
        {{ name }}_intervals.{{ key }},
        greatest({{ name }}_intervals.{{ 'start_date' if sign == '' else 'end_date' }}, {{ name }}_entity_starts.first_date) as change_date,
    {%- for column in columns.sums %}
        cast(null as {{ column.data_type }}) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.distinct %}
        {{ sign }}{{ name }}_intervals.{{ column.name }} as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        cast(null as date) as {{ column.name }},
    {%- endfor %}
        1 as change_count
    from {{ name }}_intervals
    inner join {{ name }}_entity_starts
        on {{ name }}_intervals.{{ key }} = {{ name }}_entity_starts.{{ key }}
    {%- if sign == '-' %}
    where {{ name }}_intervals.end_date is not null
    {%- endif %}
{%- endfor %}
{%- endif %}
{%- if output == 'history' %}
    union all
    -- Every entity has a row from its first date, changed or not.
    select
        {{ key }},
        first_date as change_date,
    {%- for column in columns.sums + columns.distinct %}
        cast(null as {{ column.data_type }}) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        cast(null as date) as {{ column.name }},
    {%- endfor %}
        0 as change_count
    from {{ name }}_entity_starts
{%- endif %}
),

-- Changes collapse to the spine dates they show on; those after the last date never show.
{{ name }}_changes_on_spine as (
    select
        {{ name }}_changes.{{ key }},
        {{ name }}_day_to_as_of.as_of_date,
    {#- Narrow types: running sums over DECIMAL(38)/HUGEINT (what sum() returns) are many times slower. #}
    {%- for column in columns.sums + columns.distinct %}
        cast(sum({{ name }}_changes.{{ column.name }}) as {{ column.data_type }}) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        max({{ name }}_changes.{{ column.name }}) as {{ column.name }},
    {%- endfor %}
        cast(sum({{ name }}_changes.change_count) as integer) as change_count
    from {{ name }}_changes
    inner join {{ name }}_day_to_as_of
        on {{ name }}_changes.change_date = {{ name }}_day_to_as_of.calendar_date
    group by {{ name }}_changes.{{ key }}, {{ name }}_day_to_as_of.as_of_date
),
{%- if output == 'grid' %}

{{ name }}_grid as (
    select
        {{ name }}_entity_starts.{{ key }},
        {{ name }}_spine.as_of_date
    from {{ name }}_entity_starts
    inner join {{ name }}_spine
        on {{ name }}_spine.as_of_date >= {{ name }}_entity_starts.first_date
),

{{ name }} as (
    select
        {{ name }}_grid.{{ key }},
        {{ name }}_grid.as_of_date,
    {#- One list, so the last column has no comma whichever kinds the spec has. #}
    {%- for column in columns.sums + columns.distinct + columns.latest %}
        {%- if column in columns.latest %}
        max({{ name }}_changes_on_spine.{{ column.name }}) over {{ name }}_history as {{ column.name }}
        {%- else %}
        cast(
            sum(coalesce({{ name }}_changes_on_spine.{{ column.name }}, 0)) over {{ name }}_history
            as {{ column.data_type }}
        ) as {{ column.name }}
        {%- endif %}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_grid
    left join {{ name }}_changes_on_spine
        on {{ name }}_grid.{{ key }} = {{ name }}_changes_on_spine.{{ key }}
        and {{ name }}_grid.as_of_date = {{ name }}_changes_on_spine.as_of_date
    window {{ name }}_history as (
        partition by {{ name }}_grid.{{ key }}
        order by {{ name }}_grid.as_of_date
        rows between unbounded preceding and current row
    )
)
{%- else %}

{{ name }} as (
    select
        {{ key }},
        as_of_date as valid_from_date,
        lead(as_of_date) over ({{ name }}_order) as valid_to_date,
    {%- for column in columns.sums + columns.distinct + columns.latest %}
        {%- if column in columns.latest %}
        max({{ column.name }}) over {{ name }}_history as {{ column.name }}
        {%- else %}
        cast(sum(coalesce({{ column.name }}, 0)) over {{ name }}_history as {{ column.data_type }})
            as {{ column.name }}
        {%- endif %}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_changes_on_spine
    window
        {{ name }}_order as (partition by {{ key }} order by as_of_date),
        {{ name }}_history as (
            partition by {{ key }}
            order by as_of_date
            rows between unbounded preceding and current row
        )
)
{%- endif %}
{%- endmacro %}
