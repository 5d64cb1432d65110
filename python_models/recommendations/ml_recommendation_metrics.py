"""Rolling-origin backtest of the recommender and its baselines: window x method x metric.

Incremental: the backtest runs only when the fingerprint of what it reads (its inputs' rows as
used, its parameters, its code) differs from the one stored with the rows; otherwise no row is
returned and the table is kept (retail_ml.recommend.incremental). A new result replaces the rows
of its grain (window, method, metric): the table always holds one backtest.
"""

from retail_ml.recommend import (
    BacktestRelations,
    recommendation_metrics_if_changed,
    stored_fingerprints,
)


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["window_number", "method", "metric"],
        # A table built before the fingerprint column existed gains it (and is recomputed).
        on_schema_change="sync_all_columns",
    )
    stored = stored_fingerprints(session, str(dbt.this)) if dbt.is_incremental else []
    relations = BacktestRelations(
        windows=dbt.ref("int_recommender_backtest_windows"),
        customers=dbt.ref("int_recommender_evaluation_customers"),
        lines=dbt.ref("int_recommender_order_lines"),
        catalogue=dbt.ref("int_product_catalogue_requested"),
        actual=dbt.ref("int_recommender_evaluation_purchases"),
    )
    return recommendation_metrics_if_changed(
        relations,
        parameters=dbt.config.get("recommender"),
        stored_fingerprints=stored,
    )
