-- One row per customer per requested as-of date (int_feature_dates_requested: the training
-- cutoffs and the latest complete day) from the day the customer became known: every feature
-- of features/customers.yml, computed at those dates only (docs: customer_feature_semantics).
-- Serving and the training set are filters of this table, so they share every line of SQL.
with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

entities as (
    select
        customer_id,
        signup_date,
        first_known_date as first_date
    from customers
),

{{ pit_running_features(
    'customer',
    events=ref('int_customer_events_known'),
    entities='entities',
    spine='requested_dates',
    intervals=ref('int_customer_presence_intervals'),
    name='running'
) }},

{{ pit_finish_features(
    'customer', 'running', 'entities', versions=ref('int_customer_versions_dated')
) }},

final as (
    select
        features.customer_id,
        {{ pit_published_columns('customer', 'features') }},
        requested_dates.is_latest,
        features.as_of_date
    from features
    inner join requested_dates
        on features.as_of_date = requested_dates.as_of_date
)

select * from final
