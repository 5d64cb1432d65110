"""Top-10 products for every served customer as of the latest complete day, with the
parameters the backtest (ml_recommendation_metrics) tuned and evaluated."""

from retail_ml.ml import arrow_to_model_frame
from retail_ml.recommend import recommend_for_serving


def model(dbt, session):
    dbt.config(materialized="table")
    serving = arrow_to_model_frame(dbt.ref("feat_customer_serving").to_arrow_table())
    lines = arrow_to_model_frame(dbt.ref("int_recommender_order_lines").to_arrow_table())
    catalogue = arrow_to_model_frame(dbt.ref("int_product_catalogue_requested").to_arrow_table())
    metrics = arrow_to_model_frame(dbt.ref("ml_recommendation_metrics").to_arrow_table())
    return recommend_for_serving(serving, lines, catalogue, metrics)
