{{ check_raw_rows('reviews') }}
