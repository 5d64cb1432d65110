{#
    Every row of `relation` whose `key` is among `keys` (a SELECT of one column): the rows an
    incremental run keyed by `key` recomputes from (docs: incremental_orders). A subquery
    named `alias`.
#}
{% macro rows_with_keys(relation, key, keys, alias) -%}
    (select * from {{ relation }} where {{ key }} in ({{ keys }})) as {{ alias }}
{%- endmacro %}

{#
    rows_with_keys of the keys having a row with one of `changed_columns` on or after `since`
    (usable_since_last_run).
#}
{% macro rows_of_changed_keys(relation, key, changed_columns, since, alias) -%}
    {%- set changed_keys -%}
        select {{ key }} from {{ relation }}
        where {% for column in changed_columns -%}
            {{ column }} >= {{ since }}{% if not loop.last %} or {% endif %}
        {%- endfor %}
    {%- endset %}
    {{- rows_with_keys(relation, key, changed_keys, alias) }}
{%- endmacro %}
