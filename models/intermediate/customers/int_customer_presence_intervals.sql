-- Distinct counts of the customer feature spec as presence intervals: one row per interval in
-- which a distinct key (a purchased product category) is inside a
-- window; the row adds 1 to its `distinct_<measure>_<N>d` column on every as-of date in
-- [start_date, end_date). See pit_distinct_intervals.
{{ customer_presence_intervals(
    order_lines=ref('int_order_lines_netted'),
    products=ref('stg_shop__products')
) }}
