"""Rolling backtest of the latest registered purchase model: one row per version x evaluated
cutoff x scorer (model, baseline) x metric.

Refits the version's recipe once per fold of ml_backtest_folds__purchase_30d (see
retail_ml.ml.backtest and the ml_model_backtest docs block). Incremental and append-only: a
version is backtested once, so an unchanged build fits nothing here.
"""

from retail_ml.ml import arrow_to_model_frame
from retail_ml.ml.backtest import backtest_model_version


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="fail",
        full_refresh=False,
    )
    registry = dbt.ref("ml_model_registry").to_arrow_table().drop_columns(["model_bytes"])
    training = arrow_to_model_frame(dbt.ref("ml_training_set__purchase_30d").to_arrow_table())
    folds = dbt.ref("ml_backtest_folds__purchase_30d").to_arrow_table().to_pandas()
    baseline = arrow_to_model_frame(
        dbt.ref("ml_baseline_backtest_scores__purchase_30d").to_arrow_table()
    )
    backtested = []
    if dbt.is_incremental:
        query = f"select distinct model_version from {dbt.this}"  # noqa: S608 - dbt's relation
        backtested = [row[0] for row in session.execute(query).fetchall()]
    return backtest_model_version(
        registry.to_pandas(),
        training,
        folds,
        baseline,
        model_name=dbt.config.get("model_name"),
        backtested_versions=backtested,
        label_days=int(dbt.config.get("label_days")),
        lateness_days=int(dbt.config.get("lateness_days")),
    )
