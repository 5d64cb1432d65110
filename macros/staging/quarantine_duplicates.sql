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
{% macro quarantine_duplicates(relation, key_columns, raw_relation='source') -%}
    {%- set key = key_columns | join(', ') -%}
    {#-
        Only keys landed more than once need ordering: a window over every row would sort them
        all. They are found from the raw key columns alone (a superset: copies failing a row
        rule count too, the window below skips them), which is half the cost of grouping the
        checked rows.
    -#}
repeated_keys as (
    select {{ key }}
    from {{ raw_relation }}
    where {{ key_columns | join(' is not null and ') }} is not null
    group by {{ key }}
    having count(*) > 1
),

repeated_copies as (
    select
        {{ relation }}.raw_row_id,
        case
            when row_number() over by_key = 1 then null
            when {{ relation }}.row_fingerprint = first_value({{ relation }}.row_fingerprint) over by_key
                then 'duplicate_resend|{{ key_columns | first }}'
            else 'conflicting_duplicate|{{ key_columns | first }}'
        end as duplicate_ref
    from {{ relation }}
    inner join repeated_keys
        on {% for column in key_columns %}{{ relation }}.{{ column }} = repeated_keys.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
    where {{ relation }}.row_rule is null
    window by_key as (
        {%- set qualified = [] %}{% for column in key_columns %}{% do qualified.append(relation ~ '.' ~ column) %}{% endfor %}
        partition by {{ qualified | join(', ') }}
        order by {{ relation }}._loaded_at, {{ relation }}.row_fingerprint, {{ relation }}.raw_row_id
    )
),

deduplicated as (
    select
        {{ relation }}.* exclude (row_rule),
        coalesce({{ relation }}.row_rule, repeated_copies.duplicate_ref) as quarantine_ref
    from {{ relation }}
    left join repeated_copies
        on {{ relation }}.raw_row_id = repeated_copies.raw_row_id
)
{%- endmacro %}

{#
    A further uniqueness rule among the rows still staged (e.g. a product at most once per
    order): the first landed row of each `columns` value is kept (ties: lowest key), later ones
    are quarantined as `rule`.
#}
{% macro quarantine_repeats(relation, columns, rule, key_columns, raw_relation='source') -%}
    {%- set on = [] -%}
    {%- for column in columns -%}{%- do on.append(relation ~ '.' ~ column ~ ' = repeated.' ~ column) -%}{%- endfor -%}
    select
        {{ relation }}.* exclude (quarantine_ref),
        coalesce({{ relation }}.quarantine_ref, repeated.repeat_ref) as quarantine_ref
    from {{ relation }}
    left join (
        select
            {{ relation }}.raw_row_id,
            case
                when row_number() over (
                    partition by {% for column in columns %}{{ relation }}.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
                    order by {{ relation }}._loaded_at, {% for column in key_columns %}{{ relation }}.{{ column }}, {% endfor %}{{ relation }}.raw_row_id
                ) > 1 then '{{ rule }}|{{ columns | last }}'
            end as repeat_ref
        from {{ relation }}
        inner join (
            select {{ columns | join(', ') }}
            from {{ raw_relation }}
            where {{ columns | join(' is not null and ') }} is not null
            group by {{ columns | join(', ') }}
            having count(*) > 1
        ) as repeated
            on {{ on | join(' and ') }}
        where {{ relation }}.quarantine_ref is null
    ) as repeated
        on {{ relation }}.raw_row_id = repeated.raw_row_id
{%- endmacro %}
