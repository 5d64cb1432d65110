{#
    dbt's `unique`, with one addition: given `changed_since` (timestamp columns of the model), a
    daily run checks only the key groups holding a row changed since the last green daily run
    (changed_key_groups, docs: incremental_tests); without it, or outside a daily run, the
    whole column, as dbt's.
#}
{% test unique(model, column_name, changed_since=[]) %}
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ changed_key_groups(model, [column_name], changed_since) }}
    where {{ column_name }} is not null
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}
