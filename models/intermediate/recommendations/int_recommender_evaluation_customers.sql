-- One row per customer known on the recommender's evaluation cutoff
-- (int_feature_dates_requested.is_recommender_evaluation), with the attributes that make their
-- popularity segment as known that day (int_customer_features_requested).
with

customer_features as (
    select * from {{ ref('int_customer_features_requested') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

final as (
    select
        customer_features.customer_id,
        customer_features.country_code,
        customer_features.signup_channel,
        customer_features.as_of_date
    from customer_features
    inner join requested_dates
        on customer_features.as_of_date = requested_dates.as_of_date
    where requested_dates.is_recommender_evaluation
)

select * from final
