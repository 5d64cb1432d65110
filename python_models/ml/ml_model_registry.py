"""Trains and registers the purchase-propensity model: append-only, one row per model version.

Every trained version is registered with its gate results (passed or rejected), signed.

Incremental: a build appends the version implied by the current training data only if it is not
registered yet. Whether it is, is decided in DuckDB from fingerprints of the two tables before
any row is read (retail_ml.ml.jobs.plan_model_version): an unchanged day reads and trains
nothing. `full_refresh=False` keeps `dbt build --full-refresh` from wiping the registry; see the
`ml_model_registry_lifecycle` docs block.
"""

from datetime import UTC, datetime

from retail_ml.ml import GateThresholds, register_model_version_from_relations


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="fail",
        full_refresh=False,
    )
    # DuckDB relations: fingerprinted where they live, read only when a new version trains.
    training = dbt.ref("ml_training_set__purchase_30d")
    baseline = dbt.ref("ml_baseline_scores__purchase_30d")
    shuffle = dbt.config.get("shuffle_train_labels_seed")  # tests only, see dbt_project.yml
    registered = []
    if dbt.is_incremental:
        query = f"select model_version from {dbt.this}"  # noqa: S608 - dbt's own relation name
        registered = [row[0] for row in session.execute(query).fetchall()]
    return register_model_version_from_relations(
        training,
        baseline,
        numeric_features=list(dbt.config.get("numeric_features")),
        categorical_features=list(dbt.config.get("categorical_features")),
        model_name=dbt.config.get("model_name"),
        trained_at=datetime.now(UTC),
        registered_versions=registered,
        label_column=dbt.config.get("label_column"),
        cutoff_column="cutoff_date",
        seed=int(dbt.config.get("seed")),
        thresholds=GateThresholds(
            min_validation_auc=float(dbt.config.get("min_validation_auc")),
            min_auc_lift_over_baseline=float(dbt.config.get("min_auc_lift_over_baseline")),
            max_brier_excess_over_baseline=float(dbt.config.get("max_brier_excess_over_baseline")),
        ),
        shuffle_train_labels_seed=int(shuffle) if shuffle not in (None, "") else None,
    )
