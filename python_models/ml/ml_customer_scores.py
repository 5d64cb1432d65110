"""Scores every customer as of the latest complete day with the registered model."""

from retail_ml.ml import score_with_registered_model


def model(dbt, session):
    dbt.config(materialized="table")
    registry = dbt.ref("ml_model_registry").arrow().to_pandas()
    serving = dbt.ref("feat_customer_serving").arrow().to_pandas()
    return score_with_registered_model(registry, serving)
