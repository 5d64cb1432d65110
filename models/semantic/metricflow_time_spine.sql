-- One row per calendar day from the shop's opening to the var `time_spine_end_date`: the time
-- spine MetricFlow joins cumulative metrics and metric_time to. Derived from vars, not data,
-- so every build (and the published copy) holds the same days.
with

bounds as (
    select
        cast('{{ var("shop_opening_date") }}' as date) as first_date,
        cast('{{ var("time_spine_end_date") }}' as date) as last_date
),

days as (
    {{ date_series('bounds', 'bounds.first_date', 'bounds.last_date', 'date_day') }}
),

final as (
    select date_day
    from days
)

select * from final
