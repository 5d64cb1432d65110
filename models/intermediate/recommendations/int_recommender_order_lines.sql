-- One row per customer, order and product: the recommender's purchase history with the day each
-- line became known (pit_known_date) and, for an order later cancelled, the day its cancellation
-- became known (retracted_date, the engine's rule). The recommender keeps the lines known by the
-- end of its as-of date and not yet retracted by then (serving day or a backtest cutoff), so
-- every date reads the same rows and no date's history sees a line or a cancellation that
-- landed later.
{{ recommender_order_lines(
    order_lines=ref('int_order_lines_netted')
) }}
