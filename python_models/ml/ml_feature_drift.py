"""Drift of every feature of the champion and of its score: PSI, validation cutoff vs serving.

One row per champion version x feature (plus `__score__`); thresholds from the dbt vars
`ml_drift_psi_warn` / `ml_drift_psi_alert` (see the ml_feature_drift docs block).
"""

from retail_ml.ml import arrow_to_model_frame
from retail_ml.ml.monitoring import DriftThresholds, drift_reference_rows, feature_drift


def model(dbt, session):
    dbt.config(materialized="table")
    registry = arrow_to_model_frame(dbt.ref("ml_model_registry").to_arrow_table())
    champions = arrow_to_model_frame(dbt.ref("ml_model_champions").to_arrow_table())
    # Only the cutoffs a reference can come from, filtered in DuckDB (not the whole history).
    training = drift_reference_rows(dbt.ref("ml_training_set__purchase_30d"), registry)
    serving = arrow_to_model_frame(dbt.ref("feat_customer_serving").to_arrow_table())
    scores = arrow_to_model_frame(dbt.ref("ml_customer_scores").to_arrow_table())
    return feature_drift(
        registry,
        champions,
        training,
        serving,
        scores,
        model_name=dbt.config.get("model_name"),
        thresholds=DriftThresholds(
            warn=float(dbt.config.get("psi_warn")), alert=float(dbt.config.get("psi_alert"))
        ),
    )
