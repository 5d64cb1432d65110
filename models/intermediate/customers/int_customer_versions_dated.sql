-- One row per customer version with the as-of dates it describes (SCD2 from the CDC feed):
-- a version describes the customer from the day it was both effective and landed, so a
-- historical feature row never sees an attribute value that was not yet known. The first
-- version describes the customer from the signup date (the customer exists from then on).
with

customer_versions as (
    select * from {{ ref('stg_shop__customers') }}
),

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

known_versions as (
    select
        customer_versions.*,
        customers.signup_date,
        cast(greatest(customer_versions.updated_at, customer_versions.loaded_at) as date)
            as known_date,
        row_number() over (
            partition by customer_versions.customer_id
            order by customer_versions.updated_at, customer_versions.loaded_at
        ) as version_number,
    from customer_versions
    inner join customers
        on customer_versions.customer_id = customers.customer_id
),

dated as (
    select
        *,
        case when version_number = 1 then signup_date else known_date end as valid_from_date,
    from known_versions
),

-- Several versions known the same day: the latest one describes that day.
latest_per_day as (
    select *
    from dated
    qualify row_number() over (
        partition by customer_id, valid_from_date
        order by updated_at desc, loaded_at desc
    ) = 1
),

final as (
    select
        customer_id,
        version_number,
        email_hash,
        country_code,
        signup_channel,
        is_marketing_opt_in,
        valid_from_date,
        lead(valid_from_date) over (
            partition by customer_id order by valid_from_date
        ) as valid_to_date,
        updated_at,
    from latest_per_day
)

select * from final
