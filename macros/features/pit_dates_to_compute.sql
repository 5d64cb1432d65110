{#-
    The as-of dates an incremental feature table (keyed by as_of_date) computes on this run,
    out of `requested` (a relation with as_of_date; docs: incremental_feature_dates): on a first
    run or a full refresh, every one; on an incremental run, the requested dates the table does
    not hold yet, plus every date on or after the latest one it holds (the last landed day of
    the previous run: rows landing since can only change those). A select of as_of_date, for
    the engine's spine; the rows of these dates replace the table's (unique_key as_of_date).
-#}
{% macro pit_dates_to_compute(requested) -%}
    select requested_dates.as_of_date
    from {{ requested }} as requested_dates
    {%- if is_incremental() %}
    where requested_dates.as_of_date >= (select max(held.as_of_date) from {{ this }} as held)
        or not exists (
            select 1
            from {{ this }} as held
            where held.as_of_date = requested_dates.as_of_date
        )
    {%- endif %}
{%- endmacro %}
