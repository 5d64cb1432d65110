{#
    Adds `quarantine_ref` (`<rule>|<column>`) to rows checked by first_failing_rule (column
    `row_rule`). Among the rows of one key that pass every row rule, the first landed is kept;
    a later copy is quarantined as
      - `duplicate_resend` when its content (every declared column but _loaded_at, compared by
        row_fingerprint) equals the kept copy's: the same row sent again;
      - `conflicting_duplicate` when it differs: same key, other content (e.g. an order re-sent
        with another status). The first landed copy is still the one staged.
    Ties on `_loaded_at` are broken by the fingerprint, then the raw row id, so the choice is
    deterministic.
#}
{% macro quarantine_duplicates(relation, key_columns) -%}
    {%- set partition = key_columns | join(', ') -%}
    select
        * exclude (row_rule),
        coalesce(
            row_rule,
            case
                when row_number() over by_key = 1 then null
                when row_fingerprint = first_value(row_fingerprint) over by_key
                    then 'duplicate_resend|{{ key_columns | first }}'
                else 'conflicting_duplicate|{{ key_columns | first }}'
            end
        ) as quarantine_ref
    from {{ relation }}
    window by_key as (
        partition by {{ partition }}, row_rule is null
        order by _loaded_at, row_fingerprint, raw_row_id
    )
{%- endmacro %}

{#
    A further uniqueness rule among the rows still staged (e.g. a product at most once per
    order): the first landed row of each `columns` value is kept (ties: lowest key), later ones
    are quarantined as `rule`.
#}
{% macro quarantine_repeats(relation, columns, rule, key_columns) -%}
    select
        * exclude (quarantine_ref),
        coalesce(
            quarantine_ref,
            case
                when row_number() over (
                    partition by {{ columns | join(', ') }}, quarantine_ref is null
                    order by _loaded_at, {{ key_columns | join(', ') }}, raw_row_id
                ) > 1 then '{{ rule }}|{{ columns | last }}'
            end
        ) as quarantine_ref
    from {{ relation }}
{%- endmacro %}
