-- One row per backtest window and customer known on its cutoff
-- (int_recommender_backtest_windows): the customers the recommender could serve that day, with
-- the attributes of their popularity segment in force then (macro recommender_customers_on).
with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

customer_versions as (
    select * from {{ ref('int_customer_versions_dated') }}
),

windows as (
    select * from {{ ref('int_recommender_backtest_windows') }}
),

cutoffs as (
    select cutoff_date as as_of_date
    from windows
),

{{ recommender_customers_on('customers', 'customer_versions', 'cutoffs', 'final') }}

select * from final
