{#- Generated from features/ (customers.yml, products.yml) by `make features`; edit the spec and run `make features`, not these lines. -#}
{% macro feature_spec(entity) -%}
{%- set specs = fromjson('{
 "customer": {
  "distinct": {
   "category": [
    90
   ]
  },
  "entity": "customer",
  "features": [
   {
    "data_type": "varchar",
    "expression": null,
    "kind": "attribute",
    "method": "percent_rank",
    "name": "country_code",
    "nullable": true,
    "of": "versions",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "varchar",
    "expression": null,
    "kind": "attribute",
    "method": "percent_rank",
    "name": "signup_channel",
    "nullable": true,
    "of": "versions",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "orders_7d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_orders_7d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "orders_10d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_orders_10d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "orders_30d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_orders_30d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "orders_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_orders_90d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "orders_lifetime",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_orders_lifetime"
   },
   {
    "data_type": "decimal(18,2)",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "net_sales_7d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_net_sales_7d"
   },
   {
    "data_type": "decimal(18,2)",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "net_sales_30d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_net_sales_30d"
   },
   {
    "data_type": "decimal(18,2)",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "net_sales_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_net_sales_90d"
   },
   {
    "data_type": "decimal(18,2)",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "net_sales_lifetime",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_net_sales_lifetime"
   },
   {
    "data_type": "decimal(18,2)",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "order_value_10d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": false,
    "running_column": "sum_order_value_10d"
   },
   {
    "data_type": "double",
    "expression": "case when orders_10d > 0 then cast(order_value_10d as double) / cast(orders_10d as double) end",
    "kind": "derived",
    "method": "percent_rank",
    "name": "avg_order_value_10d",
    "nullable": true,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "bigint",
    "expression": null,
    "kind": "days_since",
    "method": "percent_rank",
    "name": "days_since_last_order",
    "nullable": true,
    "of": "last:orders",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "last_orders_date"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "distinct",
    "method": "percent_rank",
    "name": "distinct_categories_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "distinct_category_90d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "units_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": false,
    "running_column": "sum_units_90d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "returned_units_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": false,
    "running_column": "sum_returned_units_90d"
   },
   {
    "data_type": "double",
    "expression": "case when units_90d > 0 then cast(returned_units_90d as double) / cast(units_90d as double) end",
    "kind": "derived",
    "method": "percent_rank",
    "name": "return_rate_90d",
    "nullable": true,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "reviews_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_reviews_90d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "rating_sum_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": false,
    "running_column": "sum_rating_sum_90d"
   },
   {
    "data_type": "double",
    "expression": "case when reviews_90d > 0 then cast(rating_sum_90d as double) / cast(reviews_90d as double) end",
    "kind": "derived",
    "method": "percent_rank",
    "name": "avg_rating_90d",
    "nullable": true,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "sessions_30d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_sessions_30d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "active_days_30d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_active_days_30d"
   },
   {
    "data_type": "double",
    "expression": null,
    "kind": "rank",
    "method": "percent_rank",
    "name": "activity_rank_30d",
    "nullable": false,
    "of": null,
    "order_by": [
     "orders_30d",
     "net_sales_30d",
     "sessions_30d"
    ],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "bigint",
    "expression": null,
    "kind": "days_since",
    "method": "percent_rank",
    "name": "tenure_days",
    "nullable": false,
    "of": "signup_date",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "boolean",
    "expression": null,
    "kind": "attribute",
    "method": "percent_rank",
    "name": "is_marketing_opt_in",
    "nullable": true,
    "of": "versions",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "boolean",
    "expression": "tenure_days < 30",
    "kind": "derived",
    "method": "percent_rank",
    "name": "is_new_customer",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "boolean",
    "expression": "orders_90d > 0",
    "kind": "derived",
    "method": "percent_rank",
    "name": "is_active_customer",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "boolean",
    "expression": "orders_lifetime > 0 and orders_90d = 0",
    "kind": "derived",
    "method": "percent_rank",
    "name": "is_churned_customer",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "date",
    "expression": null,
    "kind": "attribute",
    "method": "percent_rank",
    "name": "signup_date",
    "nullable": false,
    "of": "entity",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   }
  ],
  "key": "customer_id",
  "latest": [
   "orders"
  ],
  "lifetime": [
   "net_sales",
   "orders"
  ],
  "measures": {
   "active_days": {
    "data_type": "integer",
    "distinct": false
   },
   "category": {
    "data_type": "integer",
    "distinct": true
   },
   "net_sales": {
    "data_type": "decimal(18,2)",
    "distinct": false
   },
   "order_value": {
    "data_type": "decimal(18,2)",
    "distinct": false
   },
   "orders": {
    "data_type": "integer",
    "distinct": false
   },
   "rating_sum": {
    "data_type": "integer",
    "distinct": false
   },
   "returned_units": {
    "data_type": "integer",
    "distinct": false
   },
   "reviews": {
    "data_type": "integer",
    "distinct": false
   },
   "sessions": {
    "data_type": "integer",
    "distinct": false
   },
   "units": {
    "data_type": "integer",
    "distinct": false
   }
  },
  "sum_measures": [
   "orders",
   "order_value",
   "net_sales",
   "units",
   "returned_units",
   "sessions",
   "reviews",
   "rating_sum",
   "active_days"
  ],
  "sums": {
   "active_days": [
    30
   ],
   "net_sales": [
    7,
    30,
    90
   ],
   "order_value": [
    10
   ],
   "orders": [
    7,
    10,
    30,
    90
   ],
   "rating_sum": [
    90
   ],
   "returned_units": [
    90
   ],
   "reviews": [
    90
   ],
   "sessions": [
    30
   ],
   "units": [
    90
   ]
  },
  "window_lengths": [
   7,
   10,
   30,
   90
  ]
 },
 "product": {
  "distinct": {
   "buyer": [
    30
   ]
  },
  "entity": "product",
  "features": [
   {
    "data_type": "varchar",
    "expression": null,
    "kind": "attribute",
    "method": "percent_rank",
    "name": "category",
    "nullable": false,
    "of": "entity",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "varchar",
    "expression": null,
    "kind": "attribute",
    "method": "percent_rank",
    "name": "subcategory",
    "nullable": false,
    "of": "entity",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "units_7d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_units_7d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "units_30d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_units_30d"
   },
   {
    "data_type": "decimal(18,2)",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "net_sales_7d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_net_sales_7d"
   },
   {
    "data_type": "decimal(18,2)",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "net_sales_30d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_net_sales_30d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "distinct",
    "method": "percent_rank",
    "name": "distinct_buyers_30d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "distinct_buyer_30d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "reviews_lifetime",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": "sum_reviews_lifetime"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "rating_sum_lifetime",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": false,
    "running_column": "sum_rating_sum_lifetime"
   },
   {
    "data_type": "double",
    "expression": "case when reviews_lifetime > 0 then cast(rating_sum_lifetime as double) / cast(reviews_lifetime as double) end",
    "kind": "derived",
    "method": "percent_rank",
    "name": "avg_rating_lifetime",
    "nullable": true,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "units_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": false,
    "running_column": "sum_units_90d"
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "sum",
    "method": "percent_rank",
    "name": "returned_units_90d",
    "nullable": false,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": false,
    "running_column": "sum_returned_units_90d"
   },
   {
    "data_type": "double",
    "expression": "case when units_90d > 0 then cast(returned_units_90d as double) / cast(units_90d as double) end",
    "kind": "derived",
    "method": "percent_rank",
    "name": "return_rate_90d",
    "nullable": true,
    "of": null,
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "integer",
    "expression": null,
    "kind": "rank",
    "method": "row_number",
    "name": "popularity_rank_in_category",
    "nullable": false,
    "of": null,
    "order_by": [
     "units_30d desc",
     "net_sales_30d desc",
     "product_id"
    ],
    "partition_by": [
     "category"
    ],
    "published": true,
    "running_column": null
   },
   {
    "data_type": "date",
    "expression": null,
    "kind": "attribute",
    "method": "percent_rank",
    "name": "launch_date",
    "nullable": false,
    "of": "entity",
    "order_by": [],
    "partition_by": [],
    "published": true,
    "running_column": null
   }
  ],
  "key": "product_id",
  "latest": [],
  "lifetime": [
   "rating_sum",
   "reviews"
  ],
  "measures": {
   "buyer": {
    "data_type": "integer",
    "distinct": true
   },
   "net_sales": {
    "data_type": "decimal(18,2)",
    "distinct": false
   },
   "rating_sum": {
    "data_type": "integer",
    "distinct": false
   },
   "returned_units": {
    "data_type": "integer",
    "distinct": false
   },
   "reviews": {
    "data_type": "integer",
    "distinct": false
   },
   "units": {
    "data_type": "integer",
    "distinct": false
   }
  },
  "sum_measures": [
   "units",
   "net_sales",
   "returned_units",
   "reviews",
   "rating_sum"
  ],
  "sums": {
   "net_sales": [
    7,
    30
   ],
   "returned_units": [
    90
   ],
   "units": [
    7,
    30,
    90
   ]
  },
  "window_lengths": [
   7,
   30,
   90
  ]
 }
}') -%}
{%- if entity not in specs -%}
{{ exceptions.raise_compiler_error('no feature spec for entity ' ~ entity) }}
{%- endif -%}
{{ return(specs[entity]) }}
{%- endmacro %}
