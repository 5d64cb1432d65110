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
{#- Per table of an order: its key group column and the rows it names ({column, table, key}). #}
{%- set named = {} %}
{%- set landed_tables = [] %}
{%- for table_name in order_tables %}
{%- set spec = domains[table_name] %}
{%- set rows = [] %}
{%- for column, domain in spec.columns.items() if domain.parent %}
{%- set parent = domain.parent %}
{%- do rows.append({'column': column, 'table': parent.table, 'key': parent.match[column]}) %}
{%- endfor %}
{%- for lookup in spec.get('lookups', []) %}
{%- set column = lookup.match.keys() | first %}
{%- do rows.append({'column': column, 'table': lookup.table, 'key': lookup.match[column]}) %}
{%- endfor %}
{%- do named.update({table_name: rows}) %}
{%- for table in [table_name] + (rows | map(attribute='table') | list) %}
{%- if table not in landed_tables %}
{%- do landed_tables.append(table) %}
{%- endif %}
{%- endfor %}
{%- endfor %}

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

{%- for table in landed_tables %}
{%- set load_column = (domains[table].columns.items() | selectattr('1.load_time') | first)[0] %}

-- The {{ table }} rows landed since.
{{ table }}_landed as (
    select landed_rows.*
    from {{ ref('base_shop__' ~ table) }} as landed_rows
    where landed_rows.{{ load_column }} >= (select closed_through.landed_from from closed_through)
),
{%- endfor %}

{%- for table_name, order_column in order_tables.items() %}
{%- set group_column = domains[table_name].key | first %}

-- Orders of a {{ table_name }} row whose key group has a landed row (duplicates and uniqueness
-- are decided in the group) or that names a landed row (matched on its first column: a
-- superset).
{{ table_name }}_changed as (
    select order_rows.{{ order_column }}{{ ' as order_id' if order_column != 'order_id' }}
    from {{ ref('base_shop__' ~ table_name) }} as order_rows
    where
        order_rows.{{ order_column }} is not null
        and (
            order_rows.{{ group_column }} in (
                select {{ table_name }}_landed.{{ group_column }} from {{ table_name }}_landed
            )
            {%- for parent in named[table_name] %}
            or order_rows.{{ parent.column }} in (
                select {{ parent.table }}_landed.{{ parent.key }} from {{ parent.table }}_landed
            )
            {%- endfor %}
        )
),
{%- endfor %}

final as (
    {%- for table_name in order_tables %}
    select {{ table_name }}_changed.order_id
    from {{ table_name }}_changed
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
)

select * from final
