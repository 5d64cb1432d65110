{{ check_raw_rows('order_items') }}
