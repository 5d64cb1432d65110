-- PII must not leave staging even through the quarantine: the e-mail and name are pseudonymised
-- in the raw row's JSON too.
{{ check_raw_rows(
    table_name='customers',
    key_columns=['id', 'updated_at'],
    lookups=[
        {'alias': 'countries', 'relation': ref('countries'), 'columns': 'country_code',
         'on': 'source.country = countries.country_code'},
    ],
    rules=[
        {'name': 'null_key', 'when': 'source.id is null or source.updated_at is null'},
        {'name': 'malformed_email', 'when': "source.email is null or not regexp_full_match(trim(source.email), '[^@\\s]+@[^@\\s]+\\.[^@\\s]+')"},
        {'name': 'unknown_country', 'when': 'countries.country_code is null'},
        {'name': 'future_timestamp', 'when': 'source.updated_at > source._loaded_at or source.signup_at > source._loaded_at'},
    ],
    raw_row_json="json_merge_patch(to_json(source), json_object('email', " ~ hash_pii('source.email') ~ ", 'full_name', " ~ hash_pii('source.full_name') ~ "))",
) }}
