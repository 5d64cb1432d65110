"""Tests for retail_ml.ml.evaluation.evaluate_scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from retail_ml.ml.evaluation import METRIC_NAMES, evaluate_scores, top_decile_mask


def test_separable_scores() -> None:
    labels = np.array([0] * 80 + [1] * 20)
    scores = np.concatenate([np.linspace(0.0, 0.4, 80), np.linspace(0.6, 1.0, 20)])
    metrics = evaluate_scores(labels, scores)
    assert tuple(metrics) == METRIC_NAMES
    assert all(type(value) is float for value in metrics.values())
    assert metrics["roc_auc"] == 1.0
    assert metrics["pr_auc"] == pytest.approx(1.0)
    assert metrics["n_rows"] == 100
    assert metrics["positive_rate"] == pytest.approx(0.2)
    assert metrics["top_decile_precision"] == 1.0
    assert metrics["top_decile_lift"] == pytest.approx(5.0)


def test_random_labels_are_near_chance() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 5000)
    metrics = evaluate_scores(labels, rng.random(5000))
    assert 0.45 < metrics["roc_auc"] < 0.55
    assert 0.7 < metrics["top_decile_lift"] < 1.3


def test_values_match_hand_computation() -> None:
    labels = [0, 0, 1, 1]
    scores = [0.1, 0.4, 0.35, 0.8]
    metrics = evaluate_scores(labels, scores)
    # 3 of the 4 (positive, negative) pairs are ranked correctly.
    assert metrics["roc_auc"] == pytest.approx(0.75)
    expected_brier = np.mean((np.array(scores) - np.array(labels)) ** 2)
    assert metrics["brier"] == pytest.approx(expected_brier)
    expected_log_loss = -np.mean([math.log(0.9), math.log(0.6), math.log(0.35), math.log(0.8)])
    assert metrics["log_loss"] == pytest.approx(expected_log_loss)
    # ceil(4 / 10) = 1 row in the top decile: the 0.8 positive.
    assert metrics["top_decile_precision"] == 1.0
    assert metrics["top_decile_lift"] == pytest.approx(2.0)


def test_top_decile_ties_are_broken_by_input_position() -> None:
    scores = np.full(25, 0.5)
    mask = top_decile_mask(scores)
    assert mask.sum() == 3  # ceil(25 / 10)
    assert mask[:3].all() and not mask[3:].any()
    labels = np.array([1, 1, 1] + [0] * 20 + [1, 1])
    assert evaluate_scores(labels, scores)["top_decile_precision"] == 1.0
    assert evaluate_scores(labels[::-1], scores)["top_decile_precision"] == pytest.approx(2 / 3)


def test_bool_labels_are_accepted() -> None:
    metrics = evaluate_scores(np.array([False, True, False, True]), [0.2, 0.9, 0.1, 0.7])
    assert metrics["roc_auc"] == 1.0


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([], [], "empty"),
        ([1, 1, 1], [0.2, 0.5, 0.9], "single class"),
        ([0, 0], [0.2, 0.5], "single class"),
        ([0, 1], [0.2], "length"),
        ([0, 2], [0.2, 0.5], "0 and 1"),
        ([0, np.nan], [0.2, 0.5], "0 and 1"),
        ([0, 1], [0.2, np.nan], "NaN"),
        ([0, 1], [0.2, 1.5], r"\[0, 1\]"),
        ([[0, 1]], [[0.2, 0.5]], "one-dimensional"),
    ],
)
def test_invalid_input_raises_clear_error(labels: list, scores: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_scores(labels, scores)
