{#
    Adds `quarantine_rule` to rows already checked by `first_failing_rule` (column `row_rule`):
    among the rows of one key that pass every row rule, the first landed is kept and every later
    copy is quarantined as `duplicate_key` (a documented de-duplication, never a silent drop).
    Ties on `_loaded_at` are broken by the raw row's JSON so the choice is deterministic.
#}
{% macro quarantine_duplicates(relation, key_columns) -%}
    select
        * exclude (row_rule),
        coalesce(
            row_rule,
            case
                when row_number() over (
                    partition by {{ key_columns | join(', ') }}, row_rule is null
                    order by _loaded_at, raw_row_json
                ) > 1 then 'duplicate_key'
            end
        ) as quarantine_rule,
    from {{ relation }}
{%- endmacro %}
