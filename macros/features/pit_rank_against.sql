{#-
    The rank features of `entity`'s spec for the rows of `fresh` (key, as_of_date, the rank
    features' order-by columns), each ranked against `population` (the last closed day's rows
    of every entity) instead of among the fresh rows: a fresh row gets the percent_rank it would
    have among the population with its own closed-day row (if any) replaced by it (docs:
    intraday_freshness). Emits CTEs ending in one named `name`: key and one column per rank
    feature. percent_rank over ascending, non-null columns only (what the customer spec uses);
    anything else stops the compile.
-#}
{% macro pit_rank_against(entity, fresh, population, name='fresh_ranks') %}
{%- set plan = feature_spec(entity) -%}
{%- set key = plan.key -%}
{%- set ranks = plan.features | selectattr('kind', 'equalto', 'rank') | list -%}
{%- for feature in ranks %}
{%- set descending = [] %}
{%- for column in feature.order_by if ' ' in column | trim %}{% do descending.append(column) %}{% endfor %}
{%- if feature.method != 'percent_rank' or feature.partition_by or descending %}
{{ exceptions.raise_compiler_error(
    "pit_rank_against: " ~ feature.name ~ " is not a percent_rank over ascending columns") }}
{%- endif %}
{%- set columns = feature.order_by %}
{{ name }}_{{ feature.name }}_stacked as (
    select {{ key }}, {{ columns | join(', ') }}, 1 as is_fresh from {{ fresh }}
    union all
    select {{ key }}, {{ columns | join(', ') }}, 0 as is_fresh from {{ population }}
),

-- Population rows strictly below a fresh row = its rank among all stacked rows minus its rank
-- among the fresh rows (ties share a rank, so equal rows are never counted as below).
{{ name }}_{{ feature.name }}_below as (
    select
        {{ key }},
        {{ columns | join(', ') }},
        rank() over (order by {{ columns | join(', ') }})
            - rank() over (partition by is_fresh order by {{ columns | join(', ') }})
            as population_below
    from {{ name }}_{{ feature.name }}_stacked
    qualify is_fresh = 1
),

{{ name }}_{{ feature.name }} as (
    select
        below.{{ key }},
        cast(
            case
                when population_size.row_count + case when own.{{ key }} is null then 1 else 0 end <= 1
                    then 0
                else
                    (below.population_below
                        -- Its own closed-day row is replaced, not a neighbour.
                        - case
                            when {% for column in columns -%}
                                {%- if not loop.first %} or ({% for earlier in columns[:loop.index0] %}own.{{ earlier }} = below.{{ earlier }} and {% endfor %}{% endif -%}
                                own.{{ column }} < below.{{ column }}
                                {%- if not loop.first %}){% endif %}
                            {% endfor -%}
                            then 1 else 0
                        end)
                    / cast(
                        population_size.row_count - case when own.{{ key }} is null then 0 else 1 end
                        as double)
            end
            as {{ feature.data_type }}
        ) as {{ feature.name }}
    from {{ name }}_{{ feature.name }}_below as below
    cross join (select count(*) as row_count from {{ population }}) as population_size
    left join {{ population }} as own
        on below.{{ key }} = own.{{ key }}
),
{%- endfor %}

{{ name }} as (
    select
        {{ fresh }}.{{ key }}
    {%- for feature in ranks %},
        {{ name }}_{{ feature.name }}.{{ feature.name }}
    {%- endfor %}
    from {{ fresh }}
{%- for feature in ranks %}
    inner join {{ name }}_{{ feature.name }}
        on {{ fresh }}.{{ key }} = {{ name }}_{{ feature.name }}.{{ key }}
{%- endfor %}
)
{%- endmacro %}
