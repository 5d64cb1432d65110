-- One row per staged web session, anonymous ones included (their customer_id is null).
-- Incremental (docs: incremental_orders): a run adds the sessions that became usable since the
-- start of the day of the newest known_at the table holds; a staged session is never withdrawn
-- or changed (its first landed copy stays staged, its customer stays staged).
{{ config(
    materialized='incremental',
    unique_key='session_id'
) }}

with

sessions as (
    select * from {{ ref('stg_shop__web_sessions') }}
    {%- if is_incremental() %}
    where known_at >= {{ usable_since_last_run(['known_at']) }}
    {%- endif %}
),

final as (
    select
        session_id,
        customer_id,
        pages_viewed,
        products_viewed,
        is_anonymous,
        cast(started_at as date) as session_date,
        started_at,
        known_at
    from sessions
)

select * from final
