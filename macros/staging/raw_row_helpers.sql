{#
    Small helpers of check_raw_rows and domain_rules, dispatched where engines differ.
#}

{# A file's place in the landing zone: `<table>/load_date=.../<file>`. #}
{% macro file_label(filename) -%}
    regexp_extract({{ filename }}, '[^/\\]+[/\\][^/\\]+[/\\][^/\\]+$')
{%- endmacro %}

{# Midnight UTC of the file's partition day (`.../load_date=YYYY-MM-DD/...`), or null. #}
{% macro partition_start(filename) -%}
    {{ utc_timestamp_literal("try_cast(nullif(regexp_extract(" ~ filename ~ ", 'load_date=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1), '') as date)", literal=false) }}
{%- endmacro %}

{#
    A UTC instant comparable with the raw TIMESTAMPTZ columns without converting every row
    (timezone() per row costs ~1 s per 5M rows per column). `value` is a 'YYYY-MM-DD[ hh:mm:ss]'
    string, or with literal=false an SQL date expression.
#}
{% macro utc_timestamp_literal(value, literal=true) -%}
    {{ return(adapter.dispatch('utc_timestamp_literal', 'retail_ml')(value, literal)) }}
{%- endmacro %}
{% macro default__utc_timestamp_literal(value, literal) -%}
    {%- if literal %}cast('{{ value }}' as timestamp){% else %}cast({{ value }} as timestamp){% endif -%}
{%- endmacro %}
{% macro duckdb__utc_timestamp_literal(value, literal) -%}
    {%- if literal %}cast('{{ value }}+00' as timestamptz){% else %}cast(cast(cast({{ value }} as timestamp) as varchar) || '+00' as timestamptz){% endif -%}
{%- endmacro %}

{# True for NaN, +Inf and -Inf (null for null). #}
{% macro is_not_finite(column) -%}
    {{ return(adapter.dispatch('is_not_finite', 'retail_ml')(column)) }}
{%- endmacro %}
{% macro default__is_not_finite(column) -%}
    ({{ column }} <> {{ column }} or abs({{ column }}) = cast('Infinity' as double))
{%- endmacro %}
{% macro duckdb__is_not_finite(column) -%}
    not isfinite({{ column }})
{%- endmacro %}

{# True when the whole string matches the regex. #}
{% macro regex_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'retail_ml')(expression, pattern)) }}
{%- endmacro %}
{% macro default__regex_full_match(expression, pattern) -%}
    ({{ expression }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}
{% macro duckdb__regex_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{#
    A fingerprint of a row's content, to tell a re-sent copy from a conflicting one. 64-bit
    hash: two different rows of one key colliding is ~1e-19, and would only turn a
    conflicting_duplicate into a duplicate_resend (both are quarantined).
#}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'retail_ml')(columns)) }}
{%- endmacro %}
{% macro default__row_fingerprint(columns) -%}
    md5(concat_ws('|', {% for column in columns %}coalesce(cast({{ column }} as {{ dbt.type_string() }}), '\\N'){% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}
{% macro duckdb__row_fingerprint(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{#
    The raw row as JSON for the quarantine, PII pseudonymised as each column's domain says:
    hashed (hash, drop) or replaced by its length (length).
#}
{% macro pseudonymised_row_json(columns) -%}
    json_object(
        {%- for column, domain in columns.items() %}
        '{{ column }}', {% if domain.pii in ('hash', 'drop') %}{{ hash_pii(column) }}{% elif domain.pii == 'length' %}'redacted, ' || coalesce(length({{ column }}), 0) || ' chars'{% else %}{{ column }}{% endif %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{#
    `not materialized ` where the engine would otherwise hold a CTE referenced several times in
    memory (DuckDB does): scanning the raw files again with only the columns each reader needs
    costs less than holding every landed row (at `default`, base_shop__orders: peak memory
    1.77 GB -> 0.84 GB with `source` and `row_checked` read where used, same rows; at xl the
    held rows spilled tens of GB). Empty elsewhere.
#}
{% macro cte_not_materialized() -%}
    {{ return(adapter.dispatch('cte_not_materialized', 'retail_ml')()) }}
{%- endmacro %}
{% macro default__cte_not_materialized() -%}{%- endmacro %}
{% macro duckdb__cte_not_materialized() -%}not materialized {% endmacro %}
