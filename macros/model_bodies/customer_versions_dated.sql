{#- The body of int_customer_versions_dated (its SQL lives here so that a fresh counterpart can run it
    on other relations; see model_bodies in _model_bodies__macros.yml). -#}
{% macro customer_versions_dated(customer_versions) %}
with

customer_versions as (
    select * from {{ customer_versions }}
),

dated as (
    select
        *,
        cast(greatest(updated_at, loaded_at) as date) as valid_from_date,
        row_number() over (
            partition by customer_id
            order by updated_at, loaded_at
        ) as version_number
    from customer_versions
),

-- Several versions known the same day: the latest one describes that day.
latest_per_day as (
    select *
    from dated
    qualify
        row_number() over (
            partition by customer_id, valid_from_date
            order by updated_at desc, loaded_at desc
        ) = 1
),

-- A version that lands after a newer one (out-of-order CDC) is stale and never takes effect.
in_force as (
    select *
    from latest_per_day
    qualify
        updated_at > coalesce(
            max(updated_at) over (
                partition by customer_id
                order by valid_from_date
                rows between unbounded preceding and 1 preceding
            ),
            timestamp '1900-01-01'
        )
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
        updated_at
    from in_force
)

select * from final
{% endmacro %}
