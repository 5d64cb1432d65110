{#
    The orders an incremental run keyed by order recomputes (docs: incremental_orders): those
    with a version (`orders`: stg_shop__orders, its `last_known_at`) or a line (`lines`, their
    `known_at`) usable on or after `since` (usable_since_last_run). A query of `order_id`.
#}
{% macro orders_changed_since(orders, lines, since) -%}
    select order_id from {{ orders }} where last_known_at >= {{ since }}
    union
    select order_id from {{ lines }} where known_at >= {{ since }}
{%- endmacro %}
