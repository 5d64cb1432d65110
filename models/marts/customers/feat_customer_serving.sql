-- One row per customer as of the latest complete day: the rows the models score. A filter of
-- int_customer_features_requested, like the training set, so serving uses exactly the SQL
-- that built the training rows.
with

features as (
    select * from {{ ref('int_customer_features_requested') }}
),

final as (
    select
        features.customer_id,
        {{ pit_published_columns('customer', 'features') }},
        features.as_of_date
    from features
    where features.is_latest
)

select * from final
