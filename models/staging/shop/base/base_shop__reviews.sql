-- Free text may hold personal data: the quarantine keeps only its length.
{{ check_raw_rows(
    table_name='reviews',
    key_columns=['id'],
    lookups=[
        staged_keys('known_customers', ref('base_shop__customers'), 'source.customer_id = known_customers.id'),
        staged_keys('known_products', ref('base_shop__products'), 'source.product_id = known_products.id'),
    ],
    rules=[
        {'name': 'null_key', 'when': 'source.id is null'},
        {'name': 'unknown_customer', 'when': 'known_customers.id is null'},
        {'name': 'unknown_product', 'when': 'known_products.id is null'},
        {'name': 'rating_out_of_range', 'when': 'source.rating is null or source.rating not between 1 and 5'},
        {'name': 'future_timestamp', 'when': 'source.created_at is null or source.created_at > source._loaded_at'},
    ],
    raw_row_json="json_merge_patch(to_json(source), json_object('review_text', 'redacted, ' || coalesce(length(source.review_text), 0) || ' chars'))",
) }}
