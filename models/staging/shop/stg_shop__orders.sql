-- One row per order out of its staged versions (the status change stream): the header as
-- placed (its first version by updated_at), the status of its latest version, and when a
-- cancellation happened and landed. The versions themselves are stg_shop__order_status_history;
-- every consumer of "an order" keeps this grain. Changing the grain is this model's point, so
-- it aggregates, once per build (a table): min_by/max_by (DuckDB, Spark) in one hash
-- aggregate cost an eighth of the equivalent window functions at `default`.
{{ config(materialized='table') }}

{{ shop_orders_from_versions(
    order_versions=ref('base_shop__orders')
) }}
