-- One row per staged order line, valued in EUR under the project's net sales definition.
{{ order_lines_netted(
    order_items=ref('stg_shop__order_items'),
    orders=ref('stg_shop__orders'),
    currencies=ref('currencies')
) }}
