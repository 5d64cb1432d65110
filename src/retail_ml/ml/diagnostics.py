"""Compact, JSON-ready diagnostics of a propensity score: curves, bins, importance.

Computed once, when a model version is registered, from exactly the rows it was
validated on, and stored with the version (``diagnostics_json`` of the registry);
the model card only draws them. Every function returns plain Python lists/dicts of
floats rounded to :data:`DIGITS` decimals, so the stored JSON is small and
reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_curve
from sklearn.pipeline import Pipeline

#: Decimals kept for every stored float.
DIGITS = 6

#: Default number of shuffles per feature in :func:`permutation_importances`.
IMPORTANCE_REPEATS = 5

#: Default cap on the validation rows used by :func:`permutation_importances` (a
#: seeded sample above it). The cost is ``repeats x features`` predictions of that many
#: rows: at the default scale 10k rows take ~8 s on one core (20k: ~16 s) and rank the
#: leading features the same way.
IMPORTANCE_MAX_ROWS = 10_000


def _rounded(values: ArrayLike) -> list[float]:
    return [round(float(value), DIGITS) for value in np.asarray(values, dtype=np.float64)]


def _checked(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(np.int8)
    p = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or y.shape != p.shape or y.size == 0:
        raise ValueError(
            "labels and scores must be non-empty 1-D arrays of equal length, "
            f"got shapes {y.shape} and {p.shape}"
        )
    if not np.all(np.isfinite(p)) or p.min() < 0.0 or p.max() > 1.0:
        raise ValueError("scores must be finite probabilities in [0, 1]")
    return y, p


def roc_points(labels: ArrayLike, scores: ArrayLike, *, max_points: int = 200) -> dict[str, list]:
    """Points of the ROC curve, thinned to at most ``max_points`` (first and last kept).

    Args:
        labels: 0/1 labels.
        scores: Probabilities of label 1.
        max_points: Upper bound on the number of points returned (at least 2).

    Returns:
        ``{"fpr": [...], "tpr": [...]}``, both non-decreasing, from (0, 0) to (1, 1).

    Raises:
        ValueError: On mismatched/empty input, scores outside [0, 1] or one class only.
    """
    y, p = _checked(labels, scores)
    if y.min() == y.max():
        raise ValueError("the ROC curve needs both labels 0 and 1")
    fpr, tpr, _ = roc_curve(y, p, drop_intermediate=True)
    if len(fpr) > max_points:
        keep = np.unique(np.linspace(0, len(fpr) - 1, max(max_points, 2)).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": _rounded(fpr), "tpr": _rounded(tpr)}


def calibration_bins(labels: ArrayLike, scores: ArrayLike, *, n_bins: int = 10) -> list[dict]:
    """Reliability table: equal-width probability bins with their observed purchase rate.

    Bin ``i`` holds the scores in ``[i / n_bins, (i + 1) / n_bins)`` (the last bin
    includes 1.0). Empty bins are left out.

    Returns:
        One dict per non-empty bin: ``bin_lower``, ``bin_upper``, ``mean_predicted``,
        ``observed_rate`` and ``n_rows``, in ascending bin order.
    """
    y, p = _checked(labels, scores)
    index = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    bins = []
    for i in np.unique(index):
        in_bin = index == i
        bins.append(
            {
                "bin_lower": round(i / n_bins, DIGITS),
                "bin_upper": round((i + 1) / n_bins, DIGITS),
                "mean_predicted": round(float(p[in_bin].mean()), DIGITS),
                "observed_rate": round(float(y[in_bin].mean()), DIGITS),
                "n_rows": int(in_bin.sum()),
            }
        )
    return bins


def score_histogram(labels: ArrayLike, scores: ArrayLike, *, n_bins: int = 20) -> dict[str, list]:
    """Counts of scores in equal-width bins on [0, 1], separately for buyers and non-buyers.

    Returns:
        ``{"bin_edges": [n_bins + 1 floats], "positives": [n_bins ints],
        "negatives": [n_bins ints]}``.
    """
    y, p = _checked(labels, scores)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    positives, _ = np.histogram(p[y == 1], bins=edges)
    negatives, _ = np.histogram(p[y == 0], bins=edges)
    return {
        "bin_edges": _rounded(edges),
        "positives": [int(count) for count in positives],
        "negatives": [int(count) for count in negatives],
    }


def permutation_importances(
    pipeline: Pipeline,
    features: pd.DataFrame,
    labels: ArrayLike,
    *,
    seed: int,
    n_repeats: int = IMPORTANCE_REPEATS,
    max_rows: int = IMPORTANCE_MAX_ROWS,
) -> dict[str, Any]:
    """Permutation importance of every input column: the drop in ROC AUC when it is shuffled.

    Runs on the pipeline's raw inputs, so a categorical feature is one entry (not one per
    one-hot column). Single-process and seeded: the same inputs give the same numbers.

    Args:
        pipeline: A fitted pipeline with ``predict_proba``.
        features: The input columns (e.g. the validation rows).
        labels: 0/1 labels of ``features``' rows.
        seed: Seed of the shuffles and of the row sample.
        n_repeats: Shuffles per feature.
        max_rows: Rows used at most (a seeded sample without replacement above it).

    Returns:
        ``{"scoring": "roc_auc", "n_repeats", "n_rows", "features": [{"feature",
        "importance_mean", "importance_std"}, ...]}`` with features sorted by mean
        importance, largest first (ties by name).
    """
    y = np.asarray(labels).astype(np.int64)
    n_rows = len(features)
    if n_rows == 0 or len(y) != n_rows:
        raise ValueError("features and labels must be non-empty and of equal length")
    # Sample here rather than with permutation_importance's max_samples: that scores the
    # unshuffled baseline on all rows but the shuffled ones on the sample, so the AUC
    # difference between sample and full set would be added to every feature's importance.
    if n_rows > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(n_rows, size=max_rows, replace=False))
        features, y = features.iloc[rows], y[rows]
    result = permutation_importance(
        pipeline,
        features,
        y,
        scoring="roc_auc",
        n_repeats=n_repeats,
        random_state=seed,
        n_jobs=1,
    )
    entries = [
        {
            "feature": str(name),
            "importance_mean": round(float(mean), DIGITS),
            "importance_std": round(float(std), DIGITS),
        }
        for name, mean, std in zip(
            features.columns, result.importances_mean, result.importances_std, strict=True
        )
    ]
    entries.sort(key=lambda entry: (-entry["importance_mean"], entry["feature"]))
    return {
        "scoring": "roc_auc",
        "n_repeats": n_repeats,
        "n_rows": len(features),
        "features": entries,
    }


def score_diagnostics(labels: ArrayLike, scores: ArrayLike) -> dict[str, Any]:
    """ROC points, calibration bins and score histogram of one scorer on one split."""
    return {
        "roc_curve": roc_points(labels, scores),
        "calibration": calibration_bins(labels, scores),
        "histogram": score_histogram(labels, scores),
    }
