"""Trains the purchase-propensity model and records it: one row per model version."""

from datetime import UTC, datetime

from retail_ml.ml import arrow_to_model_frame, train_model_registry_row


def model(dbt, session):
    dbt.config(materialized="table")
    training = arrow_to_model_frame(dbt.ref("ml_training_set__purchase_30d").to_arrow_table())
    return train_model_registry_row(
        training,
        numeric_features=list(dbt.config.get("numeric_features")),
        categorical_features=list(dbt.config.get("categorical_features")),
        model_name=dbt.config.get("model_name"),
        trained_at=datetime.now(UTC),
        label_column=dbt.config.get("label_column"),
        cutoff_column="cutoff_date",
        seed=int(dbt.config.get("seed")),
    )
