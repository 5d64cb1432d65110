"""Scores every customer as of the latest complete day with the latest registered model.

Reads ml_model_metrics so that dbt runs the quality gates (tests on it) before scoring: a failing
gate skips this model. The chosen version must have been evaluated there.
"""

from retail_ml.ml import arrow_to_model_frame, score_with_registered_model


def model(dbt, session):
    dbt.config(materialized="table")
    registry = arrow_to_model_frame(dbt.ref("ml_model_registry").to_arrow_table())
    serving = arrow_to_model_frame(dbt.ref("feat_customer_serving").to_arrow_table())
    evaluated = dbt.ref("ml_model_metrics").select("model_version").distinct().fetchall()
    return score_with_registered_model(
        registry,
        serving,
        model_name="purchase_30d",
        passthrough_columns=["as_of_date"],
        evaluated_versions=[row[0] for row in evaluated],
    )
