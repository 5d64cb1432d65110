-- One row per calendar day from the first signup to the last day any order landed: the as-of
-- dates features exist for. The last landed day is treated as complete ("today" of the data).
with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

bounds as (
    select
        (select min(signup_date) from customers) as first_date,
        (select max(cast(loaded_at as date)) from orders) as last_date
),

final as (
    select
        cast(spine.as_of_date as date) as as_of_date,
        cast(spine.as_of_date as date) = bounds.last_date as is_latest
    from bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval 1 day)
        as spine (as_of_date)
)

select * from final
