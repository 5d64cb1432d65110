"""Assessment of a freshly trained model version against the non-ML baseline.

Both scorers are evaluated the same way, by
:func:`~retail_ml.ml.evaluation.evaluate_scores` on their probabilities, on both
splits of the time-based split (train = the earlier cutoffs, validation = the
latest fully labelled cutoff):

* ``model``: the fitted pipeline (on the train split these are in-sample scores);
* ``baseline``: ``ml_baseline_scores__purchase_30d``, a recency/frequency score
  calibrated to a probability on the train split in SQL.

The result is frozen with the model version in the registry: the long metric
records (``evaluation_json``, unnested by ``ml_model_metrics``) and the plot data
of the model card (``diagnostics_json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from retail_ml.ml._checks import require_columns
from retail_ml.ml.diagnostics import (
    IMPORTANCE_MAX_ROWS,
    IMPORTANCE_REPEATS,
    permutation_importances,
    score_diagnostics,
)
from retail_ml.ml.evaluation import evaluate_scores
from retail_ml.ml.scoring import predict_positive_proba
from retail_ml.ml.training import TrainingPlan

#: Who produced a score: the registered model or the SQL baseline.
SCORERS: tuple[str, ...] = ("model", "baseline")

#: The splits of the time-based split, as named in the metrics.
SPLITS: tuple[str, ...] = ("train", "validation")

#: Metrics reported per scorer and split (``n_rows`` and ``positive_rate`` describe
#: the split and are carried on every record instead).
REPORTED_METRICS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "top_decile_lift",
    "top_decile_precision",
)


@dataclass(frozen=True)
class Assessment:
    """What is stored with a model version besides the model.

    Attributes:
        records: One dict per scorer x split x metric with ``scorer``, ``split``,
            ``metric``, ``metric_value``, ``n_rows``, ``positive_rate``,
            ``cutoff_min`` and ``cutoff_max`` (ISO dates).
        diagnostics: Plot data: per scorer the validation ROC points, calibration
            bins and score histogram, and the model's permutation importance.
        calibration: One dict per scorer x cutoff (see :func:`calibration_by_cutoff`), so
            seasonal miscalibration is visible cutoff month by cutoff month.
    """

    records: list[dict[str, Any]]
    diagnostics: dict[str, Any]
    calibration: list[dict[str, Any]] = field(default_factory=list)


def calibration_by_cutoff(
    scorer: str,
    labels: np.ndarray,
    probability: np.ndarray,
    cutoffs: pd.Series,
    is_validation: np.ndarray,
) -> list[dict[str, Any]]:
    """Mean predicted probability against the observed purchase rate, per cutoff.

    Args:
        scorer: ``"model"`` or ``"baseline"``.
        labels: 0/1 labels of all rows.
        probability: The scorer's probabilities, aligned with ``labels``.
        cutoffs: Cutoff date of every row, aligned.
        is_validation: Mask of the validation rows (the latest cutoff).

    Returns:
        One record per cutoff (ascending) with ``scorer``, ``cutoff_date`` (ISO), ``split``,
        ``n_rows``, ``mean_probability``, ``observed_rate``, ``calibration_gap``
        (mean_probability - observed_rate; negative = under-predicts) and ``brier``.
    """
    frame = pd.DataFrame(
        {
            "cutoff": cutoffs.to_numpy(),
            "label": np.asarray(labels, dtype=np.float64),
            "probability": np.asarray(probability, dtype=np.float64),
            "validation": np.asarray(is_validation, dtype=bool),
        }
    )
    frame["squared_error"] = (frame["probability"] - frame["label"]) ** 2
    grouped = frame.groupby("cutoff", sort=True).agg(
        n_rows=("label", "size"),
        mean_probability=("probability", "mean"),
        observed_rate=("label", "mean"),
        brier=("squared_error", "mean"),
        validation=("validation", "max"),
    )
    return [
        {
            "scorer": scorer,
            "cutoff_date": str(cutoff),
            "split": "validation" if row.validation else "train",
            "n_rows": int(row.n_rows),
            "mean_probability": float(row.mean_probability),
            "observed_rate": float(row.observed_rate),
            "calibration_gap": float(row.mean_probability - row.observed_rate),
            "brier": float(row.brier),
        }
        for cutoff, row in grouped.iterrows()
    ]


def evaluation_records(
    scorer: str, split: str, labels: np.ndarray, probability: np.ndarray, cutoffs: pd.Series
) -> list[dict[str, Any]]:
    """Evaluate one scorer on one split and return one record per reported metric.

    Args:
        scorer: ``"model"`` or ``"baseline"``.
        split: ``"train"`` or ``"validation"``.
        labels: 0/1 labels of the split's rows.
        probability: The scorer's probabilities for the same rows, same order.
        cutoffs: Cutoff dates of the rows (their range is recorded).

    Returns:
        Records as described in :class:`Assessment`.
    """
    if scorer not in SCORERS or split not in SPLITS:
        raise ValueError(f"unknown scorer/split {scorer!r}/{split!r}")
    metrics = evaluate_scores(labels, probability)
    common = {
        "scorer": scorer,
        "split": split,
        "n_rows": int(metrics["n_rows"]),
        "positive_rate": metrics["positive_rate"],
        "cutoff_min": str(cutoffs.min()),
        "cutoff_max": str(cutoffs.max()),
    }
    return [
        {**common, "metric": metric, "metric_value": metrics[metric]} for metric in REPORTED_METRICS
    ]


def align_baseline(
    plan: TrainingPlan,
    baseline: pd.DataFrame,
    *,
    probability_column: str = "probability",
    split_column: str = "split",
) -> np.ndarray:
    """Baseline probabilities in the order of ``plan.rows``, after checking they match.

    The baseline must have exactly the plan's (cutoff, id) rows, and its split column
    must call the plan's validation rows ``"validation"`` and all others ``"train"``,
    so that both scorers are evaluated on the same rows and labels.

    Raises:
        ValueError: On missing columns, different rows, a disagreeing split or
            probabilities outside [0, 1] (or missing).
    """
    keys = [plan.cutoff_column, plan.id_column]
    require_columns(baseline, [*keys, probability_column, split_column], "baseline")
    ordered = baseline.sort_values(keys, kind="mergesort", ignore_index=True)
    expected_keys = plan.rows[keys].reset_index(drop=True)
    if len(ordered) != len(expected_keys) or not ordered[keys].equals(expected_keys):
        raise ValueError(
            f"the baseline rows ({len(ordered)}) are not the training rows "
            f"({len(expected_keys)}) by {keys}: rebuild the baseline from the same training set"
        )
    expected_split = np.where(plan.is_validation, "validation", "train")
    if not np.array_equal(ordered[split_column].to_numpy(dtype=object), expected_split):
        raise ValueError(
            f"the baseline's {split_column!r} disagrees with the time-based split "
            "(validation = latest cutoff, train = all earlier cutoffs)"
        )
    probability = ordered[probability_column].to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.all((probability >= 0.0) & (probability <= 1.0)):
        raise ValueError(f"baseline {probability_column!r} must be probabilities in [0, 1]")
    return probability


def assess_trained_model(
    plan: TrainingPlan,
    pipeline: Pipeline,
    baseline: pd.DataFrame | None,
    *,
    seed: int,
    importance_repeats: int = IMPORTANCE_REPEATS,
    importance_max_rows: int = IMPORTANCE_MAX_ROWS,
) -> Assessment:
    """Evaluate the fitted pipeline and the baseline on both splits; collect plot data.

    Args:
        plan: The plan the pipeline was fitted from (:func:`~retail_ml.ml.training.fit_plan`).
        pipeline: The fitted pipeline.
        baseline: Baseline scores of the same rows (see :func:`align_baseline`), or
            ``None`` to assess the model alone.
        seed: Seed of the permutation importance.
        importance_repeats: Shuffles per feature.
        importance_max_rows: Validation rows used for the importance at most.

    Returns:
        The :class:`Assessment`.

    Runs with one OpenMP thread: the permutation importance makes many small
    predictions, for which the booster's thread start-up costs more than it saves (and
    on busy shared cores, much more); results do not depend on the thread count.
    """
    with threadpool_limits(limits=1, user_api="openmp"):
        return _assess(plan, pipeline, baseline, seed, importance_repeats, importance_max_rows)


def _assess(
    plan: TrainingPlan,
    pipeline: Pipeline,
    baseline: pd.DataFrame | None,
    seed: int,
    importance_repeats: int,
    importance_max_rows: int,
) -> Assessment:
    features = plan.feature_names
    labels = plan.labels(plan.rows)
    scores = {"model": predict_positive_proba(pipeline, plan.rows[features])}
    if baseline is not None:
        scores["baseline"] = align_baseline(plan, baseline)
    masks = {"train": ~plan.is_validation, "validation": plan.is_validation}
    cutoffs = plan.rows[plan.cutoff_column]

    records = [
        record
        for scorer, probability in scores.items()
        for split, mask in masks.items()
        for record in evaluation_records(
            scorer, split, labels[mask], probability[mask], cutoffs[mask]
        )
    ]
    validation = masks["validation"]
    diagnostics: dict[str, Any] = {
        "split": "validation",
        "scorers": {
            scorer: score_diagnostics(labels[validation], probability[validation])
            for scorer, probability in scores.items()
        },
        "permutation_importance": permutation_importances(
            pipeline,
            plan.validation_rows[features],
            labels[validation],
            seed=seed,
            n_repeats=importance_repeats,
            max_rows=importance_max_rows,
        ),
    }
    calibration = [
        record
        for scorer, probability in scores.items()
        for record in calibration_by_cutoff(
            scorer, labels, probability, cutoffs, plan.is_validation
        )
    ]
    return Assessment(records=records, diagnostics=diagnostics, calibration=calibration)
