-- One row per staged return of a purchase it can be matched to: the units it takes back from
-- that purchase (order x product), capped so that all returns of it together never exceed the
-- quantity bought, in the order they became known. The one return-capping rule of every entity.
-- A return counts against its purchase only while the purchase counts: until the order's
-- cancellation is known (retracted_date), never by the order's current status.
{{ returned_units_capped(
    order_lines=ref('int_order_lines_netted'),
    refunds=ref('int_refunds_converted')
) }}
