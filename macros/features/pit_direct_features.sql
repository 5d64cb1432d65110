{#-
    The engine's second strategy, for a few ad-hoc as-of dates (an analyst's filter on a view):
    the same running columns as pit_running_features, by filtering and aggregating the known
    events per date instead of running sums over a spine. An event counts at D when it is known
    by D (known_date <= D) and, for an N-day window, happened on D-N+1 .. D — the rule the
    running strategy applies as "enters on known_date, leaves on event_date + N"; a distinct
    key counts while D is inside its presence interval. Cost: one pass over the events per
    requested date, nothing precomputed. A dbt test holds both strategies equal on every
    requested date. An event stops counting on its retracted_date (e.g. the day an order's
    cancellation became known): it is live over [known_date, retracted_date).

    `dates` is read exactly once, so a filter on as_of_date (=, in, between) reaches its scan.
    Emits CTEs (no leading `with`) ending in one named `name`: key, `date_columns` of `dates`
    and the running columns, one row per entity per date on or after the entity's first_date.
-#}
{% macro pit_direct_features(entity, events, entities, dates, intervals=none, date_columns=['as_of_date'], name='running') %}
{%- set plan = feature_spec(entity) -%}
{%- set key = plan.key -%}
{%- set columns = pit_running_columns(entity) -%}
{%- set group_columns = [name ~ '_entity_dates.' ~ key] -%}
{%- for column in date_columns -%}
    {%- do group_columns.append(name ~ '_entity_dates.' ~ column) -%}
{%- endfor -%}
{{ name }}_entity_dates as (
    select
        {{ entities }}.{{ key }},
    {%- for column in date_columns %}
        {{ dates }}.{{ column }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ entities }}
    inner join {{ dates }}
        on {{ dates }}.as_of_date >= {{ entities }}.first_date
),

-- Events count from their known date until their retraction (if any); distinct keys over
-- their presence intervals.
{{ name }}_contributions as (
    select
        {{ key }},
        event_date,
        known_date as start_date,
        retracted_date as end_date,
    {%- for measure in plan.sum_measures %}
        {{ measure }},
    {%- endfor %}
    {%- for column in columns.distinct %}
        cast(null as integer) as {{ column.name }},
    {%- endfor %}
        1 as contribution_count
    from {{ events }}
{%- if intervals %}
    union all
    select
        {{ key }},
        cast(null as date) as event_date,
        start_date,
        end_date,
    {%- for measure in plan.sum_measures %}
        cast(null as {{ plan.measures[measure].data_type }}) as {{ measure }},
    {%- endfor %}
    {%- for column in columns.distinct %}
        {{ column.name }},
    {%- endfor %}
        1 as contribution_count
    from {{ intervals }}
{%- endif %}
),

{{ name }} as (
    select
        {{ group_columns | join(',\n        ') }},
    {%- for column in columns.sums %}
        {%- if column.days %}
        cast(coalesce(sum(case
            when {{ name }}_contributions.event_date
                > {{ pit_add_days(name ~ '_entity_dates.as_of_date', -column.days) }}
                then {{ name }}_contributions.{{ column.measure }}
        end), 0) as {{ column.data_type }}) as {{ column.name }},
        {%- else %}
        cast(coalesce(sum({{ name }}_contributions.{{ column.measure }}), 0) as {{ column.data_type }})
            as {{ column.name }},
        {%- endif %}
    {%- endfor %}
    {%- for column in columns.distinct %}
        cast(coalesce(sum({{ name }}_contributions.{{ column.name }}), 0) as integer) as {{ column.name }},
    {%- endfor %}
    {%- for column in columns.latest %}
        max(case
            when {{ name }}_contributions.{{ column.measure }} > 0
                then {{ name }}_contributions.event_date
        end) as {{ column.name }},
    {%- endfor %}
        count({{ name }}_contributions.contribution_count) as contribution_count
    from {{ name }}_entity_dates
    left join {{ name }}_contributions
        on {{ name }}_entity_dates.{{ key }} = {{ name }}_contributions.{{ key }}
        and {{ name }}_contributions.start_date <= {{ name }}_entity_dates.as_of_date
        and coalesce({{ name }}_contributions.end_date, cast('9999-12-31' as date))
            > {{ name }}_entity_dates.as_of_date
    group by {{ group_columns | join(', ') }}
)
{%- endmacro %}
