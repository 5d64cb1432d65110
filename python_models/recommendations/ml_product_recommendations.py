"""Top-10 products for every served customer as of the latest complete day."""

from retail_ml.ml import arrow_to_model_frame
from retail_ml.recommend import recommend_for_serving


def model(dbt, session):
    dbt.config(materialized="table")
    serving = arrow_to_model_frame(dbt.ref("feat_customer_serving").to_arrow_table())
    lines = arrow_to_model_frame(dbt.ref("int_order_lines_netted").to_arrow_table())
    products = arrow_to_model_frame(dbt.ref("stg_shop__products").to_arrow_table())
    categories = arrow_to_model_frame(dbt.ref("product_categories").to_arrow_table())
    return recommend_for_serving(
        serving, lines, products, categories, parameters=dbt.config.get("recommender")
    )
