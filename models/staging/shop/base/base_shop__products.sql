{{ check_raw_rows(
    table_name='products',
    key_columns=['id'],
    lookups=[
        {'alias': 'categories', 'relation': ref('product_categories'), 'columns': 'category, subcategory',
         'on': 'source.category = categories.category and source.subcategory = categories.subcategory'},
    ],
    rules=[
        {'name': 'null_key', 'when': 'source.id is null'},
        {'name': 'negative_money', 'when': 'source.list_price is null or source.list_price < 0'},
        {'name': 'unknown_category', 'when': 'categories.subcategory is null'},
    ],
) }}
