with

checked as (
    select * from {{ ref('base_shop__customers') }}
    where quarantine_rule is null
),

final as (
    select
        id as customer_id,
        email_hash,
        country as country_code,
        signup_channel,
        marketing_opt_in as is_marketing_opt_in,
        {{ to_utc('signup_at') }} as signup_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at,
    from checked
)

select * from final
