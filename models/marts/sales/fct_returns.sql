-- One row per staged return: the refund in EUR (subtracted from net sales on the return date)
-- and the units it takes back from its purchase under the one return-capping rule (counted
-- against the order date in return rates). A return that matches no purchased line refunds
-- money but takes back no units.
with

refunds as (
    select * from {{ ref('int_refunds_converted') }}
),

returned_units as (
    select * from {{ ref('int_returned_units_capped') }}
),

final as (
    select
        refunds.return_id,
        refunds.order_id,
        refunds.customer_id,
        refunds.product_id,
        refunds.quantity,
        cast(coalesce(returned_units.returned_units, 0) as integer) as returned_units,
        refunds.refund_eur,
        refunds.return_date,
        returned_units.order_date,
        refunds.returned_at
    from refunds
    left join returned_units
        on refunds.return_id = returned_units.return_id
)

select * from final
