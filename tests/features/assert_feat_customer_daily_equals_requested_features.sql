-- The engine's two strategies agree: on every requested as-of date, feat_customer_daily (a view
-- computing from the known events at query time) returns exactly the rows of
-- int_customer_features_requested (running sums over the requested dates). Fails with the rows
-- that differ, from either side.
-- depends_on: {{ ref('int_feature_dates_requested') }}
{%- set requested_dates = [] %}
{%- if execute %}
    {%- set result = run_query('select cast(as_of_date as varchar) from ' ~ ref('int_feature_dates_requested')) %}
    {%- set requested_dates = result.columns[0].values() %}
{%- endif %}

with

daily as (
    select * from {{ ref('feat_customer_daily') }}
    -- Literal dates: the filter reaches the view's date scan (a subquery would not).
    where as_of_date in (
    {%- for requested_date in requested_dates %}
        cast('{{ requested_date }}' as date){{ ',' if not loop.last }}
    {%- else %}
        cast(null as date)
    {%- endfor %}
    )
),

requested as (
    select * from {{ ref('int_customer_features_requested') }}
),

only_daily as (
    select 'only in feat_customer_daily' as side, * from (
        select * from daily
        except
        select * from requested
    ) as differing
),

only_requested as (
    select 'only in int_customer_features_requested' as side, * from (
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

select * from final
