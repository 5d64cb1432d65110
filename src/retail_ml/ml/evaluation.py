"""Validation metrics for a binary purchase-propensity score.

All metrics treat label ``1`` as "purchased" and expect scores to be
probabilities in ``[0, 1]`` (``log_loss`` and ``brier`` are only meaningful
for probabilities).

Top decile: the ``ceil(n / 10)`` rows with the highest score. Ties are broken
by position in the input (a stable sort on the descending score), so the
result is deterministic for a given input order; callers that need
order-independence should sort their rows first (training sorts by cutoff and
customer id). ``top_decile_precision`` is the positive rate inside the top
decile and ``top_decile_lift`` is that precision divided by the overall
positive rate.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

#: Keys of the dict returned by :func:`evaluate_scores`, in order.
METRIC_NAMES: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "top_decile_lift",
    "top_decile_precision",
    "n_rows",
    "positive_rate",
)


def _as_binary_labels(y_true: ArrayLike) -> np.ndarray:
    """Return ``y_true`` as a 1-D int8 array of 0/1, or raise ``ValueError``."""
    labels = np.asarray(y_true)
    if labels.ndim != 1:
        raise ValueError(f"y_true must be one-dimensional, got shape {labels.shape}")
    if labels.dtype == bool:
        return labels.astype(np.int8)
    try:
        numeric = labels.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("y_true must contain only the labels 0 and 1") from exc
    if not np.all(np.isin(numeric, (0.0, 1.0))):
        raise ValueError("y_true must contain only the labels 0 and 1 (no missing values)")
    return numeric.astype(np.int8)


def _as_probabilities(y_score: ArrayLike) -> np.ndarray:
    """Return ``y_score`` as a 1-D float64 array in ``[0, 1]``, or raise ``ValueError``."""
    scores = np.asarray(y_score, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"y_score must be one-dimensional, got shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("y_score must not contain NaN or infinite values")
    if scores.size and (scores.min() < 0.0 or scores.max() > 1.0):
        raise ValueError("y_score must be probabilities in [0, 1]")
    return scores


def top_decile_mask(y_score: np.ndarray) -> np.ndarray:
    """Boolean mask of the top-decile rows of ``y_score``.

    The top decile holds ``ceil(n / 10)`` rows (at least one for non-empty
    input): the highest scores, ties broken by input position.

    Args:
        y_score: One-dimensional array of scores.

    Returns:
        Boolean array of the same length, ``True`` for top-decile rows.
    """
    n_rows = len(y_score)
    n_top = math.ceil(n_rows / 10)
    order = np.argsort(-y_score, kind="stable")
    mask = np.zeros(n_rows, dtype=bool)
    mask[order[:n_top]] = True
    return mask


def evaluate_scores(y_true: ArrayLike, y_score: ArrayLike) -> dict[str, float]:
    """Compute validation metrics of predicted purchase probabilities.

    Args:
        y_true: Binary labels (0/1 or bool), one per row.
        y_score: Predicted probabilities of label 1, one per row.

    Returns:
        A dict with keys :data:`METRIC_NAMES`: ``roc_auc``, ``pr_auc``
        (average precision), ``log_loss``, ``brier``, ``top_decile_lift``,
        ``top_decile_precision``, ``n_rows`` and ``positive_rate``. All values
        are plain Python floats (``n_rows`` is a whole number).

    Raises:
        ValueError: On empty input, length mismatch, labels other than 0/1,
            non-finite or out-of-range scores, or labels of a single class.
    """
    labels = _as_binary_labels(y_true)
    scores = _as_probabilities(y_score)
    if labels.size == 0:
        raise ValueError("cannot evaluate scores on empty input")
    if labels.shape != scores.shape:
        raise ValueError(f"y_true and y_score differ in length: {labels.size} != {scores.size}")
    positive_rate = float(labels.mean())
    if positive_rate in (0.0, 1.0):
        raise ValueError(
            "y_true contains a single class "
            f"(all {int(labels[0])}); ROC AUC and lift need both 0 and 1 labels"
        )

    top = top_decile_mask(scores)
    top_precision = float(labels[top].mean())
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "log_loss": float(log_loss(labels, scores, labels=[0, 1])),
        "brier": float(brier_score_loss(labels, scores)),
        "top_decile_lift": top_precision / positive_rate,
        "top_decile_precision": top_precision,
        "n_rows": float(labels.size),
        "positive_rate": positive_rate,
    }
