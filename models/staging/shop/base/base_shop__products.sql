{%- set rules = [
    {'name': 'null_key', 'when': 'source.id is null'},
    {'name': 'negative_money', 'when': 'source.list_price is null or source.list_price < 0'},
    {'name': 'unknown_category', 'when': 'categories.subcategory is null'},
] -%}

with

source as (
    select * from {{ source('shop', 'products') }}
),

categories as (
    select category, subcategory from {{ ref('product_categories') }}
),

row_checked as (
    select
        source.*,
        to_json(source) as raw_row_json,
        {{ first_failing_rule(rules) }} as row_rule,
    from source
    left join categories
        on source.category = categories.category
        and source.subcategory = categories.subcategory
),

final as (
    {{ quarantine_duplicates('row_checked', ['id']) }}
)

select * from final
