{#
    The body of a base model: every raw row of `source('shop', table_name)`, with the JSON of
    the raw row and the first quarantine rule it breaks (`quarantine_rule`, null when staged).

    - lookups: tables a rule consults, each {alias, relation, columns, on[, where]}; they are
      imported as CTEs and left-joined to the raw rows (at most one match per row: the
      lookups select distinct keys).
    - rules: [{name, when}] in the order they are checked (see first_failing_rule).
    - key_columns: the grain; among rows passing every rule, later copies of a key are
      quarantined as duplicate_key (see quarantine_duplicates).
    - raw_row_json: how the raw row is serialised; override it to pseudonymise PII.
#}
{% macro check_raw_rows(table_name, key_columns, rules, lookups=[], raw_row_json='to_json(source)') %}
with

source as (
    select * from {{ source('shop', table_name) }}
),
{% for lookup in lookups %}
{{ lookup.alias }} as (
    select {{ lookup.columns }} from {{ lookup.relation }}
    {%- if lookup.where %}
    where {{ lookup.where }}
    {%- endif %}
),
{% endfor %}
row_checked as (
    select
        source.*,
        {{ raw_row_json }} as raw_row_json,
        {{ first_failing_rule(rules) }} as row_rule,
    from source
    {%- for lookup in lookups %}
    left join {{ lookup.alias }}
        on {{ lookup.on }}
    {%- endfor %}
),

final as (
    {{ quarantine_duplicates('row_checked', key_columns) }}
)

select * from final
{% endmacro %}
