-- One row per order out of its staged versions (the status change stream): the header as
-- placed (its first version by updated_at), the status of its latest version, and when a
-- cancellation happened and landed. The versions themselves are stg_shop__order_status_history;
-- every consumer of "an order" keeps this grain. Changing the grain is this model's point, so
-- it aggregates and is stored: min_by/max_by (DuckDB, Spark) in one hash aggregate cost an
-- eighth of the equivalent window functions at `default`. Incremental (docs:
-- incremental_orders): a run re-aggregates only the orders with a version that became usable
-- since the newest one the table holds, all of their versions.
{{ config(
    materialized='incremental',
    unique_key='order_id'
) }}

{%- set versions = ref('base_shop__orders') %}
{%- if is_incremental() %}
    {%- set versions -%}
    (
        select * from {{ ref('base_shop__orders') }}
        where id in (
            select id from {{ ref('base_shop__orders') }}
            where quarantine_rule is null and known_at >= {{ usable_since_last_run(['last_known_at']) }}
        )
    ) as changed_versions
    {%- endset %}
{%- endif %}

{{ shop_orders_from_versions(order_versions=versions) }}
