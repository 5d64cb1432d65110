-- One row per customer per training cutoff: the customer's features as of the cutoff and whether
-- they placed a non-cancelled order in the label window that follows it. Cutoffs are month-ends
-- whose whole label window has passed (int_feature_dates_requested).
{%- set label_days = var('purchase_label_window_days') %}

with

features as (
    select * from {{ ref('int_customer_features_requested') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

cutoffs as (
    select as_of_date as cutoff_date
    from requested_dates
    where is_training_cutoff
),

purchase_days as (
    select distinct
        customer_id,
        cast(ordered_at as date) as order_date
    from orders
    where not is_cancelled
),

labels as (
    select
        cutoffs.cutoff_date,
        purchase_days.customer_id
    from cutoffs
    inner join purchase_days
        on purchase_days.order_date > cutoffs.cutoff_date
        and purchase_days.order_date <= {{ pit_add_days('cutoffs.cutoff_date', label_days) }}
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
