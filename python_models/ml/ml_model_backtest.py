"""Rolling backtest of the latest registered purchase model: one row per version x evaluated
cutoff x scorer (model, baseline) x metric.

Refits the version's recipe once per fold of ml_backtest_folds__purchase_30d (see
retail_ml.ml.backtest and the ml_model_backtest docs block). Incremental and append-only: a
version is backtested once, so an unchanged build fits nothing here, and reads nothing but the
registry's few rows: the training, fold and baseline tables stay DuckDB relations until a new
version needs its backtest.
"""

from retail_ml.ml.backtest import backtest_model_version_from_relations


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="fail",
        full_refresh=False,
    )
    registry = (
        dbt.ref("ml_model_registry")
        .select(
            "model_name, model_version, trained_at, feature_columns_json, params_json,"
            " training_fingerprint"
        )
        .to_arrow_table()
        .to_pandas()
    )
    backtested = []
    if dbt.is_incremental:
        query = f"select distinct model_version from {dbt.this}"  # noqa: S608 - dbt's relation
        backtested = [row[0] for row in session.execute(query).fetchall()]
    return backtest_model_version_from_relations(
        registry,
        dbt.ref("ml_training_set__purchase_30d"),
        dbt.ref("ml_backtest_folds__purchase_30d"),
        dbt.ref("ml_baseline_backtest_scores__purchase_30d"),
        model_name=dbt.config.get("model_name"),
        backtested_versions=backtested,
        label_days=int(dbt.config.get("label_days")),
        lateness_days=int(dbt.config.get("lateness_days")),
    )
