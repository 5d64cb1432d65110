-- Distinct counts of the product feature spec as presence intervals: one row per product and
-- interval over which buyers (customers with a line of the product in an order, until its
-- cancellation is known) are inside a distinct-count window; the row adds their count to
-- `distinct_<measure>_<N>d` on every as-of date in [start_date, end_date). See
-- pit_distinct_intervals.
-- Incremental (docs: incremental_intervals): a run deletes the intervals ending on or after the
-- newest start it holds (pre-hook), then recomputes the intervals ending after the latest end
-- it keeps, from every line of the buyers of a product whose window can reach that far.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ pit_delete_open_intervals() }}"
) }}

{%- set order_lines = ref('int_order_lines_netted') %}
{%- if is_incremental() %}
    {%- set longest_window = pit_running_columns('product').distinct | map(attribute='days') | max %}
    {#- Every interval the table keeps ends before this date (the pre-hook ran). -#}
    {%- set recompute_from -%}
        (select coalesce({{ pit_add_days('max(kept.end_date)', 1) }}, cast('1900-01-01' as date))
         from {{ this }} as kept)
    {%- endset %}
    {%- set order_lines -%}
        (
            select * from {{ ref('int_order_lines_netted') }}
            where (product_id, customer_id) in (
                select product_id, customer_id from {{ ref('int_order_lines_netted') }}
                where order_date >= {{ pit_add_days(recompute_from, -longest_window) }}
            )
        ) as reaching_lines
    {%- endset %}
{%- endif %}

with

order_lines as (
    select * from {{ order_lines }}
),

buyer_events as (
    select
        product_id,
        'buyer' as measure,
        customer_id as distinct_key,
        order_date as event_date,
        {{ pit_known_date('known_at', 'order_date') }} as known_date,
        {{ pit_known_date('cancellation_known_at', 'cast(cancelled_at as date)') }}
            as retracted_date
    from order_lines
),

{{ pit_distinct_intervals('product', 'buyer_events', name='intervals') }},

final as (
    select * from intervals
    {%- if is_incremental() %}
    where end_date >= {{ recompute_from }}
    {%- endif %}
)

select * from final
