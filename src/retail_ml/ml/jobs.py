"""One-call entry points for the thin dbt Python models.

A dbt Python model reads its refs as DataFrames and calls exactly one of:

* :func:`register_model_version_from_relations` - the append-only registry
  increment, deciding in DuckDB whether the version is registered already
  (:func:`plan_model_version`) before it reads a row, then
  :func:`register_model_version`;
* :func:`register_model_version` - the same on frames: the
  model version implied by the training data is computed first (no fitting);
  if it is registered already nothing is trained and an empty table is
  returned, otherwise the model is trained, assessed against the baseline,
  serialised and returned as one new registry row;
* :func:`score_with_registered_model` - load the champion (from
  ``ml_model_champions``; a ``passed`` version) safely (signature, digest and
  allow-list checked) and score every customer.

Every trained version is registered with its gate results (:mod:`retail_ml.ml.gates`),
rejected ones included, so the registry records what was tried.

:func:`train_model_registry_row` is the stand-alone form of the first (always
trains, returns a pandas frame), for notebooks and tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import duckdb
import pandas as pd
import pyarrow as pa

from retail_ml.ml._checks import require_columns, require_rows
from retail_ml.ml.assessment import assess_trained_model
from retail_ml.ml.champion import champion_version
from retail_ml.ml.fingerprint import fingerprint_frame, fingerprint_relation
from retail_ml.ml.frames import arrow_to_model_frame
from retail_ml.ml.gates import GateThresholds, evaluate_gates
from retail_ml.ml.registry import (
    REGISTRY_SCHEMA,
    TRUSTED_TYPES,
    library_versions,
    load_registered_model,
    model_version,
    registry_row,
    registry_table,
    serialize_model,
    unregistered_rows,
)
from retail_ml.ml.scoring import score_customers
from retail_ml.ml.training import (
    feature_columns_of,
    fingerprint_columns,
    fit_plan,
    plan_training,
    planned_params,
    shuffle_train_labels,
)

#: Registry columns that :func:`score_with_registered_model` reads.
REGISTRY_COLUMNS_FOR_SCORING: tuple[str, ...] = (
    "model_name",
    "model_version",
    "trained_at",
    "feature_columns_json",
    "model_bytes",
    "model_sha256",
    "gate_status",
    "model_signature",
)


def baseline_columns(cutoff_column: str, id_column: str) -> list[str]:
    """The baseline columns its fingerprint covers: what the gates compare the model with."""
    return [cutoff_column, id_column, "probability", "split"]


def baseline_fingerprint(
    baseline: pd.DataFrame | None, cutoff_column: str, id_column: str
) -> str | None:
    """Fingerprint of the baseline's scores (cutoff, id, probability, split), or ``None``."""
    if baseline is None:
        return None
    columns = baseline_columns(cutoff_column, id_column)
    require_columns(baseline, columns, "baseline")
    return fingerprint_frame(baseline, columns)


def _dtype_probe(relation: duckdb.DuckDBPyRelation, columns: Sequence[str]) -> pd.DataFrame:
    """A frame of at most two rows with the dtypes ``relation[columns]`` has as a model frame.

    Which pandas dtype a column gets from :func:`~retail_ml.ml.frames.arrow_to_model_frame`
    depends on its warehouse type and on whether it holds a null (an integer column with a
    null becomes float64), nothing else; so one row of the relation plus, where a column
    has nulls, a row with a null there (typed: ``case when false``) gives the same dtypes
    without reading the table.
    """
    quoted = ['"' + name.replace('"', '""') + '"' for name in columns]
    has_nulls = relation.aggregate(
        ", ".join(f"count(*) > count({name})" for name in quoted)
    ).fetchone()
    first = relation.select(", ".join(quoted)).limit(1)
    if has_nulls is None or not any(has_nulls):
        return arrow_to_model_frame(first.to_arrow_table())
    with_nulls = first.select(
        ", ".join(
            f"case when false then {name} end as {name}" if null else name
            for name, null in zip(quoted, has_nulls, strict=True)
        )
    )
    return arrow_to_model_frame(first.union(with_nulls).to_arrow_table())


