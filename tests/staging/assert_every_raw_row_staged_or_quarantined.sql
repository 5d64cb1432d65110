-- For every source table: raw rows = staged rows + quarantined rows (de-duplications are
-- quarantined as duplicate_key). Returns the tables where the counts do not add up.
{%- set staged_models = {
    'customers': 'stg_shop__customers',
    'products': 'stg_shop__products',
    'orders': 'stg_shop__order_status_history',
    'order_items': 'stg_shop__order_items',
    'returns': 'stg_shop__returns',
    'reviews': 'stg_shop__reviews',
    'web_sessions': 'stg_shop__web_sessions',
} %}

with

raw_counts as (
    {%- for table_name in staged_models %}
    select
        '{{ table_name }}' as source_table,
        count(*) as raw_rows
    from {{ source('shop', table_name) }}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),

staged_counts as (
    {%- for table_name, model_name in staged_models.items() %}
    select
        '{{ table_name }}' as source_table,
        count(*) as staged_rows
    from {{ ref(model_name) }}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),

quarantined_counts as (
    select
        source_table,
        count(*) as quarantined_rows
    from {{ ref('stg_shop__quarantined_rows') }}
    group by source_table
),

final as (
    select
        raw_counts.source_table,
        raw_counts.raw_rows,
        staged_counts.staged_rows,
        coalesce(quarantined_counts.quarantined_rows, 0) as quarantined_rows
    from raw_counts
    inner join staged_counts
        on raw_counts.source_table = staged_counts.source_table
    left join quarantined_counts
        on raw_counts.source_table = quarantined_counts.source_table
)

select * from final
where raw_rows <> staged_rows + quarantined_rows
