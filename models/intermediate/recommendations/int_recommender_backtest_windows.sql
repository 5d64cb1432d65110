-- One row per window of the recommender's rolling-origin backtest: consecutive windows of
-- `recommender_evaluation_days` days, the newest ending on the latest month-end whose label
-- period has fully landed (macro recommender_backtest_end_date), so the windows move once a
-- month and the backtest is recomputed then, not daily. The newest
-- `recommender_backtest_windows` are reported; the one before them is the tuning window, whose
-- label period ends on the first reported cutoff, so no reported day is ever used to choose
-- a parameter. Window numbers count up in time (1 = the tuning window).
{%- set window_days = var('recommender_evaluation_days') %}
{%- set reported = var('recommender_backtest_windows') %}

with

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

bounds as (
    select {{ recommender_backtest_end_date('max(as_of_date)') }} as end_date
    from requested_dates
    where is_latest
),

windows as (
    {%- for back in range(reported + 1) %}
    select
        {{ reported + 1 - back }} as window_number,
        {{ pit_add_days('bounds.end_date', -(back + 1) * window_days) }} as cutoff_date,
        {{ pit_add_days('bounds.end_date', -back * window_days) }} as evaluation_end_date
    from bounds
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        window_number,
        case when window_number = 1 then 'tuning' else 'reported' end as window_role,
        cutoff_date,
        evaluation_end_date
    from windows
)

select * from final
