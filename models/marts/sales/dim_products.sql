-- One row per staged product: its name, category and list price.
with

products as (
    select * from {{ ref('stg_shop__products') }}
),

final as (
    select
        product_id,
        product_name,
        category,
        subcategory,
        brand,
        list_price_eur,
        cast(launched_at as date) as launch_date
    from products
)

select * from final
