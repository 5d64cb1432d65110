-- One row per customer: the rows the models score. As of the last closed day (a filter of
-- int_customer_features_requested, like the training set, so serving uses exactly the SQL that
-- built the training rows), except the fresh customers, served as of the open day
-- (int_customer_features_fresh: what landed for them since the day closed, docs:
-- intraday_freshness).
with

closed_day as (
    select * from {{ ref('int_customer_features_requested') }}
    where is_latest
),

fresh as (
    select * from {{ ref('int_customer_features_fresh') }}
),

final as (
    select
        closed_day.customer_id,
        {{ pit_published_columns('customer', 'closed_day') }},
        closed_day.as_of_date
    from closed_day
    where closed_day.customer_id not in (select fresh.customer_id from fresh)
    union all
    select
        fresh.customer_id,
        {{ pit_published_columns('customer', 'fresh') }},
        fresh.as_of_date
    from fresh
)

select * from final
