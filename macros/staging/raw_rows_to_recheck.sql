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
      - every row of a group holding a row quarantined for a parent or lookup rule whose
        answer has changed: `unknown_<parent>` (or a missing lookup) when the parent has landed
        since, `parent_quarantined` when the parent now has a staged copy. A parent that is
        still missing, or still only quarantined, gives the stored verdict again. A staged
        row's parents stay staged (their first landed copy is kept), so staged rows need no
        re-check for their parents.
    Where those rows are is found in {{ this }}, not in the raw files: it holds every raw row
    landed so far (staged or quarantined) with its key and its file label, so the raw files read
    are only the new ones and the old ones holding a row of a group to re-check. Each read of the
    source is filtered on `filename` by a subquery, which DuckDB prunes to those files before
    reading a column. So the cost is the new files plus a scan of {{ this }}'s key column, not a
    pass over every landed row. Every landed file has a row 0 (an empty file has no rows to
    stage), so the files already staged are those whose row 0 is in {{ this }}.
#}
{% macro raw_rows_to_recheck(table_name, spec, lookups) %}
{%- set group_column = spec.key | first -%}
landed_files as (
    select
        filename,
        {{ file_label('filename') }} as file_label
    from (select distinct filename from {{ source('shop', table_name) }}) as distinct_files
),

known_files as (
    select {{ split_part('raw_row_id', "':'", 1) }} as file_label
    from {{ this }}
    where raw_row_id like '%:0'
),

new_files as (
    select landed_files.filename
    from landed_files
    left join known_files
        on landed_files.file_label = known_files.file_label
    where known_files.file_label is null
),

-- Distinct: a group must not multiply the rows joined to it (a table without lookups has no
-- union below to remove repeats).
groups_to_recheck as (
    select distinct {{ group_column }}
    from {{ source('shop', table_name) }}
    where filename in (select filename from new_files)
        and {{ group_column }} is not null
    {%- for lookup in lookups if lookup.kind in ('parent', 'lookup') %}
    union
    -- Named `source` so the lookup's join condition applies to the stored rows.
    select source.{{ group_column }}
    from {{ this }} as source
    inner join ({{ lookup.sql_for_keys_of | replace('{rows}', '(select * from ' ~ this ~ " where quarantine_column = '" ~ lookup.column ~ "')") }}) as {{ lookup.alias }}
        on {{ lookup.on }}
    where source.quarantine_column = '{{ lookup.column }}'
        and source.{{ group_column }} is not null
        and (
            source.quarantine_rule = '{{ lookup.missing_rule }}'
            or (source.quarantine_rule = 'parent_quarantined' and {{ lookup.alias }}.is_staged = 1)
        )
    {%- endfor %}
),

-- The staged files holding a row of a group to re-check, and the new files.
files_to_read as (
    select landed_files.filename
    from landed_files
    inner join (
        select distinct {{ split_part('stored.raw_row_id', "':'", 1) }} as file_label
        from {{ this }} as stored
        inner join groups_to_recheck
            on stored.{{ group_column }} = groups_to_recheck.{{ group_column }}
    ) as old_files
        on landed_files.file_label = old_files.file_label
    union
    select filename from new_files
),

source as (
    select landed_rows.*
    from {{ source('shop', table_name) }} as landed_rows
    left join new_files
        on landed_rows.filename = new_files.filename
    left join groups_to_recheck
        on landed_rows.{{ group_column }} = groups_to_recheck.{{ group_column }}
    where landed_rows.filename in (select filename from files_to_read)
        and (
            new_files.filename is not null
            or groups_to_recheck.{{ group_column }} is not null
        )
),
{%- endmacro %}
