-- The engine's two strategies agree: on the requested as-of dates a run writes,
-- feat_customer_daily (a view computing from the known events at query time) returns exactly
-- the rows of int_customer_features_requested (running sums over the requested dates). Fails
-- with the rows that differ, from either side.
-- depends_on: {{ ref('int_feature_dates_requested') }}
-- depends_on: {{ ref('stg_shop__orders') }}
{%- set requested_dates = [] %}
{#- Only when the dates table exists: in a build it always does (this test runs after it); a
    compile against an empty warehouse (the SQL linter's dbt templater) renders the null date. #}
{%- if execute and load_relation(ref('int_feature_dates_requested')) is not none %}
    {#- The dates a run writes (docs: incremental_feature_dates; macro equality_check_dates):
        an incremental run keeps the training cutoffs it holds, so they are checked on a full
        refresh (the earliest and the latest), as is every date by the daily runs' equivalence
        test. Every date costs the view a pass over the events (about 4 s at large): the
        strategies do not depend on the date, only on what is known by it. #}
    {%- set requested_dates = equality_check_dates(ref('int_feature_dates_requested')) %}
{%- endif %}
{%- set checked_dates %}
{%- for requested_date in requested_dates -%}
cast('{{ requested_date }}' as date){{ ', ' if not loop.last }}
{%- else -%}
cast(null as date)
{%- endfor -%}
{%- endset %}

with

daily as (
    select * from {{ ref('feat_customer_daily') }}
    -- Literal dates: the filter reaches the view's date scan (a subquery would not).
    where as_of_date in ({{ checked_dates }})
),

requested as (
    select * from {{ ref('int_customer_features_requested') }}
    where as_of_date in ({{ checked_dates }})
),

only_daily as (
    select
        'only in feat_customer_daily' as side,
        *
    from (
        select * from daily
        except
        select * from requested
    ) as differing
),

only_requested as (
    select
        'only in int_customer_features_requested' as side,
        *
    from (
        select * from requested
        except
        select * from daily
    ) as differing
),

final as (
    select * from only_daily
    union all
    select * from only_requested
)

-- Every column of both relations on purpose: a column added to one side only must fail the test.
select * from final  -- noqa: AM04
