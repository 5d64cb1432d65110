{%- set rules = [
    {'name': 'null_key', 'when': 'source.id is null'},
    {'name': 'unknown_order', 'when': 'known_orders.id is null'},
    {'name': 'unknown_product', 'when': 'known_products.id is null'},
    {'name': 'non_positive_quantity', 'when': 'source.quantity is null or source.quantity <= 0'},
    {'name': 'negative_money', 'when': 'source.refund_amount is null or source.refund_amount < 0'},
    {'name': 'future_timestamp', 'when': 'source.returned_at is null or source.returned_at > source._loaded_at'},
] -%}

with

source as (
    select * from {{ source('shop', 'returns') }}
),

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
    {{ quarantine_duplicates('row_checked', ['id']) }}
)

select * from final
