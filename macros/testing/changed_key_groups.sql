{#
    Where a grain test of an incremental table looks in a daily run (docs: incremental_tests):
    every row of each key group holding a row that landed or became usable since the last green
    daily run, or the whole model when there is no such run (a full build, the first daily run,
    a refresh, the CI).
#}
{% macro changed_key_groups(model, key_columns, changed_since) -%}
    {%- set changed = changed_rows_condition(changed_since) -%}
    {%- if not changed -%}
        {{ model }}
    {%- else -%}
        (
            select scoped.*
            from {{ model }} as scoped
            inner join (
                select distinct {{ key_columns | join(', ') }}
                from {{ model }} as changed
                where {{ changed }}
            ) as changed_keys
                on {% for column in key_columns -%}
                    scoped.{{ column }} is not distinct from changed_keys.{{ column }}{% if not loop.last %}
                and {% endif %}
                {%- endfor %}
        ) as changed_key_groups
    {%- endif -%}
{%- endmacro %}

{#-
    The rows a daily run changed, as a condition on `changed_since` (timestamp columns): one of
    them on or after the landing clock of the last green daily run. Empty when every row is to
    be checked (no such run recorded, or no columns given).
-#}
{% macro changed_rows_condition(changed_since) -%}
    {%- set since = checked_through() -%}
    {%- if since is not none and changed_since -%}
        {%- for column in changed_since -%}
            {{ column }} >= cast('{{ since }}' as timestamp){% if not loop.last %} or {% endif %}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The landing clock of the last green daily run (env RETAIL_ML_CHECKED_THROUGH, set by
    retail_ml.daily from the warehouse's state): every row landed before it was in a build whose
    tests passed. None when unset. Read when tests run, not when dbt parses (see landing_clock).
-#}
{% macro checked_through() -%}
    {{ return(utc_timestamp_from_env('RETAIL_ML_CHECKED_THROUGH')) }}
{%- endmacro %}
