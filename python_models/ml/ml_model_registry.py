"""Trains the purchase-propensity model and records it: one row per model version."""

from retail_ml.ml import train_and_register


def model(dbt, session):
    dbt.config(materialized="table")
    training = dbt.ref("ml_training_set__purchase_30d").arrow().to_pandas()
    return train_and_register(
        training,
        numeric_features=list(dbt.config.get("numeric_features")),
        categorical_features=list(dbt.config.get("categorical_features")),
        label_column=dbt.config.get("label_column"),
        cutoff_column="cutoff_date",
        model_name=dbt.config.get("model_name"),
        seed=int(dbt.config.get("seed")),
    )
