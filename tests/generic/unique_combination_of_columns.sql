{#
    The grain test for composite keys: no two rows share the same values in all given columns,
    and none of those columns is null, except those in `nullable_columns` (a part of the grain
    where null means "none", e.g. an event never retracted; nulls compare equal there).
    Given `changed_since`, a daily run checks only the key groups holding a row changed since the
    last green daily run (changed_key_groups, docs: incremental_tests).
#}
{% test unique_combination_of_columns(model, combination_of_columns, nullable_columns=[], changed_since=[]) %}
    {%- set columns = combination_of_columns | join(', ') %}
    select {{ columns }}, count(*) as n_rows
    from {{ changed_key_groups(model, combination_of_columns, changed_since) }}
    group by {{ columns }}
    having count(*) > 1
        {%- for column in combination_of_columns if column not in nullable_columns %}
        or {{ column }} is null
        {%- endfor %}
{% endtest %}
