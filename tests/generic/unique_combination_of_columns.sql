{#
    The grain test for composite keys: no two rows share the same values in all given columns,
    and none of those columns is null, except those in `nullable_columns` (a part of the grain
    where null means "none", e.g. an event never retracted; nulls compare equal there).
#}
{% test unique_combination_of_columns(model, combination_of_columns, nullable_columns=[]) %}
    {%- set columns = combination_of_columns | join(', ') %}
    select {{ columns }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
        {%- for column in combination_of_columns if column not in nullable_columns %}
        or {{ column }} is null
        {%- endfor %}
{% endtest %}
