{#
    The `source` CTE of an incremental run of check_raw_rows: the raw rows whose verdict can
    differ from the one stored in {{ this }}, so that re-checking them alone gives exactly what a
    full rebuild of the same landed files gives. A landed file is never rewritten, and rows land
    in `_loaded_at` order, so a stored verdict changes only through rows that landed later:
      - every row of a file not yet in {{ this }} (files are told apart by their label, the
        `<table>/load_date=…/<file>` part of raw_row_id), and
      - every row (old or new) of a *group* that such a row belongs to: the rows sharing the
        first key column (e.g. order_id of order_items), because the duplicate rule, the
        uniqueness rules and the key's first landed copy are decided among them, and
      - every row of a group holding a row quarantined for a parent or lookup rule
        (unknown_<parent>, parent_quarantined, a missing lookup): the parent may have landed
        since. A staged row's parents stay staged (their first landed copy is kept), so staged
        rows need no re-check for their parents.
    Quarantined-for-parent rows are few (the dirty share), so the cost is the new files plus one
    pass over the raw key column.
#}
{% macro raw_rows_to_recheck(table_name, spec, lookups) %}
{%- set group_column = spec.key | first -%}
{%- set parent_rules = ['parent_quarantined'] -%}
{%- for lookup in lookups if lookup.kind in ('parent', 'lookup') -%}
    {%- do parent_rules.append(lookup.missing_rule) -%}
{%- endfor -%}
landed_rows as (
    select * from {{ source('shop', table_name) }}
),

known_files as (
    select distinct {{ split_part('raw_row_id', "':'", 1) }} as file_label
    from {{ this }}
),

new_files as (
    select landed_files.filename
    from (select distinct filename from landed_rows) as landed_files
    left join known_files
        on {{ file_label('landed_files.filename') }} = known_files.file_label
    where known_files.file_label is null
),

groups_to_recheck as (
    select landed_rows.{{ group_column }}
    from landed_rows
    inner join new_files
        on landed_rows.filename = new_files.filename
    where landed_rows.{{ group_column }} is not null
    union
    select {{ group_column }}
    from {{ this }}
    where quarantine_rule in ('{{ parent_rules | unique | join("', '") }}')
        and {{ group_column }} is not null
),

source as (
    select landed_rows.*
    from landed_rows
    left join new_files
        on landed_rows.filename = new_files.filename
    left join groups_to_recheck
        on landed_rows.{{ group_column }} = groups_to_recheck.{{ group_column }}
    where new_files.filename is not null
        or groups_to_recheck.{{ group_column }} is not null
),
{%- endmacro %}
