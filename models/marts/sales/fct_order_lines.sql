-- One row per line of a non-cancelled order, valued in EUR: the sales half of the net sales
-- definition (int_order_lines_netted), for analysts and the semantic layer. Cancelled orders'
-- lines count for no net sales, so they are not here.
with

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

final as (
    select
        order_item_id,
        order_id,
        customer_id,
        product_id,
        currency_code,
        line_number,
        quantity,
        net_sales_eur,
        order_date,
        ordered_at
    from order_lines
    where not is_cancelled
)

select * from final
