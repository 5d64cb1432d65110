{#- The body of int_customers_signed_up (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). -#}
{% macro customers_signed_up(customer_versions) %}
with

customer_versions as (
    select * from {{ customer_versions }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by updated_at desc, loaded_at desc
        ) as version_rank,
        min(signup_at) over (partition by customer_id) as first_signup_at,
        min(loaded_at) over (partition by customer_id) as first_loaded_at,
        count(*) over (partition by customer_id) as version_count
    from customer_versions
),

final as (
    select
        customer_id,
        email_hash,
        country_code,
        signup_channel,
        version_count,
        is_marketing_opt_in,
        cast(first_signup_at as date) as signup_date,
        -- The warehouse knows the customer from the day their first version landed.
        cast(first_loaded_at as date) as first_known_date,
        first_signup_at as signup_at,
        updated_at
    from ranked
    where version_rank = 1
)

select * from final
{% endmacro %}
