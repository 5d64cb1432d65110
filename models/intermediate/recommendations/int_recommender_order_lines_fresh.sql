-- One row per fresh customer (int_customers_fresh), order and product: their
-- int_recommender_order_lines rows recomputed from their staged rows, so their lines landed on
-- the open day count. ml_product_recommendations_fresh scores these lines with the closed day's
-- statistics (ml_recommender_statistics).
{{ config(materialized='table') }}

with

fresh as (
    select * from {{ ref('int_customers_fresh') }}
),

-- The order versions (fresh_customer_orders stages them as stg_shop__orders does).
order_versions as (
    select * from {{ ref('base_shop__orders') }}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

{{ fresh_customer_orders('fresh', 'order_versions', 'order_items') }},

fresh_order_lines as (
    {{ order_lines_netted('fresh_order_items', 'fresh_orders', 'currencies') }}
),

final as (
    {{ recommender_order_lines('fresh_order_lines') }}
)

select * from final
