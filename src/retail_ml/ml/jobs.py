"""One-call entry points for the thin dbt Python models.

A dbt Python model reads its refs as DataFrames and calls exactly one of:

* :func:`train_model_registry_row` - train, serialise and describe the model
  as a one-row registry DataFrame (with the model bytes as a BLOB);
* :func:`score_with_registered_model` - pick the registered model, load it
  safely (digest + allow-list checked) and score every customer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from retail_ml.ml._checks import require_columns, require_rows
from retail_ml.ml.registry import TRUSTED_TYPES, load_model, registry_row, serialize_model
from retail_ml.ml.scoring import score_customers
from retail_ml.ml.training import train_purchase_model

#: Registry columns that :func:`score_with_registered_model` reads.
REGISTRY_COLUMNS_FOR_SCORING: tuple[str, ...] = (
    "model_name",
    "model_version",
    "trained_at",
    "feature_columns_json",
    "model_bytes",
    "model_sha256",
)


def train_model_registry_row(
    training: pd.DataFrame,
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    model_name: str,
    trained_at: datetime,
    label_column: str = "label",
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
    seed: int = 42,
) -> pd.DataFrame:
    """Train the purchase model and return its one-row registry DataFrame.

    Args:
        training: One row per customer per cutoff (see
            :func:`~retail_ml.ml.training.train_purchase_model`).
        numeric_features: Numeric input columns.
        categorical_features: Categorical input columns.
        model_name: Logical model name recorded in the registry.
        trained_at: Timestamp to record (e.g. the dbt run start).
        label_column: Binary target column.
        cutoff_column: Cutoff date column.
        id_column: Customer id column.
        seed: Random state of the classifier.

    Returns:
        A one-row DataFrame with the columns of
        :func:`~retail_ml.ml.registry.registry_row`.
    """
    trained = train_purchase_model(
        training,
        numeric_features,
        categorical_features,
        label_column=label_column,
        cutoff_column=cutoff_column,
        id_column=id_column,
        seed=seed,
    )
    artifact = serialize_model(trained.pipeline)
    row = registry_row(trained, artifact, model_name=model_name, trained_at=trained_at)
    return pd.DataFrame([row])


def select_registry_row(registry: pd.DataFrame, model_name: str | None = None) -> pd.Series:
    """Return the registry row to score with: the latest ``trained_at``.

    Ties on ``trained_at`` are broken by the larger ``model_version`` so the
    choice is deterministic.

    Args:
        registry: The model-registry table.
        model_name: If given, only rows of this model are considered.

    Returns:
        The chosen row.

    Raises:
        ValueError: If required columns are missing or no row matches.
    """
    require_columns(registry, REGISTRY_COLUMNS_FOR_SCORING, "registry")
    candidates = registry if model_name is None else registry[registry["model_name"] == model_name]
    if len(candidates) == 0:
        which = "any model" if model_name is None else f"model {model_name!r}"
        raise ValueError(f"the registry has no row for {which}")
    ordered = candidates.sort_values(["trained_at", "model_version"], kind="mergesort")
    return ordered.iloc[-1]


def score_with_registered_model(
    registry: pd.DataFrame,
    serving: pd.DataFrame,
    *,
    model_name: str | None = None,
    id_column: str = "customer_id",
    trusted_types: Sequence[str] = TRUSTED_TYPES,
    passthrough_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Score every customer with the latest registered model.

    Args:
        registry: The model-registry table (rows from
            :func:`train_model_registry_row`).
        serving: One row per customer with the model's feature columns.
        model_name: Restrict to rows of this model name.
        id_column: Unique customer id column of ``serving``.
        trusted_types: Allow-list passed to
            :func:`~retail_ml.ml.registry.load_model`.
        passthrough_columns: Columns of ``serving`` copied to the output as
            they are (e.g. the as-of date the features describe).

    Returns:
        ``id_column``, ``probability``, ``decile`` (see
        :func:`~retail_ml.ml.scoring.score_customers`) plus ``model_name``
        and ``model_version`` of the model used, sorted by id.

    Raises:
        ValueError: On an empty/invalid registry or serving frame.
        ModelLoadError: If the stored model fails the integrity or
            allow-list checks (see :mod:`retail_ml.ml.errors`).
    """
    require_rows(serving, "serving")
    chosen = select_registry_row(registry, model_name)
    pipeline = load_model(chosen["model_bytes"], chosen["model_sha256"], trusted_types)
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
