{#-
    From running columns to the features of `entity`'s spec, for the (key, as_of_date) rows of
    `running` (a grid of the engine, or rows picked from its history). Emits CTEs ending in one
    named `name` with key, as_of_date, the `passthrough` columns of `running` and every feature of the spec (published or not), typed.

    - attribute: from `versions` (SCD2: the version valid on the as-of date, joined per row)
      when the feature says `of: versions`, else from `entities`;
    - sum / distinct: the running column; days_since: days from `of` to the as-of date;
    - derived: the spec's SQL expression over the non-derived features of the row;
    - rank: percent_rank (or row_number) over every row of the same as-of date.
-#}
{% macro pit_finish_features(entity, running, entities, versions=none, name='features', passthrough=[]) %}
{%- set plan = feature_spec(entity) -%}
{%- set key = plan.key -%}
{%- set base_kinds = ['attribute', 'sum', 'distinct', 'days_since'] -%}
{{ name }}_joined as (
    select
        {{ running }}.*,
    {%- for feature in plan.features if feature.kind == 'attribute' %}
        {{ (name ~ '_versions') if feature.of == 'versions' else (name ~ '_entities') }}.{{ feature.name }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ running }}
    inner join {{ entities }} as {{ name }}_entities
        on {{ running }}.{{ key }} = {{ name }}_entities.{{ key }}
    {%- if versions %}
    left join {{ versions }} as {{ name }}_versions
        on {{ running }}.{{ key }} = {{ name }}_versions.{{ key }}
        and {{ running }}.as_of_date >= {{ name }}_versions.valid_from_date
        -- No OR on the open end: it would turn this hash join into a nested loop.
        and {{ running }}.as_of_date < coalesce({{ name }}_versions.valid_to_date, cast('9999-12-31' as date))
    {%- endif %}
),

{{ name }}_base as (
    select
        {{ key }},
        as_of_date,
    {%- for column in passthrough %}
        {{ column }},
    {%- endfor %}
    {%- for feature in plan.features if feature.kind in base_kinds %}
        {%- if feature.kind == 'attribute' %}
        cast({{ feature.name }} as {{ feature.data_type }}) as {{ feature.name }}
        {%- elif feature.kind == 'days_since' %}
        cast(
            {{ dbt.datediff(feature.running_column or feature.of, 'as_of_date', 'day') }}
            as {{ feature.data_type }}
        ) as {{ feature.name }}
        {%- else %}
        cast({{ feature.running_column }} as {{ feature.data_type }}) as {{ feature.name }}
        {%- endif %}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_joined
),

{{ name }} as (
    select
        {{ key }},
        as_of_date,
    {%- for column in passthrough %}
        {{ column }},
    {%- endfor %}
    {%- for feature in plan.features %}
        {%- if feature.kind in base_kinds %}
        {{ feature.name }}
        {%- elif feature.kind == 'derived' %}
        cast({{ feature.expression }} as {{ feature.data_type }}) as {{ feature.name }}
        {%- else %}
        cast({{ feature.method }}() over (
            partition by {{ (['as_of_date'] + feature.partition_by) | join(', ') }}
            order by {{ feature.order_by | join(', ') }}
        ) as {{ feature.data_type }}) as {{ feature.name }}
        {%- endif %}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_base
)
{%- endmacro %}
