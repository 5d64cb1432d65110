-- Every score ever published, append-only: one row per customer x as-of date x model version.
-- Each build appends the rows of ml_customer_scores not stored yet; nothing is overwritten, so
-- realised outcomes can be joined once a label window has passed. Survives --full-refresh.
-- Only the scores of the closed day are kept: a fresh customer's score of the open day
-- (docs: intraday_freshness) is provisional, replaced when that day closes.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false
    )
}}

with

scores as (
    select * from {{ ref('ml_customer_scores') }}
),

closed_day as (
    select as_of_date from {{ ref('int_feature_dates_requested') }}
    where is_latest
),

final as (
    select
        scores.customer_id,
        scores.model_name,
        scores.model_version,
        scores.probability,
        scores.decile,
        scores.as_of_date
    from scores
    where scores.as_of_date in (select closed_day.as_of_date from closed_day)
    {% if is_incremental() %}
        and not exists (
            select 1
            from {{ this }} as history
            where history.customer_id = scores.customer_id
                and history.as_of_date = scores.as_of_date
                and history.model_version = scores.model_version
        )
    {% endif %}
)

select * from final
