-- A view: the base table already holds the checked rows in their staged types, so staging
-- only renames; a table would write every row a second time.
{{ config(materialized='view') }}

with

checked as (
    select * from {{ ref('base_shop__customers') }}
    where quarantine_rule is null
),

final as (
    select
        id as customer_id,
        email_hash,
        country as country_code,
        signup_channel,
        marketing_opt_in as is_marketing_opt_in,
        signup_at,
        updated_at,
        _loaded_at as loaded_at
    from checked
)

select * from final
