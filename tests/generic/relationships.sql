{#
    dbt's `relationships`, with one addition: given `changed_since` (timestamp columns of the
    model), a daily run checks only the child rows changed since the last green daily run
    (changed_rows_condition, docs: incremental_tests), each against every parent. Only for a
    parent whose keys are never withdrawn (staging's: a staged key stays staged); without it,
    or outside a daily run, every child row, as dbt's.
#}
{% test relationships(model, column_name, to, field, changed_since=[]) %}
{%- set changed = changed_rows_condition(changed_since) %}

with

child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
    {%- if changed %}
        and ({{ changed }})
    {%- endif %}
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
),

final as (
    select child.from_field
    from child
    left join parent
        on child.from_field = parent.to_field
    where parent.to_field is null
)

select * from final
{% endtest %}
