{#-
    Pre-hook of an incremental presence-interval table (int_product_presence_intervals): deletes
    the intervals a run may change, those ending on or after the newest start date the table
    holds (docs: incremental_intervals). Renders nothing on a full build.
-#}
{% macro pit_delete_open_intervals() -%}
    {%- if is_incremental() %}
    delete from {{ this }}
    where end_date >= (select max(held.start_date) from {{ this }} as held)
    {%- endif %}
{%- endmacro %}
