{{ check_raw_rows(
    table_name='orders',
    key_columns=['id'],
    lookups=[
        staged_keys('known_customers', ref('base_shop__customers'), 'source.customer_id = known_customers.id'),
        {'alias': 'currencies', 'relation': ref('currencies'), 'columns': 'currency_code',
         'on': 'source.currency = currencies.currency_code'},
    ],
    rules=[
        {'name': 'null_key', 'when': 'source.id is null'},
        {'name': 'unknown_customer', 'when': 'known_customers.id is null'},
        {'name': 'unknown_currency', 'when': 'currencies.currency_code is null'},
        {'name': 'unknown_status', 'when': "source.status is null or source.status not in ('placed', 'shipped', 'delivered', 'cancelled')"},
        {'name': 'negative_money', 'when': 'source.shipping_amount < 0 or source.tax_amount < 0'},
        {'name': 'future_timestamp', 'when': 'source.ordered_at is null or source.ordered_at > source._loaded_at'},
    ],
) }}
