{{ check_raw_rows('returns') }}
