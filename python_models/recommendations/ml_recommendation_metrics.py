"""Offline evaluation of the recommender and popularity baselines: a row per method x metric."""

from retail_ml.ml import arrow_to_model_frame
from retail_ml.recommend import recommendation_metrics


def model(dbt, session):
    dbt.config(materialized="table")
    customers = arrow_to_model_frame(
        dbt.ref("int_recommender_evaluation_customers").to_arrow_table()
    )
    purchases = arrow_to_model_frame(dbt.ref("int_customer_products_purchased").to_arrow_table())
    catalogue = arrow_to_model_frame(dbt.ref("int_product_catalogue_requested").to_arrow_table())
    actual = arrow_to_model_frame(dbt.ref("int_recommender_evaluation_purchases").to_arrow_table())
    return recommendation_metrics(
        customers, purchases, catalogue, actual, parameters=dbt.config.get("recommender")
    )
