-- The purchase label's lateness margin: every training cutoff's label window ended at least
-- var('purchase_label_lateness_days') days before the latest complete day, so rows landing up
-- to that late are in the label. One row per cutoff too recent to train on.

with

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

latest_day as (
    select max(as_of_date) as last_date
    from requested_dates
    where is_latest
),

final as (
    select
        requested_dates.as_of_date as cutoff_date,
        latest_day.last_date
    from requested_dates
    cross join latest_day
    where requested_dates.is_training_cutoff
        and not ({{ purchase_label_landed('requested_dates.as_of_date', 'latest_day.last_date') }})
)

select * from final
