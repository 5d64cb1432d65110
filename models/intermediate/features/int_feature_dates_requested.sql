-- One row per as-of date the build computes features for: the purchase model's training
-- cutoffs (the latest `purchase_training_cutoffs` month-ends whose label window has passed
-- `purchase_label_lateness_days` before the latest day, so late rows are in the label),
-- the latest complete day (serving), the recommender's evaluation cutoff (the newest backtest
-- window's: `recommender_evaluation_days` before the macro recommender_backtest_end_date) and
-- any dates in the var `feature_extra_dates`. Every other date stays answerable through
-- feat_customer_daily.
{%- set evaluation_cutoff = recommender_evaluation_cutoff('bounds.last_date') %}
{%- set extra_dates = var('feature_extra_dates', []) %}

with

feature_dates as (
    select * from {{ ref('int_feature_dates_spined') }}
),

bounds as (
    select max(as_of_date) as last_date from feature_dates
),

month_ends as (
    select
        feature_dates.as_of_date,
        row_number() over (order by feature_dates.as_of_date desc) as recency_rank
    from feature_dates
    cross join bounds
    where feature_dates.as_of_date = {{ dbt.last_day('feature_dates.as_of_date', 'month') }}
        and {{ purchase_label_landed('feature_dates.as_of_date', 'bounds.last_date') }}
),

training_cutoffs as (
    select as_of_date
    from month_ends
    where recency_rank <= {{ var('purchase_training_cutoffs') }}
),

final as (
    select
        feature_dates.as_of_date,
        feature_dates.as_of_date = bounds.last_date as is_latest,
        training_cutoffs.as_of_date is not null as is_training_cutoff,
        feature_dates.as_of_date = {{ evaluation_cutoff }}
            as is_recommender_evaluation
    from feature_dates
    cross join bounds
    left join training_cutoffs
        on feature_dates.as_of_date = training_cutoffs.as_of_date
    where training_cutoffs.as_of_date is not null
        or feature_dates.as_of_date = bounds.last_date
        or feature_dates.as_of_date = {{ evaluation_cutoff }}
    {%- for extra_date in extra_dates %}
        or feature_dates.as_of_date = cast('{{ extra_date }}' as date)
    {%- endfor %}
)

select * from final
