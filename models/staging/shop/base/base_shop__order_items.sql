{%- set rules = [
    {'name': 'null_key', 'when': 'source.order_id is null or source.line_number is null'},
    {'name': 'unknown_order', 'when': 'known_orders.id is null'},
    {'name': 'unknown_product', 'when': 'known_products.id is null'},
    {'name': 'non_positive_quantity', 'when': 'source.quantity is null or source.quantity <= 0'},
    {'name': 'negative_money', 'when': 'source.unit_price is null or source.unit_price < 0 or source.discount_amount < 0'},
] -%}

with

source as (
    select * from {{ source('shop', 'order_items') }}
),

-- Lines of an order that was itself quarantined have no order to belong to: they follow it.
known_orders as (
    select id from {{ ref('base_shop__orders') }}
    where quarantine_rule is null
),

known_products as (
    select id from {{ ref('base_shop__products') }}
    where quarantine_rule is null
),

row_checked as (
    select
        source.*,
        to_json(source) as raw_row_json,
        {{ first_failing_rule(rules) }} as row_rule,
    from source
    left join known_orders
        on source.order_id = known_orders.id
    left join known_products
        on source.product_id = known_products.id
),

final as (
    {{ quarantine_duplicates('row_checked', ['order_id', 'line_number']) }}
)

select * from final
