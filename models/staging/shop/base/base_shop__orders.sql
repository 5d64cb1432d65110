{%- set rules = [
    {'name': 'null_key', 'when': 'source.id is null'},
    {'name': 'unknown_customer', 'when': 'known_customers.id is null'},
    {'name': 'unknown_currency', 'when': 'currencies.currency_code is null'},
    {'name': 'unknown_status', 'when': "source.status is null or source.status not in ('placed', 'shipped', 'delivered', 'cancelled')"},
    {'name': 'negative_money', 'when': 'source.shipping_amount < 0 or source.tax_amount < 0'},
    {'name': 'future_timestamp', 'when': 'source.ordered_at is null or source.ordered_at > source._loaded_at'},
] -%}

with

source as (
    select * from {{ source('shop', 'orders') }}
),

-- A customer is known when at least one version of it was loaded into staging.
known_customers as (
    select distinct id from {{ ref('base_shop__customers') }}
    where quarantine_rule is null
),

currencies as (
    select currency_code from {{ ref('currencies') }}
),

row_checked as (
    select
        source.*,
        to_json(source) as raw_row_json,
        {{ first_failing_rule(rules) }} as row_rule,
    from source
    left join known_customers
        on source.customer_id = known_customers.id
    left join currencies
        on source.currency = currencies.currency_code
),

final as (
    {{ quarantine_duplicates('row_checked', ['id']) }}
)

select * from final
