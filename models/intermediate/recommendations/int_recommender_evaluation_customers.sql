-- One row per backtest window and customer known on its cutoff
-- (int_recommender_backtest_windows): the customers the recommender could serve that day, with
-- the attributes of their popularity segment in force then (int_customer_versions_dated, SCD2;
-- null while no version was in force yet).
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

known_customers as (
    select
        customers.customer_id,
        windows.cutoff_date
    from customers
    inner join windows
        on customers.first_known_date <= windows.cutoff_date
            and customers.signup_date <= windows.cutoff_date
),

final as (
    select
        known_customers.customer_id,
        customer_versions.country_code,
        customer_versions.signup_channel,
        known_customers.cutoff_date as as_of_date
    from known_customers
    left join customer_versions
        on known_customers.customer_id = customer_versions.customer_id
            and known_customers.cutoff_date >= customer_versions.valid_from_date
            -- No OR in the join (an open version has no valid_to_date): a range join, not a
            -- nested loop over every customer's versions.
            and known_customers.cutoff_date
            < coalesce(customer_versions.valid_to_date, cast('9999-12-31' as date))
)

select * from final
