{%- set rules = [
    {'name': 'null_key', 'when': 'source.id is null'},
    {'name': 'unknown_customer', 'when': 'known_customers.id is null'},
    {'name': 'unknown_product', 'when': 'known_products.id is null'},
    {'name': 'rating_out_of_range', 'when': 'source.rating is null or source.rating not between 1 and 5'},
    {'name': 'future_timestamp', 'when': 'source.created_at is null or source.created_at > source._loaded_at'},
] -%}

with

source as (
    select * from {{ source('shop', 'reviews') }}
),

known_customers as (
    select distinct id from {{ ref('base_shop__customers') }}
    where quarantine_rule is null
),

known_products as (
    select id from {{ ref('base_shop__products') }}
    where quarantine_rule is null
),

row_checked as (
    select
        source.*,
        -- Free text may hold personal data: the quarantine keeps only its length.
        json_merge_patch(
            to_json(source),
            json_object('review_text', 'redacted, ' || coalesce(length(source.review_text), 0) || ' chars')
        ) as raw_row_json,
        {{ first_failing_rule(rules) }} as row_rule,
    from source
    left join known_customers
        on source.customer_id = known_customers.id
    left join known_products
        on source.product_id = known_products.id
),

final as (
    {{ quarantine_duplicates('row_checked', ['id']) }}
)

select * from final
