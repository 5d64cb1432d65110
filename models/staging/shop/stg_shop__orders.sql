with

checked as (
    select * from {{ ref('base_shop__orders') }}
    where quarantine_rule is null
),

final as (
    select
        id as order_id,
        customer_id,
        channel,
        status as order_status,
        currency as currency_code,
        discount_code,
        {{ to_money('shipping_amount') }} as shipping_amount,
        {{ to_money('tax_amount') }} as tax_amount,
        status = 'cancelled' as is_cancelled,
        discount_code is not null as has_discount_code,
        {{ to_utc('ordered_at') }} as ordered_at,
        {{ to_utc('_loaded_at') }} as loaded_at,
    from checked
)

select * from final
