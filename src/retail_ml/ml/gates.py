"""Quality gates of a model version, decided once when it is registered.

Every trained version is registered, good or bad, with the result of each gate and an overall
``gate_status`` (``passed`` or ``rejected``). The status is part of the signed registry fields
(:mod:`retail_ml.ml.signing`), and only a ``passed`` version can become champion
(:mod:`retail_ml.ml.champion`) and score customers. The dbt tests tagged ``ml_quality_gate``
repeat the AUC gates on the latest version as the visible check in ``dbt build``.

Gates, all on the validation cutoff (the latest fully labelled one):

* ``min_validation_auc``: model ROC AUC >= ``min_validation_auc``;
* ``auc_lift_over_baseline``: model ROC AUC - baseline ROC AUC >= ``min_auc_lift_over_baseline``;
* ``brier_not_worse_than_baseline``: model Brier score <= baseline Brier score +
  ``max_brier_excess_over_baseline`` (calibration: a model that ranks well but whose
  probabilities are off is not better than the calibrated baseline).

A gate whose metric is missing (e.g. no baseline) fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

#: Overall status of a version whose gates all passed / at least one failed.
PASSED = "passed"
REJECTED = "rejected"


@dataclass(frozen=True)
class GateThresholds:
    """Thresholds of the gates (dbt vars ``ml_min_validation_auc`` and friends)."""

    min_validation_auc: float = 0.70
    min_auc_lift_over_baseline: float = 0.01
    max_brier_excess_over_baseline: float = 0.0


def _validation_metric(records: Iterable[Mapping[str, Any]], scorer: str, metric: str) -> float:
    for record in records:
        if (record["scorer"], record["split"], record["metric"]) == (scorer, "validation", metric):
            value = record["metric_value"]
            return math.nan if value is None else float(value)
    return math.nan


def _gate(name: str, value: float, threshold: float, *, at_least: bool) -> dict[str, Any]:
    passed = not math.isnan(value) and (value >= threshold if at_least else value <= threshold)
    return {
        "gate": name,
        "value": None if math.isnan(value) else value,
        "threshold": threshold,
        "comparison": ">=" if at_least else "<=",
        "passed": bool(passed),
    }


def evaluate_gates(
    records: Iterable[Mapping[str, Any]], thresholds: GateThresholds
) -> dict[str, Any]:
    """Decide the gates of a version from its evaluation records.

    Args:
        records: :attr:`retail_ml.ml.assessment.Assessment.records` (scorer x split x metric).
        thresholds: The gate thresholds.

    Returns:
        ``{"status": "passed" | "rejected", "thresholds": {...}, "gates": [...]}``, one gate
        dict per gate with ``gate``, ``value``, ``threshold``, ``comparison`` and ``passed``.
    """
    records = list(records)
    model_auc = _validation_metric(records, "model", "roc_auc")
    baseline_auc = _validation_metric(records, "baseline", "roc_auc")
    model_brier = _validation_metric(records, "model", "brier")
    baseline_brier = _validation_metric(records, "baseline", "brier")
    gates = [
        _gate("min_validation_auc", model_auc, thresholds.min_validation_auc, at_least=True),
        _gate(
            "auc_lift_over_baseline",
            model_auc - baseline_auc,
            thresholds.min_auc_lift_over_baseline,
            at_least=True,
        ),
        _gate(
            "brier_not_worse_than_baseline",
            model_brier - baseline_brier,
            thresholds.max_brier_excess_over_baseline,
            at_least=False,
        ),
    ]
    status = PASSED if all(gate["passed"] for gate in gates) else REJECTED
    return {"status": status, "thresholds": asdict(thresholds), "gates": gates}
