-- One row per customer per as-of date, from the day the customer became known to the latest
-- complete day: the features of features/customers.yml for ANY date. A view by default
-- (var feat_customer_daily_materialization): nothing is precomputed; a query's as-of dates
-- are computed from the known events when it runs (pit_direct_features), so filter on
-- as_of_date. Equal to int_customer_features_requested on every requested date (tested).
{{ config(materialized=var('feat_customer_daily_materialization', 'view')) }}

with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

feature_dates as (
    select * from {{ ref('int_feature_dates_spined') }}
),

entities as (
    select
        customer_id,
        signup_date,
        first_known_date as first_date
    from customers
),

{{ pit_direct_features(
    'customer',
    events=ref('int_customer_events_known'),
    entities='entities',
    dates='feature_dates',
    intervals=ref('int_customer_presence_intervals'),
    date_columns=['as_of_date', 'is_latest'],
    name='running'
) }},

{{ pit_finish_features(
    'customer', 'running', 'entities',
    versions=ref('int_customer_versions_dated'), passthrough=['is_latest']
) }},

final as (
    select
        features.customer_id,
        {{ pit_published_columns('customer', 'features') }},
        features.is_latest,
        features.as_of_date
    from features
)

select * from final
