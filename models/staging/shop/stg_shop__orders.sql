-- One row per order: the header as placed (its first staged version by updated_at), the status
-- of its latest version, and when a cancellation happened and landed. The versions themselves
-- are stg_shop__order_status_history; every consumer of "an order" keeps this grain.
-- Window functions over the order's versions, no join or aggregate: a table, so they are
-- computed once per build, not in every view that reads the orders.
{{ config(materialized='table') }}

with

checked as (
    select * from {{ ref('base_shop__orders') }}
    where quarantine_rule is null
),

versions as (
    select
        *,
        row_number() over (partition by id order by updated_at) as version_number,
        first_value(status) over (partition by id order by updated_at desc) as latest_status,
        max(updated_at) over (partition by id) as latest_updated_at,
        min(_loaded_at) over (partition by id) as first_loaded_at,
        -- Cancelled is final: the first cancellation counts, whatever comes after it.
        min(case when status = 'cancelled' then updated_at end) over (partition by id)
            as first_cancelled_at,
        min(case when status = 'cancelled' then _loaded_at end) over (partition by id)
            as first_cancellation_loaded_at
    from checked
),

final as (
    select
        id as order_id,
        customer_id,
        channel,
        latest_status as order_status,
        currency as currency_code,
        discount_code,
        shipping_amount,
        tax_amount,
        first_cancelled_at is not null as is_cancelled,
        discount_code is not null as has_discount_code,
        ordered_at,
        latest_updated_at as status_updated_at,
        first_cancelled_at as cancelled_at,
        first_cancellation_loaded_at as cancellation_loaded_at,
        first_loaded_at as loaded_at
    from versions
    where version_number = 1
)

select * from final
