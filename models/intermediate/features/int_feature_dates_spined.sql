-- One row per calendar day from the first signup to the last closed day: the as-of dates
-- features exist for. Closed: the last day any order landed, and under a landing clock
-- (landing_clock) never the clock's own day, still open (its rows make the fresh rows of
-- int_customer_features_fresh instead).
{%- set closed_date = landing_closed_date() %}

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
        {%- if closed_date is none %}
        (select max(cast(loaded_at as date)) from orders) as last_date
        {%- else %}
        least((select max(cast(loaded_at as date)) from orders), {{ closed_date }}) as last_date
        {%- endif %}
),

days as (
    {{ date_series('bounds', 'bounds.first_date', 'bounds.last_date', 'as_of_date') }}
),

final as (
    select
        days.as_of_date,
        days.as_of_date = bounds.last_date as is_latest
    from days
    cross join bounds
)

select * from final
