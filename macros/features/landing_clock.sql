{#-
    The landing clock of this run (docs: intraday_freshness): `RETAIL_ML_LANDED_THROUGH`, a UTC
    timestamp every raw row landed before, set by retail_ml.daily from the landing zone (or the
    wall clock). Unset (a plain `dbt build`): none, and the last landed day counts as closed.
    Validated, because it is spliced into SQL.
-#}
{% macro landing_clock() -%}
    {{ return(utc_timestamp_from_env('RETAIL_ML_LANDED_THROUGH')) }}
{%- endmacro %}

{#- A UTC timestamp 'YYYY-MM-DD HH:MM:SS' from an environment variable, validated because it is
    spliced into SQL; none when unset or while dbt parses. -#}
{% macro utc_timestamp_from_env(name) -%}
    {#- Read when models run, not when dbt parses: no ref or config depends on it, and a model
        that read it while parsing would be parsed again for every new clock (each refresh). -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set value = env_var(name, '') | trim -%}
    {%- if not value -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}', value) -%}
        {{ exceptions.raise_compiler_error(
            name ~ " must be a UTC timestamp 'YYYY-MM-DD HH:MM:SS', got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | replace('T', ' ')) }}
{%- endmacro %}

{#- The last closed day under the landing clock (the day before the clock's day), or none. -#}
{% macro landing_closed_date() -%}
    {%- set clock = landing_clock() -%}
    {%- if clock is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(pit_add_days("cast(cast('" ~ clock ~ "' as timestamp) as date)", -1)) }}
{%- endmacro %}

{#- The start of the open day (the clock's day, as a timestamp): rows landed from then on are
    fresh. None without a clock (nothing is fresh). -#}
{% macro landing_open_day_start() -%}
    {%- set clock = landing_clock() -%}
    {%- if clock is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast(cast(cast('" ~ clock ~ "' as timestamp) as date) as timestamp)") }}
{%- endmacro %}
