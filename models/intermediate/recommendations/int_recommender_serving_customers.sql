-- One row per customer known on the serving day (int_feature_dates_requested's latest date),
-- with the attributes of their popularity segment in force then (macro
-- recommender_customers_on): the population the closed day's statistics and lists are made
-- for. The same rows as the feature engine's serving rows (a test holds them equal), built
-- from the customers alone, so the recommender need not wait for the engine.
with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

customer_versions as (
    select * from {{ ref('int_customer_versions_dated') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

serving_day as (
    select as_of_date
    from requested_dates
    where is_latest
),

{{ recommender_customers_on('customers', 'customer_versions', 'serving_day', 'final') }}

select * from final
