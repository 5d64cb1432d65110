-- One row per customer as of the latest complete day: the rows the models score. It is a filter
-- of feat_customer_daily, so serving uses exactly the SQL that built the training rows.
with

features as (
    select * from {{ ref('feat_customer_daily') }}
),

final as (
    select * exclude (is_latest)
    from features
    where is_latest
)

select * from final
