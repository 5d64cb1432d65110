{#-
    How many passes pit_running_features makes over `events`: one per `pit_events_per_pass`
    rows (dbt_project.yml), at most `pit_max_passes`. One when `events` is a CTE (a CTE name:
    the fresh customers' few events; a unit test's fixture) or not built yet (a compile against
    an empty warehouse). The count is the whole stored table's, in an incremental run too (whose
    spine buckets only the recent events, so it may split where one pass would do; each
    extra pass costs a scan of the events). DuckDB answers it from metadata.
-#}
{% macro pit_passes(events) %}
{%- if events is string or not execute or events.is_cte or load_relation(events) is none -%}
    {{ return(1) }}
{%- endif -%}
{%- set per_pass = var('pit_events_per_pass') | int -%}
{%- set rows = run_query('select count(*) from ' ~ events).columns[0].values()[0] | int -%}
{%- set passes = (rows + per_pass - 1) // per_pass -%}
{{ return([1, [passes, var('pit_max_passes') | int] | min] | max) }}
{%- endmacro %}
