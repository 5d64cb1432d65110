-- One row per customer per rank: the closed day's recommendations, except for the fresh
-- customers, whose lists are recomputed as of the open day (docs: intraday_freshness). The
-- Python models compute; this table is what is served and published, under a contract.
{{ config(materialized='table') }}

with

closed_day as (
    select * from {{ ref('ml_product_recommendations_closed') }}
),

fresh as (
    select * from {{ ref('ml_product_recommendations_fresh') }}
),

fresh_customers as (
    select * from {{ ref('int_customers_fresh') }}
),

stacked as (
    select
        customer_id,
        product_id,
        rank,
        score,
        reason,
        as_of_date
    from closed_day
    where customer_id not in (select fresh_customers.customer_id from fresh_customers)
    union all
    select
        customer_id,
        product_id,
        rank,
        score,
        reason,
        as_of_date
    from fresh
),

final as (
    select
        cast(customer_id as bigint) as customer_id,
        cast(product_id as bigint) as product_id,
        cast(rank as bigint) as rank,
        cast(score as double) as score,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(as_of_date as date) as as_of_date
    from stacked
)

select * from final
