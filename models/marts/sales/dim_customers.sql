-- One row per customer with their current attributes (latest staged version) and signup date.
-- No pseudonymised e-mail: analysts group by attributes, not by identity.
with

customers as (
    select * from {{ ref('int_customers_signed_up') }}
),

final as (
    select
        customer_id,
        country_code,
        signup_channel,
        is_marketing_opt_in,
        signup_date,
        signup_at
    from customers
)

select * from final
