{#-
    CTEs (no leading `with`) ending in one named `name`: the rows of `kept` with those of
    `replaced` taken out and those of `restaged` put in, for rows that are sums per key (`key`
    columns, then `measures` in this order in all three relations): per key, kept + restaged -
    replaced. So when `kept` is what a whole history gave and `replaced` what some of its parts
    gave, the result is what the history with those parts restaged gives; a key netted to zero
    adds nothing to a sum. With `split_on` (key columns), only the kept rows sharing those
    columns with a replaced or restaged row are regrouped, the rest pass through unchanged:
    cheaper when few keys change.
-#}
{% macro net_replaced_rows(kept, replaced, restaged, key, measures, name, split_on=none) %}
{%- set types = measures.values() | list %}
{%- if split_on %}
{{ name }}_touched as (
    select {{ split_on | join(', ') }} from {{ replaced }}
    union
    select {{ split_on | join(', ') }} from {{ restaged }}
),

{{ name }}_kept_touched as (
    select kept_rows.* from {{ kept }} as kept_rows
    inner join {{ name }}_touched
        on {% for column in split_on %}kept_rows.{{ column }} = {{ name }}_touched.{{ column }}{{ '\n        and ' if not loop.last }}{% endfor %}
),

{{ name }}_kept_untouched as (
    select kept_rows.* from {{ kept }} as kept_rows
    left join {{ name }}_touched
        on {% for column in split_on %}kept_rows.{{ column }} = {{ name }}_touched.{{ column }}{{ '\n        and ' if not loop.last }}{% endfor %}
    where {{ name }}_touched.{{ split_on | first }} is null
),

{%- endif %}
{{ name }}_terms as (
    select * from {{ name ~ '_kept_touched' if split_on else kept }}
    union all
    select
        {{ key | join(',\n        ') }},
    {%- for measure in measures %}
        -{{ measure }} as {{ measure }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ replaced }}
    union all
    select * from {{ restaged }}
),

{{ name }}_netted as (
    select
        {{ key | join(',\n        ') }},
    {%- for measure, data_type in measures.items() %}
        cast(sum({{ measure }}) as {{ data_type }}) as {{ measure }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ name }}_terms
    group by {{ key | join(', ') }}
),

{{ name }} as (
    {%- if split_on %}
    select * from {{ name }}_kept_untouched
    union all
    {%- endif %}
    select * from {{ name }}_netted
)
{%- endmacro %}
