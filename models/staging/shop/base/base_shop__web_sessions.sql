{{ check_raw_rows(
    table_name='web_sessions',
    key_columns=['id'],
    lookups=[
        staged_keys('known_customers', ref('base_shop__customers'), 'source.customer_id = known_customers.id'),
    ],
    rules=[
        {'name': 'null_key', 'when': 'source.id is null'},
        {'name': 'unknown_customer', 'when': 'source.customer_id is not null and known_customers.id is null'},
        {'name': 'future_timestamp', 'when': 'source.started_at is null or source.started_at > source._loaded_at'},
    ],
) }}
