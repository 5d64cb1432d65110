{%- set rules = [
    {'name': 'null_key', 'when': 'source.id is null or source.updated_at is null'},
    {'name': 'malformed_email', 'when': "source.email is null or not regexp_full_match(trim(source.email), '[^@\\s]+@[^@\\s]+\\.[^@\\s]+')"},
    {'name': 'unknown_country', 'when': 'countries.country_code is null'},
    {'name': 'future_timestamp', 'when': 'source.updated_at > source._loaded_at or source.signup_at > source._loaded_at'},
] -%}

with

source as (
    select * from {{ source('shop', 'customers') }}
),

countries as (
    select country_code from {{ ref('countries') }}
),

row_checked as (
    select
        source.*,
        -- PII must not leave staging even through the quarantine: pseudonymise it in the JSON too.
        json_merge_patch(
            to_json(source),
            json_object(
                'email', {{ hash_pii('source.email') }},
                'full_name', {{ hash_pii('source.full_name') }}
            )
        ) as raw_row_json,
        {{ first_failing_rule(rules) }} as row_rule,
    from source
    left join countries
        on source.country = countries.country_code
),

final as (
    {{ quarantine_duplicates('row_checked', ['id', 'updated_at']) }}
)

select * from final
