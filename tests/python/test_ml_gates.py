"""Tests for retail_ml.ml.gates (the gates decided when a version is registered)."""

from __future__ import annotations

from retail_ml.ml.gates import PASSED, REJECTED, GateThresholds, evaluate_gates


def _records(model_auc: float, baseline_auc: float, model_brier: float, baseline_brier: float):
    values = {
        ("model", "roc_auc"): model_auc,
        ("baseline", "roc_auc"): baseline_auc,
        ("model", "brier"): model_brier,
        ("baseline", "brier"): baseline_brier,
    }
    return [
        {"scorer": scorer, "split": split, "metric": metric, "metric_value": value}
        for (scorer, metric), value in values.items()
        for split in ("train", "validation")
    ]


def _outcome(result) -> dict[str, bool]:
    return {gate["gate"]: gate["passed"] for gate in result["gates"]}


def test_a_good_model_passes_every_gate() -> None:
    result = evaluate_gates(_records(0.85, 0.80, 0.18, 0.20), GateThresholds())
    assert result["status"] == PASSED
    assert set(_outcome(result).values()) == {True}
    assert result["thresholds"] == {
        "min_validation_auc": 0.70,
        "min_auc_lift_over_baseline": 0.01,
        "max_brier_excess_over_baseline": 0.0,
    }


def test_each_gate_rejects_on_its_own() -> None:
    assert _outcome(evaluate_gates(_records(0.65, 0.60, 0.18, 0.20), GateThresholds())) == {
        "min_validation_auc": False,
        "auc_lift_over_baseline": True,
        "brier_not_worse_than_baseline": True,
    }
    assert not _outcome(evaluate_gates(_records(0.805, 0.80, 0.18, 0.20), GateThresholds()))[
        "auc_lift_over_baseline"
    ]
    # Ranks better but is worse calibrated than the baseline: the calibration gate rejects it.
    miscalibrated = evaluate_gates(_records(0.85, 0.80, 0.21, 0.20), GateThresholds())
    assert miscalibrated["status"] == REJECTED
    assert not _outcome(miscalibrated)["brier_not_worse_than_baseline"]
    lenient = GateThresholds(max_brier_excess_over_baseline=0.02)
    assert evaluate_gates(_records(0.85, 0.80, 0.21, 0.20), lenient)["status"] == PASSED


def test_a_missing_metric_fails_its_gate() -> None:
    model_only = [r for r in _records(0.9, 0.8, 0.1, 0.2) if r["scorer"] == "model"]
    result = evaluate_gates(model_only, GateThresholds())
    assert result["status"] == REJECTED
    assert _outcome(result) == {
        "min_validation_auc": True,
        "auc_lift_over_baseline": False,
        "brier_not_worse_than_baseline": False,
    }
    assert result["gates"][1]["value"] is None
