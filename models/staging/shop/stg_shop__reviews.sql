with

checked as (
    select * from {{ ref('base_shop__reviews') }}
    where quarantine_rule is null
),

-- Free text may hold personal data, so only its length leaves staging.
final as (
    select
        id as review_id,
        customer_id,
        product_id,
        rating,
        review_text_length,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('_loaded_at') }} as loaded_at,
    from checked
)

select * from final
