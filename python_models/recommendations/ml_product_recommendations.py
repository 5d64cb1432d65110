"""Top-10 products for every served customer as of the latest complete day, with the
parameters the backtest (ml_recommendation_metrics) tuned and evaluated.

The inputs are cut to the serving day in SQL before they are copied to Python
(retail_ml.recommend.serving_frames): the lines known and not retracted by then, that day's
catalogue, the served method's parameters."""

from retail_ml.recommend import ServingRelations, recommendations_from_warehouse


def model(dbt, session):
    dbt.config(materialized="table")
    return recommendations_from_warehouse(
        ServingRelations(
            serving=dbt.ref("feat_customer_serving"),
            lines=dbt.ref("int_recommender_order_lines"),
            catalogue=dbt.ref("int_product_catalogue_requested"),
            metrics=dbt.ref("ml_recommendation_metrics"),
        )
    )
