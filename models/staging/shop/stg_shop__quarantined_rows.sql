{%- set tables = {
    'customers': "cast(id as varchar) || '@' || coalesce(cast(updated_at as varchar), '')",
    'products': 'cast(id as varchar)',
    'orders': "cast(id as varchar) || '@' || coalesce(cast(updated_at as varchar), '')",
    'order_items': "cast(order_id as varchar) || '-' || coalesce(cast(line_number as varchar), '')",
    'returns': 'cast(id as varchar)',
    'reviews': 'cast(id as varchar)',
    'web_sessions': 'cast(id as varchar)',
} -%}

with

{% for table_name, raw_key in tables.items() %}
quarantined_{{ table_name }} as (
    select
        '{{ table_name }}' as source_table,
        {{ raw_key }} as raw_key,
        raw_row_id,
        quarantine_rule,
        quarantine_column,
        raw_row_json,
        _loaded_at as loaded_at
    from {{ ref('base_shop__' ~ table_name) }}
    where quarantine_rule is not null
),

{% endfor %}
unioned as (
    {%- for table_name in tables %}
    select * from quarantined_{{ table_name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- Exact copies of a raw row have the same JSON; the occurrence number keeps their ids apart.
final as (
    select
        md5(
            source_table || '|' || raw_row_json || '|'
            || row_number() over (partition by source_table, raw_row_json order by loaded_at)
        ) as quarantined_row_id,
        source_table,
        raw_key,
        raw_row_id,
        quarantine_rule,
        quarantine_column,
        raw_row_json,
        loaded_at
    from unioned
)

select * from final
