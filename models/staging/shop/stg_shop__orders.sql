-- One row per order out of its staged versions (the status change stream): the header as
-- placed (its first version by updated_at), the status of its latest version, and when a
-- cancellation happened and landed. The versions themselves are stg_shop__order_status_history;
-- every consumer of "an order" keeps this grain. Changing the grain is this model's point, so
-- it aggregates, once per build (a table): min_by/max_by (DuckDB, Spark) in one hash
-- aggregate cost an eighth of the equivalent window functions at `default`.
{{ config(materialized='table') }}

with

checked as (
    select * from {{ ref('base_shop__orders') }}
    where quarantine_rule is null
),

final as (
    select
        id as order_id,
        min_by(customer_id, updated_at) as customer_id,
        min_by(channel, updated_at) as channel,
        max_by(status, updated_at) as order_status,
        min_by(currency, updated_at) as currency_code,
        min_by(discount_code, updated_at) as discount_code,
        min_by(shipping_amount, updated_at) as shipping_amount,
        min_by(tax_amount, updated_at) as tax_amount,
        -- Cancelled is final: the first cancellation counts, whatever comes after it.
        count(case when status = 'cancelled' then 1 end) > 0 as is_cancelled,
        min_by(discount_code, updated_at) is not null as has_discount_code,
        min_by(ordered_at, updated_at) as ordered_at,
        max(updated_at) as status_updated_at,
        min(case when status = 'cancelled' then updated_at end) as cancelled_at,
        min(case when status = 'cancelled' then _loaded_at end) as cancellation_loaded_at,
        min(_loaded_at) as loaded_at
    from checked
    group by id
)

select * from final
