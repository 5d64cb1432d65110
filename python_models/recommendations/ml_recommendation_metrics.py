"""Offline evaluation of the recommender and popularity baselines: a row per method x metric."""

from retail_ml.ml import arrow_to_model_frame
from retail_ml.recommend import recommendation_metrics


def model(dbt, session):
    dbt.config(materialized="table")
    feature_dates = arrow_to_model_frame(dbt.ref("int_feature_dates_spined").to_arrow_table())
    versions = arrow_to_model_frame(dbt.ref("int_customer_versions_dated").to_arrow_table())
    lines = arrow_to_model_frame(dbt.ref("int_order_lines_netted").to_arrow_table())
    products = arrow_to_model_frame(dbt.ref("stg_shop__products").to_arrow_table())
    categories = arrow_to_model_frame(dbt.ref("product_categories").to_arrow_table())
    return recommendation_metrics(
        feature_dates,
        versions,
        lines,
        products,
        categories,
        parameters=dbt.config.get("recommender"),
        evaluation_days=int(dbt.config.get("evaluation_days")),
    )
