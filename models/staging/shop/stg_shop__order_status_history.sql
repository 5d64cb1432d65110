-- One row per staged version of an order from the order feed's change stream: every status the
-- order reached (placed, shipped, delivered, cancelled), valid from its updated_at until the
-- next version's. Staging only renames (the base table holds the checked rows in their staged
-- types). Stored, not a view: its tests would each compute the window over every version.
-- Incremental (docs: incremental_orders): a run rewrites every version of the orders with a
-- version that became usable since the newest one the table holds (a new version ends the
-- previous one's valid_to).
{{ config(
    materialized='incremental',
    unique_key='order_id'
) }}

{%- set versions = ref('base_shop__orders') %}
{%- if is_incremental() %}
    {%- set versions = rows_of_changed_keys(
        ref('base_shop__orders'), 'id', ['known_at'],
        since=usable_since_last_run(['known_at']), alias='changed_versions'
    ) %}
{%- endif %}

with

checked as (
    select * from {{ versions }}
    where quarantine_rule is null
),

final as (
    select
        id as order_id,
        status as order_status,
        status = 'cancelled' as is_cancelled,
        updated_at as valid_from,
        lead(updated_at) over (partition by id order by updated_at) as valid_to,
        _loaded_at as loaded_at,
        known_at
    from checked
)

select * from final