def plan_model_version(
    training: duckdb.DuckDBPyRelation,
    baseline: duckdb.DuckDBPyRelation | None,
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    label_column: str = "label",
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
    seed: int = 42,
) -> str:
    """The model version :func:`register_model_version` would register, without reading rows.

    Everything the version covers, computed where the tables live: the training and
    baseline fingerprints (:func:`~retail_ml.ml.fingerprint.fingerprint_relation`, the same
    definition :func:`register_model_version` applies to the frames), the parameters of the
    unfitted pipeline, the features with the dtypes the model frame will have
    (:func:`_dtype_probe`) and the library versions.

    Args:
        training: The training table as a DuckDB relation (``dbt.ref``).
        baseline: The baseline scores as a relation, or ``None`` (model assessed alone).
        numeric_features, categorical_features, label_column, cutoff_column, id_column, seed:
            As :func:`register_model_version`.

    Returns:
        The 16-hex model version.
    """
    numeric, categorical = list(numeric_features), list(categorical_features)
    used = fingerprint_columns(
        numeric,
        categorical,
        label_column=label_column,
        cutoff_column=cutoff_column,
        id_column=id_column,
    )
    probe = _dtype_probe(training, numeric + categorical)
    baseline_digest = (
        None
        if baseline is None
        else fingerprint_relation(baseline, baseline_columns(cutoff_column, id_column))
    )
    return model_version(
        fingerprint_relation(training, used),
        planned_params(numeric, categorical, seed=seed, label_column=label_column),
        [column.as_dict() for column in feature_columns_of(probe, numeric, categorical)],
        library_versions(),
        baseline_digest,
    )


def register_model_version_from_relations(
    training: duckdb.DuckDBPyRelation,
    baseline: duckdb.DuckDBPyRelation | None,
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    model_name: str,
    trained_at: datetime,
    registered_versions: Iterable[str] = (),
    label_column: str = "label",
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
    seed: int = 42,
    thresholds: GateThresholds | None = None,
    shuffle_train_labels_seed: int | None = None,
    key: bytes | None = None,
) -> pa.Table:
    """:func:`register_model_version` on warehouse relations, reading them only to train.

    The version the tables imply is decided first, in DuckDB (:func:`plan_model_version`);
    when it is registered already nothing is read or trained and no rows are returned (a
    daily run with an unchanged training set). Otherwise the tables are read
    (:func:`~retail_ml.ml.frames.arrow_to_model_frame`) and :func:`register_model_version`
    trains and registers; the version it computes from the frames must be the planned one
    (a disagreement is a bug and raises). With ``shuffle_train_labels_seed`` (tests only) the
    labels are permuted after reading, so the version is known only then: no shortcut.

    Args: as :func:`register_model_version`, with the training table and the baseline scores
    as DuckDB relations.

    Returns:
        As :func:`register_model_version`.
    """
    registered = list(registered_versions)
    planned = None
    if shuffle_train_labels_seed is None:
        planned = plan_model_version(
            training,
            baseline,
            numeric_features,
            categorical_features,
            label_column=label_column,
            cutoff_column=cutoff_column,
            id_column=id_column,
            seed=seed,
        )
        if planned in set(registered):
            return REGISTRY_SCHEMA.empty_table()
    table = register_model_version(
        arrow_to_model_frame(training.to_arrow_table()),
        numeric_features,
        categorical_features,
        model_name=model_name,
        trained_at=trained_at,
        registered_versions=registered,
        baseline=None if baseline is None else arrow_to_model_frame(baseline.to_arrow_table()),
        label_column=label_column,
        cutoff_column=cutoff_column,
        id_column=id_column,
        seed=seed,
        thresholds=thresholds,
        shuffle_train_labels_seed=shuffle_train_labels_seed,
        key=key,
    )
    versions = table.column("model_version").to_pylist()
    if planned is not None and versions not in ([], [planned]):  # pragma: no cover - a bug
        raise RuntimeError(f"registered version {versions} differs from the planned {planned}")
    return table


