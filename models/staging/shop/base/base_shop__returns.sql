{{ check_raw_rows(
    table_name='returns',
    key_columns=['id'],
    lookups=[
        staged_keys('known_orders', ref('base_shop__orders'), 'source.order_id = known_orders.id'),
        staged_keys('known_products', ref('base_shop__products'), 'source.product_id = known_products.id'),
    ],
    rules=[
        {'name': 'null_key', 'when': 'source.id is null'},
        {'name': 'unknown_order', 'when': 'known_orders.id is null'},
        {'name': 'unknown_product', 'when': 'known_products.id is null'},
        {'name': 'non_positive_quantity', 'when': 'source.quantity is null or source.quantity <= 0'},
        {'name': 'negative_money', 'when': 'source.refund_amount is null or source.refund_amount < 0'},
        {'name': 'future_timestamp', 'when': 'source.returned_at is null or source.returned_at > source._loaded_at'},
    ],
) }}
