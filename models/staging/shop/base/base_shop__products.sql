{{ check_raw_rows('products') }}
