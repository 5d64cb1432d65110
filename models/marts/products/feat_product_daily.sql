-- One row per product per as-of date, from the first day the product is on sale and known
-- (greatest of its launch date, the day its row landed and the first day of the spine) to the
-- latest complete day: every feature of features/products.yml, computed by the shared
-- point-in-time engine (pit_running_features over every day, pit_finish_features). Products
-- are few, so the full product x day table is cheap (docs: product_feature_semantics).
-- Incremental (docs: incremental_feature_dates): a daily run computes only the new days and
-- the days on or after the last landed day of the previous run; equal to a full rebuild.
{{ config(
    materialized='incremental',
    unique_key='as_of_date',
    post_hook="{{ pit_delete_unrequested_dates(ref('int_feature_dates_spined')) }}"
) }}

with

products as (
    select * from {{ ref('stg_shop__products') }}
),

feature_dates as (
    select * from {{ ref('int_feature_dates_spined') }}
),

-- The engine's spine: the days this run computes (every day on a full build).
dates_to_compute as (
    {{ pit_dates_to_compute('feature_dates') }}
),

-- A product is known from the day its row landed, and never before it launched.
entities as (
    select
        product_id,
        category,
        subcategory,
        cast(launched_at as date) as launch_date,
        {{ pit_known_date('loaded_at', 'cast(launched_at as date)') }} as first_date
    from products
),

{{ pit_running_features(
    'product',
    events=ref('int_product_events_known'),
    entities='entities',
    spine='dates_to_compute',
    intervals=ref('int_product_presence_intervals'),
    name='running'
) }},

{{ pit_finish_features('product', 'running', 'entities') }},

final as (
    select
        features.product_id,
        {{ pit_published_columns('product', 'features') }},
        feature_dates.is_latest,
        features.as_of_date
    from features
    inner join feature_dates
        on features.as_of_date = feature_dates.as_of_date
)

select * from final