def register_model_version(
    training: pd.DataFrame,
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    model_name: str,
    trained_at: datetime,
    registered_versions: Iterable[str] = (),
    baseline: pd.DataFrame | None = None,
    label_column: str = "label",
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
    seed: int = 42,
    thresholds: GateThresholds | None = None,
    shuffle_train_labels_seed: int | None = None,
    key: bytes | None = None,
) -> pa.Table:
    """Train and register a new model version unless the training data's version exists.

    Args:
        training: One row per customer per cutoff (see
            :func:`~retail_ml.ml.training.train_purchase_model`).
        numeric_features: Numeric input columns.
        categorical_features: Categorical input columns.
        model_name: Logical model name recorded in the registry.
        trained_at: Timestamp to record (e.g. now, in UTC).
        registered_versions: Versions already in the registry (empty on the first
            build or a full refresh).
        baseline: Baseline scores of the training rows with ``probability`` and
            ``split`` columns (see :func:`~retail_ml.ml.assessment.align_baseline`),
            evaluated next to the model; ``None`` assesses the model alone.
        label_column: Binary target column.
        cutoff_column: Cutoff date column.
        id_column: Customer id column.
        seed: Random state of the classifier and of the permutation importance.
        thresholds: Gate thresholds (:mod:`retail_ml.ml.gates`); defaults to
            :class:`~retail_ml.ml.gates.GateThresholds`'s.
        shuffle_train_labels_seed: Tests only: permute the train split's labels with this
            seed first (:func:`~retail_ml.ml.training.shuffle_train_labels`), to register a
            model that must be rejected.
        key: Signing key; defaults to :func:`retail_ml.ml.signing.signing_key`.

    Returns:
        An Arrow table of :data:`~retail_ml.ml.registry.REGISTRY_SCHEMA` with the new
        version's row (``gate_status`` passed or rejected), or no rows when the version is
        registered already.
    """
    if shuffle_train_labels_seed is not None:
        training = shuffle_train_labels(
            training,
            label_column=label_column,
            cutoff_column=cutoff_column,
            id_column=id_column,
            seed=shuffle_train_labels_seed,
        )
    plan = plan_training(
        training,
        numeric_features,
        categorical_features,
        label_column=label_column,
        cutoff_column=cutoff_column,
        id_column=id_column,
        seed=seed,
    )
    versions = library_versions()
    baseline_digest = baseline_fingerprint(baseline, cutoff_column, id_column)
    planned_version = model_version(
        plan.training_fingerprint,
        plan.params,
        [column.as_dict() for column in plan.feature_columns],
        versions,
        baseline_digest,
    )
    registered = set(registered_versions)
    if planned_version in registered:
        return REGISTRY_SCHEMA.empty_table()

    trained = fit_plan(plan)
    assessment = assess_trained_model(plan, trained.pipeline, baseline, seed=seed)
    row = registry_row(
        trained,
        serialize_model(trained.pipeline),
        model_name=model_name,
        trained_at=trained_at,
        versions=versions,
        evaluation=assessment.records,
        diagnostics=assessment.diagnostics,
        calibration=assessment.calibration,
        gate_results=evaluate_gates(assessment.records, thresholds or GateThresholds()),
        baseline_fingerprint=baseline_digest,
        key=key,
    )
    if row["model_version"] != planned_version:  # pragma: no cover - a bug, not bad input
        raise RuntimeError(
            f"model version {row['model_version']} differs from the planned {planned_version}"
        )
    return registry_table(unregistered_rows(pd.DataFrame([row]), registered))


def train_model_registry_row(
    training: pd.DataFrame,
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    model_name: str,
    trained_at: datetime,
    baseline: pd.DataFrame | None = None,
    label_column: str = "label",
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
    seed: int = 42,
    thresholds: GateThresholds | None = None,
    key: bytes | None = None,
) -> pd.DataFrame:
    """Train the purchase model and return its one-row registry DataFrame.

    :func:`register_model_version` with nothing registered, as pandas.

    Returns:
        A one-row DataFrame with the columns of
        :data:`~retail_ml.ml.registry.REGISTRY_SCHEMA`.
    """
    table = register_model_version(
        training,
        numeric_features,
        categorical_features,
        model_name=model_name,
        trained_at=trained_at,
        baseline=baseline,
        label_column=label_column,
        cutoff_column=cutoff_column,
        id_column=id_column,
        seed=seed,
        thresholds=thresholds,
        key=key,
    )
    return table.to_pandas()


def score_with_registered_model(
    registry: pd.DataFrame,
    champions: pd.DataFrame,
    serving: pd.DataFrame,
    *,
    model_name: str,
    id_column: str = "customer_id",
    trusted_types: Sequence[str] = TRUSTED_TYPES,
    passthrough_columns: Sequence[str] = (),
    key: bytes | None = None,
) -> pd.DataFrame:
    """Score every customer with the model's champion, and only with it.

    Args:
        registry: The model-registry table.
        champions: The champion history (``ml_model_champions``).
        serving: One row per customer with the model's feature columns.
        model_name: The model to score with.
        id_column: Unique customer id column of ``serving``.
        trusted_types: Allow-list passed to
            :func:`~retail_ml.ml.registry.load_model`.
        passthrough_columns: Columns of ``serving`` copied to the output as
            they are (e.g. the as-of date the features describe).
        key: Signing key; defaults to :func:`retail_ml.ml.signing.signing_key`.

    Returns:
        ``id_column``, ``probability``, ``decile`` (see
        :func:`~retail_ml.ml.scoring.score_customers`) plus ``model_name``
        and ``model_version`` of the champion, sorted by id.

    Raises:
        ValueError: On an empty/invalid registry or serving frame, no champion, or a
            champion that is not a registered ``passed`` version.
        ModelLoadError: If the stored model fails the signature, integrity or
            allow-list checks (see :mod:`retail_ml.ml.errors`).
    """
    require_rows(serving, "serving")
    require_columns(registry, REGISTRY_COLUMNS_FOR_SCORING, "registry")
    chosen = champion_version(champions, registry, model_name)
    pipeline = load_registered_model(chosen, trusted_types, key)
    features = [column["name"] for column in json.loads(chosen["feature_columns_json"])]
    require_columns(serving, list(passthrough_columns), "serving")
    scores = score_customers(pipeline, serving, features, id_column=id_column)
    scores = scores.assign(
        model_name=str(chosen["model_name"]), model_version=str(chosen["model_version"])
    )
    if passthrough_columns:
        carried = serving[[id_column, *passthrough_columns]]
        scores = scores.merge(carried, on=id_column, how="left", validate="one_to_one")
    return scores
