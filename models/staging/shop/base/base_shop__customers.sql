{{ check_raw_rows('customers') }}
