-- One row per customer per training cutoff: the customer's features as of the cutoff and whether
-- they placed a non-cancelled order in the label window that follows it. Cutoffs are month-ends
-- whose whole label window has passed.
{%- set label_days = var('purchase_label_window_days') %}

with

features as (
    select * from {{ ref('feat_customer_daily') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

last_complete_day as (
    select max(as_of_date) as last_date from features
),

cutoffs as (
    select distinct features.as_of_date as cutoff_date
    from features
    cross join last_complete_day
    where features.as_of_date = last_day(features.as_of_date)
        and features.as_of_date + {{ label_days }} <= last_complete_day.last_date
    order by cutoff_date desc
    limit {{ var('purchase_training_cutoffs') }}
),

purchase_days as (
    select distinct
        customer_id,
        cast(ordered_at as date) as order_date,
    from orders
    where not is_cancelled
),

labels as (
    select
        cutoffs.cutoff_date,
        purchase_days.customer_id,
    from cutoffs
    inner join purchase_days
        on purchase_days.order_date > cutoffs.cutoff_date
        and purchase_days.order_date <= cutoffs.cutoff_date + {{ label_days }}
    group by cutoffs.cutoff_date, purchase_days.customer_id
),

final as (
    select
        features.* exclude (as_of_date, is_latest),
        cutoffs.cutoff_date,
        labels.customer_id is not null as has_purchase_next_30d,
    from features
    inner join cutoffs
        on features.as_of_date = cutoffs.cutoff_date
    left join labels
        on features.customer_id = labels.customer_id
        and features.as_of_date = labels.cutoff_date
)

select * from final
