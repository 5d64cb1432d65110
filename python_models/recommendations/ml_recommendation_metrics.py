"""Rolling-origin backtest of the recommender and its baselines: window x method x metric."""

from retail_ml.ml import arrow_to_model_frame
from retail_ml.recommend import recommendation_metrics


def model(dbt, session):
    dbt.config(materialized="table")
    windows = arrow_to_model_frame(dbt.ref("int_recommender_backtest_windows").to_arrow_table())
    customers = arrow_to_model_frame(
        dbt.ref("int_recommender_evaluation_customers").to_arrow_table()
    )
    lines = arrow_to_model_frame(dbt.ref("int_recommender_order_lines").to_arrow_table())
    catalogue = arrow_to_model_frame(dbt.ref("int_product_catalogue_requested").to_arrow_table())
    actual = arrow_to_model_frame(dbt.ref("int_recommender_evaluation_purchases").to_arrow_table())
    return recommendation_metrics(
        windows, customers, lines, catalogue, actual, parameters=dbt.config.get("recommender")
    )
