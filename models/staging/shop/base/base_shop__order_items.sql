{{ check_raw_rows(
    table_name='order_items',
    key_columns=['order_id', 'line_number'],
    lookups=[
        staged_keys('known_orders', ref('base_shop__orders'), 'source.order_id = known_orders.id'),
        staged_keys('known_products', ref('base_shop__products'), 'source.product_id = known_products.id'),
    ],
    rules=[
        {'name': 'null_key', 'when': 'source.order_id is null or source.line_number is null'},
        {'name': 'unknown_order', 'when': 'known_orders.id is null'},
        {'name': 'unknown_product', 'when': 'known_products.id is null'},
        {'name': 'non_positive_quantity', 'when': 'source.quantity is null or source.quantity <= 0'},
        {'name': 'negative_money', 'when': 'source.unit_price is null or source.unit_price < 0 or source.discount_amount < 0'},
    ],
) }}
