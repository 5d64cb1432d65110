with

checked as (
    select * from {{ ref('base_shop__returns') }}
    where quarantine_rule is null
),

final as (
    select
        id as return_id,
        order_id,
        product_id,
        quantity,
        {{ to_money('refund_amount') }} as refund_amount,
        {{ to_utc('returned_at') }} as returned_at,
        {{ to_utc('_loaded_at') }} as loaded_at,
    from checked
)

select * from final
