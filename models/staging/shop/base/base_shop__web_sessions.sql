{%- set rules = [
    {'name': 'null_key', 'when': 'source.id is null'},
    {'name': 'unknown_customer', 'when': 'source.customer_id is not null and known_customers.id is null'},
    {'name': 'future_timestamp', 'when': 'source.started_at is null or source.started_at > source._loaded_at'},
] -%}

with

source as (
    select * from {{ source('shop', 'web_sessions') }}
),

known_customers as (
    select distinct id from {{ ref('base_shop__customers') }}
    where quarantine_rule is null
),

row_checked as (
    select
        source.*,
        to_json(source) as raw_row_json,
        {{ first_failing_rule(rules) }} as row_rule,
    from source
    left join known_customers
        on source.customer_id = known_customers.id
),

final as (
    {{ quarantine_duplicates('row_checked', ['id']) }}
)

select * from final
