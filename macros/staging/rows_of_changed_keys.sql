{#
    Every row of `relation` whose `key` has a row with one of `changed_columns` on or after
    `since` (usable_since_last_run): what an incremental run keyed by `key` recomputes from
    (docs: incremental_orders). A subquery named `alias`.
#}
{% macro rows_of_changed_keys(relation, key, changed_columns, since, alias) -%}
    (
        select * from {{ relation }}
        where {{ key }} in (
            select {{ key }} from {{ relation }}
            where {% for column in changed_columns -%}
                {{ column }} >= {{ since }}{% if not loop.last %} or {% endif %}
            {%- endfor %}
        )
    ) as {{ alias }}
{%- endmacro %}
