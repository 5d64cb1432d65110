-- One row per calendar day the data covers: the time spine MetricFlow joins metric_time and
-- cumulative metrics to. The same days as the feature layer's as-of dates (first signup to the
-- latest complete day), so a cumulative metric stops at the data's "today" and never reports
-- days that have not happened.
with

feature_dates as (
    select * from {{ ref('int_feature_dates_spined') }}
),

final as (
    select as_of_date as date_day
    from feature_dates
)

select * from final
