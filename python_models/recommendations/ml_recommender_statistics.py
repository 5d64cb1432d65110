"""What the served recommender learns from every customer's order lines as of the last closed
day (retail_ml.recommend.statistics_from_warehouse): co-purchase shares, category mixes and
shares, popularity. The closed day's recommendations and, until the next daily run, the fresh
customers' recommendations score with these rows (docs: intraday_freshness)."""

from retail_ml.recommend import StatisticsRelations, statistics_from_warehouse


def model(dbt, session):
    dbt.config(materialized="table")
    return statistics_from_warehouse(
        StatisticsRelations(
            serving=dbt.ref("int_recommender_serving_customers"),
            lines=dbt.ref("int_recommender_order_lines"),
            catalogue=dbt.ref("int_product_catalogue_requested"),
            metrics=dbt.ref("ml_recommendation_metrics"),
        )
    )
