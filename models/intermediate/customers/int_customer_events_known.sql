-- One row per customer, event kind, event date and known date: the summed measures of the
-- customer feature spec (features/customers.yml) of the events of that kind that happened on
-- event_date and became known on known_date (pit_known_date: the UTC date the last raw row they
-- need landed, never before they happened) and stopped counting on retracted_date (null:
-- never). An order and its lines count from the day they are known until the day their
-- cancellation is known (the cancellation is an event of its own date, known when its status
-- row landed, that retracts them). Every windowed and lifetime sum of the customer features
-- is computed from this table. Each kind is aggregated on its own (a few measures
-- each) and the kinds are stacked: no wide aggregate over every measure.
{{ customer_events_known(
    orders=ref('stg_shop__orders'),
    order_lines=ref('int_order_lines_netted'),
    refunds=ref('int_refunds_converted'),
    returned_units=ref('int_returned_units_capped'),
    sessions=ref('stg_shop__web_sessions'),
    reviews=ref('stg_shop__reviews')
) }}
