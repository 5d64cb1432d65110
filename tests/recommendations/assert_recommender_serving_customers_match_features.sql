-- The closed day's recommender and the feature engine serve the same population: the rows of
-- int_recommender_serving_customers equal int_customer_features_requested's serving rows
-- (is_latest) on customer, segment attributes and day. Fails with the rows that differ, from
-- either side.
with

recommender as (
    select
        customer_id,
        country_code,
        signup_channel,
        as_of_date
    from {{ ref('int_recommender_serving_customers') }}
),

features as (
    select
        customer_id,
        country_code,
        signup_channel,
        as_of_date
    from {{ ref('int_customer_features_requested') }}
    where is_latest
),

-- Both sides project the same columns in the same order, so the differences are whole rows.
only_recommender as (
    select * from recommender
    except all
    select * from features
),

only_features as (
    select * from features
    except all
    select * from recommender
),

final as (
    select
        'int_recommender_serving_customers' as only_in,
        *
    from only_recommender
    union all
    select
        'int_customer_features_requested' as only_in,
        *
    from only_features
)

select * from final  -- noqa: AM04
