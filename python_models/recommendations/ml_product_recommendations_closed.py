"""Top-10 products for every customer as of the last closed day, scored with the statistics
learned that day (ml_recommender_statistics) and the parameters the backtest
(ml_recommendation_metrics) tuned and evaluated. ml_product_recommendations serves these rows,
except for the fresh customers (ml_product_recommendations_fresh).

The inputs are cut to the closed day in SQL before they are copied to Python
(retail_ml.recommend.serving_frames): the customers of that day, the lines known and not
retracted by then, that day's catalogue, the served method's parameters."""

from retail_ml.recommend import ServingRelations, recommendations_from_warehouse


def model(dbt, session):
    dbt.config(materialized="table")
    return recommendations_from_warehouse(
        ServingRelations(
            serving=dbt.ref("int_recommender_serving_customers"),
            lines=dbt.ref("int_recommender_order_lines"),
            catalogue=dbt.ref("int_product_catalogue_requested"),
            metrics=dbt.ref("ml_recommendation_metrics"),
            statistics=dbt.ref("ml_recommender_statistics"),
        )
    )
