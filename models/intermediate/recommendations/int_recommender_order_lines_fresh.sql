-- One row per fresh customer (int_customers_fresh), order and product: their
-- int_recommender_order_lines rows as known now. The daily run's rows of their orders, except
-- the changed ones (int_orders_changed_intraday), which are restaged from their rows, so lines
-- landed on the open day count. ml_product_recommendations_fresh scores these lines with the
-- closed day's statistics (ml_recommender_statistics).
{{ config(materialized='table') }}

with

fresh as (
    select * from {{ ref('int_customers_fresh') }}
),

changed as (
    select * from {{ ref('int_orders_changed_intraday') }}
),

closed_lines as (
    select * from {{ ref('int_recommender_order_lines') }}
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

{{ fresh_customer_orders('fresh', 'changed', 'order_versions', 'order_items') }},

fresh_order_lines as (
    {{ order_lines_netted('fresh_order_items', 'fresh_orders', 'currencies') }}
),

restaged_lines as (
    {{ recommender_order_lines('fresh_order_lines') }}
),

kept_lines as (
    select closed_lines.* from closed_lines
    where
        closed_lines.customer_id in (select fresh.customer_id from fresh)
        and closed_lines.order_id not in (select changed.order_id from changed)
),

final as (
    {%- for part in ['kept_lines', 'restaged_lines'] %}
    select
        {{ part }}.customer_id,
        {{ part }}.order_id,
        {{ part }}.product_id,
        {{ part }}.order_date,
        {{ part }}.known_date,
        {{ part }}.retracted_date
    from {{ part }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from final
