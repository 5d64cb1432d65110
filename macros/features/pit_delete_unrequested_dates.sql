{#-
    Post-hook of an incremental feature table keyed by as_of_date: deletes the rows of the dates
    no longer in `requested` (e.g. yesterday's serving day), in the run's transaction. Nothing
    to delete after a first run or a full refresh, which write requested dates only (on a full
    refresh it renders nothing).
-#}
{% macro pit_delete_unrequested_dates(requested) -%}
    {%- if is_incremental() %}
    delete from {{ this }}
    where as_of_date not in (
        select requested_dates.as_of_date
        from {{ requested }} as requested_dates
        where requested_dates.as_of_date is not null
    )
    {%- endif %}
{%- endmacro %}
