with

checked as (
    select * from {{ ref('base_shop__web_sessions') }}
    where quarantine_rule is null
),

final as (
    select
        id as session_id,
        customer_id,
        viewed_product_ids,
        pages_viewed,
        coalesce(len(viewed_product_ids), 0) as products_viewed,
        customer_id is null as is_anonymous,
        {{ to_utc('started_at') }} as started_at,
        {{ to_utc('_loaded_at') }} as loaded_at,
    from checked
)

select * from final
