"""Tests for retail_ml.ml.diagnostics (plot data stored with each model version)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from retail_ml.ml.diagnostics import (
    calibration_bins,
    permutation_importances,
    roc_points,
    score_diagnostics,
    score_histogram,
)
from retail_ml.ml.pipeline import fit_deterministically, make_pipeline


def _scored(n_rows: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scores = rng.random(n_rows)
    labels = (rng.random(n_rows) < scores).astype(np.int64)  # perfectly calibrated
    return labels, scores


def test_roc_points_are_thinned_and_span_the_unit_square() -> None:
    labels, scores = _scored()
    curve = roc_points(labels, scores, max_points=50)
    assert 2 <= len(curve["fpr"]) == len(curve["tpr"]) <= 50
    assert (curve["fpr"][0], curve["tpr"][0]) == (0.0, 0.0)
    assert (curve["fpr"][-1], curve["tpr"][-1]) == (1.0, 1.0)
    assert np.all(np.diff(curve["fpr"]) >= 0) and np.all(np.diff(curve["tpr"]) >= 0)


def test_calibration_bins_of_calibrated_scores_follow_the_diagonal() -> None:
    labels, scores = _scored(20_000)
    bins = calibration_bins(labels, scores, n_bins=10)
    assert [b["bin_lower"] for b in bins] == pytest.approx([i / 10 for i in range(10)])
    assert sum(b["n_rows"] for b in bins) == 20_000
    for b in bins:
        assert b["bin_lower"] <= b["mean_predicted"] <= b["bin_upper"]
        assert b["observed_rate"] == pytest.approx(b["mean_predicted"], abs=0.05)


def test_calibration_leaves_out_empty_bins_and_includes_one() -> None:
    bins = calibration_bins([0, 1, 1], [0.05, 0.95, 1.0], n_bins=10)
    assert [(b["bin_lower"], b["n_rows"]) for b in bins] == [(0.0, 1), (0.9, 2)]


def test_histogram_counts_every_row_by_label() -> None:
    labels, scores = _scored(500)
    histogram = score_histogram(labels, scores, n_bins=20)
    assert len(histogram["bin_edges"]) == 21
    assert sum(histogram["positives"]) == labels.sum()
    assert sum(histogram["negatives"]) == (labels == 0).sum()


def test_diagnostics_are_json_ready_and_deterministic() -> None:
    labels, scores = _scored(300)
    first = json.dumps(score_diagnostics(labels, scores), sort_keys=True)
    assert first == json.dumps(score_diagnostics(labels, scores), sort_keys=True)


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([0, 1], [0.2], "equal length"),
        ([], [], "non-empty"),
        ([0, 1], [0.2, 1.5], r"\[0, 1\]"),
        ([0, 1], [0.2, np.nan], r"\[0, 1\]"),
    ],
)
def test_invalid_inputs_are_refused(labels, scores, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        score_histogram(labels, scores)


def test_roc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both labels"):
        roc_points([1, 1, 1], [0.1, 0.5, 0.9])


def test_permutation_importance_finds_the_signal_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    n_rows = 600
    recency = rng.exponential(60.0, n_rows)
    frame = pd.DataFrame(
        {
            "recency_days": recency,
            "noise": rng.normal(size=n_rows),
            "constant": np.zeros(n_rows),
            "country": pd.array(rng.choice(["UK", "DE"], n_rows), dtype="str"),
        }
    )
    labels = (recency + rng.normal(0.0, 10.0, n_rows) < 40.0).astype(np.int64)
    pipeline = fit_deterministically(
        make_pipeline(["recency_days", "noise", "constant"], ["country"], seed=0), frame, labels
    )
    result = permutation_importances(pipeline, frame, labels, seed=1, n_repeats=3, max_rows=400)
    assert result["n_rows"] == 400 and result["n_repeats"] == 3
    assert [entry["feature"] for entry in result["features"]][0] == "recency_days"
    assert {entry["feature"] for entry in result["features"]} == set(frame.columns)
    # A feature the model cannot use has no importance, also when rows are sampled.
    constant = next(e for e in result["features"] if e["feature"] == "constant")
    assert constant["importance_mean"] == constant["importance_std"] == 0.0
    assert result == permutation_importances(
        pipeline, frame, labels, seed=1, n_repeats=3, max_rows=400
    )
