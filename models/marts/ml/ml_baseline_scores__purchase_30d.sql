-- The non-ML baseline of the purchase-propensity model: a recency/frequency (RF) score of every
-- training row, calibrated to a probability on the train split. ml_model_registry evaluates it
-- exactly like the model, on the same rows (see the ml_baseline_purchase_30d docs block).

with

training_set as (
    select * from {{ ref('ml_training_set__purchase_30d') }}
),

validation_cutoff as (
    -- The time-based split of the model: validation = the latest (fully labelled) cutoff.
    select max(cutoff_date) as cutoff_date from training_set
),

points as (
    select
        training_set.customer_id,
        case
            when training_set.cutoff_date = validation_cutoff.cutoff_date then 'validation'
            else 'train'
        end as split,
        case
            when training_set.days_since_last_order <= 7 then 5
            when training_set.days_since_last_order <= 30 then 4
            when training_set.days_since_last_order <= 60 then 3
            when training_set.days_since_last_order <= 90 then 2
            when training_set.days_since_last_order <= 180 then 1
            else 0
        end as recency_points,
        case
            when training_set.orders_90d >= 8 then 5
            when training_set.orders_90d >= 5 then 4
            when training_set.orders_90d >= 3 then 3
            when training_set.orders_90d = 2 then 2
            when training_set.orders_90d = 1 then 1
            else 0
        end as frequency_points,
        training_set.days_since_last_order is not null as has_ordered_before,
        training_set.has_purchase_next_30d,
        training_set.cutoff_date
    from training_set
    cross join validation_cutoff
),

scored as (
    select
        *,
        recency_points + frequency_points as rf_score
    from points
),

train_purchase_rate as (
    select avg(cast(has_purchase_next_30d as double)) as purchase_rate
    from scored
    where split = 'train'
),

bucket_rates as (
    -- A bucket is an RF score; customers who never ordered are their own bucket (score 0 would
    -- otherwise mix sign-ups, who often buy, with long-lapsed customers, who rarely do).
    select
        rf_score,
        has_ordered_before,
        count(*) as train_rows,
        count(*) filter (where has_purchase_next_30d) as train_purchases
    from scored
    where split = 'train'
    group by rf_score, has_ordered_before
),

final as (
    select
        scored.customer_id,
        scored.split,
        scored.recency_points,
        scored.frequency_points,
        scored.rf_score,
        coalesce(bucket_rates.train_rows, 0) as bucket_train_rows,
        -- The bucket's purchase rate on the train split, shrunk towards the overall train rate.
        {{ purchase_baseline_probability(
            'bucket_rates.train_purchases',
            'bucket_rates.train_rows',
            'train_purchase_rate.purchase_rate'
        ) }} as probability,
        scored.has_ordered_before,
        scored.has_purchase_next_30d,
        scored.cutoff_date
    from scored
    cross join train_purchase_rate
    left join bucket_rates
        on scored.rf_score = bucket_rates.rf_score
            and scored.has_ordered_before = bucket_rates.has_ordered_before
)

select * from final
