with

checked as (
    select * from {{ ref('base_shop__products') }}
    where quarantine_rule is null
),

final as (
    select
        id as product_id,
        name as product_name,
        category,
        subcategory,
        brand,
        {{ to_money('list_price') }} as list_price_eur,
        {{ to_utc('launched_at') }} as launched_at,
        {{ to_utc('_loaded_at') }} as loaded_at,
    from checked
)

select * from final
