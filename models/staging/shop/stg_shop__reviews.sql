-- A view: the base table already holds the checked rows in their staged types, so staging
-- only renames; a table would write every row a second time.
{{ config(materialized='view') }}

with

checked as (
    select * from {{ ref('base_shop__reviews') }}
    where quarantine_rule is null
),

-- Free text may hold personal data, so only its length leaves staging.
final as (
    select
        id as review_id,
        customer_id,
        product_id,
        rating,
        review_text_length,
        created_at,
        _loaded_at as loaded_at,
        known_at
    from checked
)

select * from final
