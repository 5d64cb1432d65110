{{ check_raw_rows('web_sessions') }}
