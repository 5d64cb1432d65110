-- One row per staged return, its refund converted to EUR and attributed to the ordering customer.
{{ refunds_converted(
    returns=ref('stg_shop__returns'),
    orders=ref('stg_shop__orders'),
    currencies=ref('currencies')
) }}
