-- One row per customer per requested as-of date (int_feature_dates_requested: the training
-- cutoffs and the latest complete day) from the day the customer became known: every feature
-- of features/customers.yml, computed at those dates only (docs: customer_feature_semantics).
-- Serving and the training set are filters of this table, so they share every line of SQL.
-- Incremental (docs: incremental_feature_dates): a run computes only the requested dates the
-- table lacks and the dates on or after the last landed day of the previous run (the only
-- ones rows landing since can change), and drops the dates no longer requested; equal to a
-- full rebuild.
{{ config(
    materialized='incremental',
    unique_key='as_of_date',
    post_hook="{{ pit_delete_unrequested_dates(ref('int_feature_dates_requested')) }}"
) }}

with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

-- The engine's spine: the dates this run computes (every requested date on a full build).
dates_to_compute as (
    {{ pit_dates_to_compute('requested_dates') }}
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
    spine='dates_to_compute',
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
