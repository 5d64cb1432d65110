-- Realised outcome of published scores: one row per model version x as-of date x decile, for
-- as-of dates whose whole label window has passed, late rows included (the latest staged order
-- is at least `purchase_label_window_days` + `purchase_label_lateness_days` after it). Realised
-- purchase rate of the decile against the rate of all customers scored that day (realised
-- lift), next to the mean predicted probability.

with

score_history as (
    select * from {{ ref('ml_customer_score_history') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

data_end as (
    select max(cast(ordered_at as date)) as last_order_date from orders
),

matured_scores as (
    select score_history.*
    from score_history
    cross join data_end
    where {{ purchase_label_landed('score_history.as_of_date', 'data_end.last_order_date') }}
),

outcomes as (
    select
        matured_scores.model_name,
        matured_scores.model_version,
        matured_scores.as_of_date,
        matured_scores.decile,
        matured_scores.customer_id,
        matured_scores.probability,
        exists(
            select 1
            from purchase_days
            where purchase_days.customer_id = matured_scores.customer_id
                and {{ in_purchase_label_window(
                    'purchase_days.order_date', 'matured_scores.as_of_date',
                    'purchase_days.retracted_date'
                ) }}
        ) as has_purchased
    from matured_scores
),

per_decile as (
    select
        model_name,
        model_version,
        as_of_date,
        decile,
        count(*) as n_customers,
        avg(probability) as mean_probability,
        avg(cast(has_purchased as double)) as realised_rate
    from outcomes
    group by model_name, model_version, as_of_date, decile
),

per_day as (
    select
        model_version,
        as_of_date,
        avg(cast(has_purchased as double)) as overall_realised_rate
    from outcomes
    group by model_version, as_of_date
),

final as (
    select
        per_decile.model_name,
        per_decile.model_version,
        per_decile.decile,
        per_decile.n_customers,
        per_decile.mean_probability,
        per_decile.realised_rate,
        per_day.overall_realised_rate,
        per_decile.realised_rate / nullif(per_day.overall_realised_rate, 0) as realised_lift,
        per_decile.as_of_date
    from per_decile
    inner join per_day
        on per_decile.model_version = per_day.model_version
            and per_decile.as_of_date = per_day.as_of_date
)

select * from final
