-- One row per staged web session, anonymous ones included (their customer_id is null).
with

sessions as (
    select * from {{ ref('stg_shop__web_sessions') }}
),

final as (
    select
        session_id,
        customer_id,
        pages_viewed,
        products_viewed,
        is_anonymous,
        cast(started_at as date) as session_date,
        started_at
    from sessions
)

select * from final
