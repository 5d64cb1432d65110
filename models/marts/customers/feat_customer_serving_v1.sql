-- Version 1 of feat_customer_serving (deprecated: docs block customer_feature_versions):
-- the latest version with net_sales_lifetime served under its old name lifetime_net_sales. A
-- view of version 2, so both always hold the same values and v1 costs no storage.
{{ config(materialized='view') }}
{%- set renamed_in_v1 = customer_feature_renames_v1() %}

with

features as (
    select * from {{ ref('feat_customer_serving', v=2) }}
),

final as (
    select
        features.customer_id,
        {{ pit_published_columns('customer', 'features', renamed_in_v1) }},
        features.as_of_date
    from features
)

select * from final
