-- One row per customer per training cutoff: the customer's features as of the cutoff and whether
-- they placed a non-cancelled order in the label window that follows it. Cutoffs are month-ends
-- whose whole label window has passed (int_feature_dates_requested).

with

features as (
    select * from {{ ref('int_customer_features_requested') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

cutoffs as (
    select as_of_date as cutoff_date
    from requested_dates
    where is_training_cutoff
),

labels as (
    select
        cutoffs.cutoff_date,
        purchase_days.customer_id
    from cutoffs
    inner join purchase_days
        on {{ in_purchase_label_window(
            'purchase_days.order_date', 'cutoffs.cutoff_date', 'purchase_days.retracted_date'
        ) }}
    group by cutoffs.cutoff_date, purchase_days.customer_id
),

final as (
    select
        features.customer_id,
        {{ pit_published_columns('customer', 'features') }},
        cutoffs.cutoff_date,
        labels.customer_id is not null as has_purchase_next_30d
    from features
    inner join cutoffs
        on features.as_of_date = cutoffs.cutoff_date
    left join labels
        on features.customer_id = labels.customer_id
            and features.as_of_date = labels.cutoff_date
)

select * from final
