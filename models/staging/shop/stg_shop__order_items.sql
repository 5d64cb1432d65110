with

checked as (
    select * from {{ ref('base_shop__order_items') }}
    where quarantine_rule is null
),

final as (
    select
        order_id || '-' || line_number as order_item_id,
        order_id,
        product_id,
        line_number,
        quantity,
        {{ to_money('unit_price') }} as unit_price,
        {{ to_money('coalesce(discount_amount, 0)') }} as discount_amount,
        {{ to_utc('_loaded_at') }} as loaded_at,
    from checked
)

select * from final
