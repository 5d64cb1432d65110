-- One row per customer: when they signed up, when the warehouse first knew them, and their
-- current attributes (latest staged version).
{{ customers_signed_up(
    customer_versions=ref('stg_shop__customers')
) }}
