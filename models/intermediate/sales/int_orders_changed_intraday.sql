-- One row per order whose staged rows (its versions, lines and returns) may differ from the
-- ones the daily run built its tables from (int_order_lines_netted, int_refunds_converted,
-- int_returned_units_capped, int_customer_events_known, int_recommender_order_lines): the fresh
-- models take every other order from those tables and restage these only. A staged row's
-- verdict and values follow from its own rows, the rows of its key group and the parents and
-- lookups it names (shop_raw_domains), and a landed row is never rewritten, so an order can
-- have changed only when one of those rows landed after the daily run's tables were built.
-- Taking them from the end of its last closed day (the feature history's latest date) errs on
-- the safe side: an order restaged without a change gives its rows again.
{{ config(materialized='table') }}
{%- set domains = shop_raw_domains() %}
{%- set order_tables = {'orders': 'id', 'order_items': 'order_id', 'returns': 'order_id'} %}

with

closed_through as (
    select
        coalesce(
            cast({{ pit_add_days('max(as_of_date)', 1) }} as timestamp),
            cast('0001-01-01 00:00:00' as timestamp)
        ) as landed_from
    from {{ ref('int_customer_features_requested') }}
    where is_latest
),

{%- for table_name, order_column in order_tables.items() %}
{%- set spec = domains[table_name] %}
{%- set group_column = spec.key | first %}
{%- set load_column = (spec.columns.items() | selectattr('1.load_time') | first)[0] %}
{%- set named = [] %}
{%- for column, domain in spec.columns.items() if domain.parent %}
    {%- do named.append({'column': column, 'table': domain.parent.table, 'match': domain.parent.match}) %}
{%- endfor %}
{%- for lookup in spec.get('lookups', []) %}
    {%- do named.append({'column': (lookup.match.keys() | first), 'table': lookup.table, 'match': lookup.match}) %}
{%- endfor %}

{{ table_name }}_changed as (
    select {{ table_name }}_rows.{{ order_column }} as order_id
    from {{ ref('base_shop__' ~ table_name) }} as {{ table_name }}_rows
    where
        {{ table_name }}_rows.{{ order_column }} is not null
        and (
            -- a row of its key group landed (duplicates and uniqueness are decided in the group)
            {{ table_name }}_rows.{{ group_column }} in (
                select landed.{{ group_column }}
                from {{ ref('base_shop__' ~ table_name) }} as landed
                where landed.{{ load_column }} >= (select closed_through.landed_from from closed_through)
            )
        {%- for parent in named %}
        {%- set parent_spec = domains[parent.table] %}
        {%- set parent_load = (parent_spec.columns.items() | selectattr('1.load_time') | first)[0] %}
            -- a row of a {{ parent.table }} row it names landed (matched on the first column: a superset)
            or {{ table_name }}_rows.{{ parent.column }} in (
                select parent_rows.{{ parent.match[parent.column] }}
                from {{ ref('base_shop__' ~ parent.table) }} as parent_rows
                where parent_rows.{{ parent_load }} >= (select closed_through.landed_from from closed_through)
            )
        {%- endfor %}
        )
),
{%- endfor %}

final as (
{%- for table_name in order_tables %}
    select order_id from {{ table_name }}_changed
    {{- '\n    union' if not loop.last }}
{%- endfor %}
)

select * from final
