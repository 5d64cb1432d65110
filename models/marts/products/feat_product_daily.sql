{#
    One row per product per as-of date, from the day the product is on sale and known (its launch
    date, or the first day of the spine for the initial catalogue) to the latest complete day.

    Point-in-time windows as running sums of deltas, as in int_customer_activity_deltas: an event
    happens on `event_date` and becomes known on `known_date` (never before `event_date`), so it
    is inside an N-day window exactly on the days known_date .. event_date + N - 1. It adds its
    value on known_date and removes it on event_date + N; one running sum per product over the
    days then gives every day's window. The events are collapsed per (product, event day, known
    day) first, and each one yields one "add" row carrying every window plus one "remove" row per
    window length, so the delta table stays a few rows per product-day.

    Distinct buyers cannot be summed: a buyer is in the 30-day window on D when the latest order
    date of theirs known by D is >= D - 29. Per (product, buyer) that latest date only changes on
    the days new orders become known, so each such day opens a spell that lasts until the next
    change or until the latest order date + 30, whichever comes first; spells add 1 and remove 1.
#}
{%- set windowed_measures = {
    'units': [7, 30, 90],
    'net_sales': [7, 30],
    'returned_units': [90],
} -%}
{%- set window_lengths = [7, 30, 90] -%}
{#- Narrow types: sums of HUGEINT/DECIMAL(38) are about twice as slow in the windows below. -#}
{%- set delta_types = {
    'units': 'bigint',
    'net_sales': 'decimal(18, 2)',
    'returned_units': 'bigint',
} -%}
{%- set buyers_window_days = 30 -%}

with

products as (
    select * from {{ ref('stg_shop__products') }}
),

feature_dates as (
    select * from {{ ref('int_feature_dates_spined') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_netted') }}
),

refunds as (
    select * from {{ ref('int_refunds_converted') }}
),

reviews as (
    select * from {{ ref('stg_shop__reviews') }}
),

-- The first as-of date of a product: on sale (launched) and its row landed, inside the spine.
product_first_days as (
    select
        products.product_id,
        products.category,
        products.subcategory,
        cast(products.launched_at as date) as launch_date,
        greatest(
            cast(products.launched_at as date),
            cast(products.loaded_at as date),
            spine_bounds.first_date
        ) as first_feature_date,
    from products
    cross join (select min(as_of_date) as first_date from feature_dates) as spine_bounds
),

product_days as (
    select
        product_first_days.product_id,
        feature_dates.as_of_date,
        feature_dates.is_latest,
    from product_first_days
    inner join feature_dates
        on feature_dates.as_of_date >= product_first_days.first_feature_date
),

-- Lines of non-cancelled orders, with the day they became known (docs: known_at).
bought_lines as (
    select
        product_id,
        customer_id,
        order_id,
        quantity,
        net_sales_eur,
        order_date as event_date,
        greatest(cast(known_at as date), order_date) as known_date,
    from order_lines
    where not is_cancelled
),

-- What a return can be matched to: the units of a product in one order (only those returned).
bought_order_products as (
    select
        bought_lines.order_id,
        bought_lines.product_id,
        sum(bought_lines.quantity) as quantity,
        min(bought_lines.event_date) as order_date,
        max(bought_lines.known_date) as known_date,
    from bought_lines
    semi join refunds
        on bought_lines.order_id = refunds.order_id
        and bought_lines.product_id = refunds.product_id
    group by bought_lines.order_id, bought_lines.product_id
),

-- Returned units counted against the order line, capped at its quantity in the order in which
-- the returns became known; they count from the day both the return and the line are known.
returned_units_capped as (
    select
        refunds.product_id,
        bought_order_products.order_date as event_date,
        greatest(
            cast(refunds.known_at as date),
            refunds.return_date,
            bought_order_products.known_date
        ) as known_date,
        least(
            bought_order_products.quantity,
            sum(refunds.quantity) over returns_known_so_far
        ) - least(
            bought_order_products.quantity,
            sum(refunds.quantity) over returns_known_so_far - refunds.quantity
        ) as returned_units,
    from refunds
    inner join bought_order_products
        on refunds.order_id = bought_order_products.order_id
        and refunds.product_id = bought_order_products.product_id
    window returns_known_so_far as (
        partition by refunds.order_id, refunds.product_id
        order by refunds.known_at, refunds.return_id
        rows between unbounded preceding and current row
    )
),

events as (
    select
        product_id,
        event_date,
        known_date,
        quantity as units,
        net_sales_eur as net_sales,
    from bought_lines
    union all by name
    -- Refunds reduce net sales on the return date, whatever the order's date (docs: net_sales).
    select
        product_id,
        return_date as event_date,
        greatest(cast(known_at as date), return_date) as known_date,
        -refund_eur as net_sales,
    from refunds
    union all by name
    select
        product_id,
        event_date,
        known_date,
        returned_units,
    from returned_units_capped
    union all by name
    select
        product_id,
        cast(created_at as date) as event_date,
        greatest(cast(loaded_at as date), cast(created_at as date)) as known_date,
        1 as reviews,
        rating as rating_sum,
    from reviews
),

events_per_day as (
    select
        product_id,
        event_date,
        known_date,
        cast(sum(units) as bigint) as units,
        cast(sum(net_sales) as decimal(18, 2)) as net_sales,
        cast(sum(returned_units) as bigint) as returned_units,
        cast(sum(reviews) as bigint) as reviews,
        cast(sum(rating_sum) as bigint) as rating_sum,
    from events
    group by product_id, event_date, known_date
),

-- Per (product, buyer), the latest order date known on each day new orders of theirs landed.
buyer_known_days as (
    select
        product_id,
        customer_id,
        known_date,
        max(event_date) as latest_event_date,
    from bought_lines
    group by product_id, customer_id, known_date
),

buyer_spells as (
    select
        product_id,
        known_date as spell_start,
        least(
            coalesce(lead(known_date) over buyer_history, date '9999-12-31'),
            max(latest_event_date) over buyer_history + {{ buyers_window_days }}
        ) as spell_end,
    from buyer_known_days
    window buyer_history as (
        partition by product_id, customer_id
        order by known_date
        rows between unbounded preceding and current row
    )
),

buyer_spell_changes as (
    select
        product_id,
        spell_start as change_date,
        1 as delta,
    from buyer_spells
    where spell_start < spell_end
    union all
    select
        product_id,
        spell_end as change_date,
        -1 as delta,
    from buyer_spells
    where spell_start < spell_end
),

-- Spells open and close on few distinct days: collapse them before they meet the other deltas.
buyer_deltas as (
    select
        product_id,
        change_date,
        cast(sum(delta) as bigint) as buyers_{{ buyers_window_days }}d_delta,
    from buyer_spell_changes
    group by product_id, change_date
),

deltas as (
    select
        product_id,
        known_date as change_date,
{%- for measure, windows in windowed_measures.items() %}
    {%- for n in windows %}
        case
            when known_date < event_date + {{ n }} then {{ measure }}
        end as {{ measure }}_{{ n }}d_delta,
    {%- endfor %}
{%- endfor %}
        reviews as reviews_lifetime_delta,
        rating_sum as rating_sum_lifetime_delta,
    from events_per_day
{%- for n in window_lengths %}
    union all by name
    select
        product_id,
        event_date + {{ n }} as change_date,
    {%- for measure, windows in windowed_measures.items() if n in windows %}
        -{{ measure }} as {{ measure }}_{{ n }}d_delta,
    {%- endfor %}
    from events_per_day
    where known_date < event_date + {{ n }}
{%- endfor %}
    union all by name
    select
        product_id,
        change_date,
        buyers_{{ buyers_window_days }}d_delta,
    from buyer_deltas
),

-- Changes dated before a product's first row count from that row, so nothing known is dropped.
deltas_on_spine as (
    select
        deltas.* exclude (change_date),
        greatest(deltas.change_date, product_first_days.first_feature_date) as as_of_date,
    from deltas
    inner join product_first_days
        on deltas.product_id = product_first_days.product_id
),

deltas_per_day as (
    select
        product_id,
        as_of_date,
{%- for measure, windows in windowed_measures.items() %}
    {%- for n in windows %}
        cast(sum({{ measure }}_{{ n }}d_delta) as {{ delta_types[measure] }})
            as {{ measure }}_{{ n }}d_delta,
    {%- endfor %}
{%- endfor %}
        cast(sum(buyers_{{ buyers_window_days }}d_delta) as bigint)
            as buyers_{{ buyers_window_days }}d_delta,
        cast(sum(reviews_lifetime_delta) as bigint) as reviews_lifetime_delta,
        cast(sum(rating_sum_lifetime_delta) as bigint) as rating_sum_lifetime_delta,
    from deltas_on_spine
    group by product_id, as_of_date
),

running as (
    select
        product_days.product_id,
        product_days.as_of_date,
        product_days.is_latest,
{%- for measure, windows in windowed_measures.items() %}
    {%- for n in windows %}
        sum(coalesce(deltas_per_day.{{ measure }}_{{ n }}d_delta, 0)) over product_history
            as {{ measure }}_{{ n }}d,
    {%- endfor %}
{%- endfor %}
        sum(coalesce(deltas_per_day.buyers_{{ buyers_window_days }}d_delta, 0)) over product_history
            as buyers_{{ buyers_window_days }}d,
        sum(coalesce(deltas_per_day.reviews_lifetime_delta, 0)) over product_history
            as reviews_lifetime,
        sum(coalesce(deltas_per_day.rating_sum_lifetime_delta, 0)) over product_history
            as rating_sum_lifetime,
    from product_days
    left join deltas_per_day
        on product_days.product_id = deltas_per_day.product_id
        and product_days.as_of_date = deltas_per_day.as_of_date
    window product_history as (
        partition by product_days.product_id
        order by product_days.as_of_date
        rows between unbounded preceding and current row
    )
),

-- Product attributes join after the running sums: no strings carried through their sort.
with_attributes as (
    select
        running.*,
        product_first_days.category,
        product_first_days.subcategory,
        product_first_days.launch_date,
    from running
    inner join product_first_days
        on running.product_id = product_first_days.product_id
),

final as (
    select
        product_id,
        category,
        subcategory,
        cast(units_7d as integer) as units_7d,
        cast(units_30d as integer) as units_30d,
        cast(net_sales_7d as decimal(18, 2)) as net_sales_7d,
        cast(net_sales_30d as decimal(18, 2)) as net_sales_30d,
        cast(buyers_30d as integer) as distinct_buyers_30d,
        cast(reviews_lifetime as integer) as reviews_lifetime,
        case
            when reviews_lifetime > 0
                then cast(rating_sum_lifetime as double) / cast(reviews_lifetime as double)
        end as avg_rating_lifetime,
        case
            when units_90d > 0
                then cast(returned_units_90d as double) / cast(units_90d as double)
        end as return_rate_90d,
        cast(row_number() over (
            partition by as_of_date, category
            order by units_30d desc, net_sales_30d desc, product_id
        ) as integer) as popularity_rank_in_category,
        is_latest,
        as_of_date,
        launch_date,
    from with_attributes
)

select * from final
