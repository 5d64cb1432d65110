{{ check_raw_rows('orders') }}
