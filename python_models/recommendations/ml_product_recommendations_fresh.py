"""Top-10 products for every fresh customer (int_customers_fresh) as of the open day: their own
order lines known by now, scored with the closed day's statistics (ml_recommender_statistics),
parameters and catalogue (retail_ml.recommend.fresh_recommendations_from_warehouse; docs:
intraday_freshness). Empty when nobody is fresh."""

from retail_ml.recommend import FreshRelations, fresh_recommendations_from_warehouse


def model(dbt, session):
    dbt.config(materialized="table")
    return fresh_recommendations_from_warehouse(
        FreshRelations(
            fresh=dbt.ref("int_customers_fresh"),
            population=dbt.ref("feat_customer_serving"),
            fresh_lines=dbt.ref("int_recommender_order_lines_fresh"),
            catalogue=dbt.ref("int_product_catalogue_requested"),
            metrics=dbt.ref("ml_recommendation_metrics"),
            statistics=dbt.ref("ml_recommender_statistics"),
        )
    )
