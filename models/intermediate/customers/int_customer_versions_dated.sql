-- One row per customer version with the as-of dates it describes (SCD2 from the CDC feed):
-- a version describes the customer from the day it was both effective and landed, so a
-- historical feature row never sees an attribute value that was not yet known.
{{ customer_versions_dated(
    customer_versions=ref('stg_shop__customers')
) }}
