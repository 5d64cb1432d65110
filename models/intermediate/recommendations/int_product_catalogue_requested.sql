-- One row per staged product and recommender as-of date (the serving day of
-- int_feature_dates_requested and the backtest cutoffs of int_recommender_backtest_windows)
-- on which the product is known, launched or not: what the recommender may recommend on that
-- date, with the repurchase flag of its subcategory and its features as of that date
-- (feat_product_daily; null while the product is not yet on sale).
with

products as (
    select * from {{ ref('stg_shop__products') }}
),

categories as (
    select * from {{ ref('product_categories') }}
),

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

windows as (
    select * from {{ ref('int_recommender_backtest_windows') }}
),

product_features as (
    select * from {{ ref('feat_product_daily') }}
),

recommender_dates as (
    select as_of_date
    from requested_dates
    where is_latest
    union distinct
    select cutoff_date as as_of_date
    from windows
),

product_dates as (
    select
        products.product_id,
        products.product_name,
        products.category,
        products.subcategory,
        cast(products.launched_at as date) as launched_date,
        recommender_dates.as_of_date
    from products
    -- Listed on D once its row landed by D's end (launched or not; feat_product_daily also
    -- needs the launch): a product that lands later is not in an earlier date's catalogue, so
    -- the backtest's past cutoffs keep their catalogue (and ml_recommendation_metrics its rows)
    -- when new products land.
    inner join recommender_dates
        on cast(products.loaded_at as date) <= recommender_dates.as_of_date
),

final as (
    select
        product_dates.product_id,
        product_dates.product_name,
        product_dates.category,
        product_dates.subcategory,
        product_features.units_30d,
        product_features.net_sales_30d,
        product_features.distinct_buyers_30d,
        product_features.avg_rating_lifetime,
        product_features.return_rate_90d,
        product_features.popularity_rank_in_category,
        coalesce(categories.is_repurchase_typical, false) as is_repurchase_typical,
        -- On sale on D = a feat_product_daily row on D: launched by D and its row landed by D.
        product_features.product_id is not null as is_launched,
        product_dates.launched_date,
        product_dates.as_of_date
    from product_dates
    left join categories
        on product_dates.category = categories.category
            and product_dates.subcategory = categories.subcategory
    left join product_features
        on product_dates.product_id = product_features.product_id
            and product_dates.as_of_date = product_features.as_of_date
)

select * from final
