"""Tests for retail_ml.ml.assessment (model vs baseline, both splits, frozen at registration)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from retail_ml.ml.assessment import (
    REPORTED_METRICS,
    align_baseline,
    assess_trained_model,
    evaluation_records,
)
from retail_ml.ml.evaluation import evaluate_scores
from retail_ml.ml.training import fit_plan, plan_training

NUMERIC = ["recency_days", "order_count"]
CATEGORICAL = ["country"]
CUTOFFS = [dt.date(2011, 7, 31), dt.date(2011, 8, 31), dt.date(2011, 9, 30)]


def _training(n_customers: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for cutoff in CUTOFFS:
        recency = rng.exponential(60.0, n_customers)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": np.arange(n_customers),
                    "cutoff_date": cutoff,
                    "recency_days": recency,
                    "order_count": rng.poisson(3, n_customers).astype("float64"),
                    "country": pd.array(rng.choice(["UK", "DE"], n_customers), dtype="str"),
                    "label": (recency + rng.normal(0.0, 15.0, n_customers) < 40.0).astype("int64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _baseline(training: pd.DataFrame) -> pd.DataFrame:
    """A crude recency baseline like the SQL one: probability from recency buckets."""
    return pd.DataFrame(
        {
            "customer_id": training["customer_id"],
            "cutoff_date": training["cutoff_date"],
            "split": np.where(training["cutoff_date"] == CUTOFFS[-1], "validation", "train"),
            "probability": np.where(training["recency_days"] < 40.0, 0.7, 0.2),
        }
    ).sample(frac=1.0, random_state=3)  # row order must not matter


@pytest.fixture(scope="module")
def plan():
    return plan_training(_training(), NUMERIC, CATEGORICAL)


@pytest.fixture(scope="module")
def trained(plan):
    return fit_plan(plan)


@pytest.fixture(scope="module")
def assessment(plan, trained):
    return assess_trained_model(
        plan, trained.pipeline, _baseline(_training()), seed=0, importance_repeats=2
    )


def test_one_record_per_scorer_split_and_metric(assessment) -> None:
    keys = [(r["scorer"], r["split"], r["metric"]) for r in assessment.records]
    assert len(keys) == len(set(keys)) == 2 * 2 * len(REPORTED_METRICS)
    validation = [r for r in assessment.records if r["split"] == "validation"]
    assert {r["n_rows"] for r in validation} == {150}
    assert {(r["cutoff_min"], r["cutoff_max"]) for r in validation} == {
        ("2011-09-30", "2011-09-30")
    }
    train = [r for r in assessment.records if r["split"] == "train"]
    assert {(r["cutoff_min"], r["cutoff_max"], r["n_rows"]) for r in train} == {
        ("2011-07-31", "2011-08-31", 300)
    }


def test_model_validation_metrics_equal_the_training_metrics(assessment, trained) -> None:
    model_validation = {
        r["metric"]: r["metric_value"]
        for r in assessment.records
        if (r["scorer"], r["split"]) == ("model", "validation")
    }
    assert model_validation == {m: trained.validation_metrics[m] for m in REPORTED_METRICS}


def test_baseline_is_evaluated_like_the_model_on_the_same_rows(assessment, plan) -> None:
    training = _training()
    validation = training[training["cutoff_date"] == CUTOFFS[-1]].sort_values("customer_id")
    expected = evaluate_scores(
        validation["label"], np.where(validation["recency_days"] < 40.0, 0.7, 0.2)
    )
    baseline_validation = {
        r["metric"]: r["metric_value"]
        for r in assessment.records
        if (r["scorer"], r["split"]) == ("baseline", "validation")
    }
    assert baseline_validation == {m: expected[m] for m in REPORTED_METRICS}


def test_diagnostics_cover_both_scorers_and_every_feature(assessment) -> None:
    assert set(assessment.diagnostics["scorers"]) == {"model", "baseline"}
    importance = assessment.diagnostics["permutation_importance"]
    assert {e["feature"] for e in importance["features"]} == set(NUMERIC + CATEGORICAL)
    assert importance["features"][0]["feature"] == "recency_days"


def test_model_alone_when_there_is_no_baseline(plan, trained) -> None:
    alone = assess_trained_model(plan, trained.pipeline, None, seed=0, importance_repeats=1)
    assert {r["scorer"] for r in alone.records} == {"model"}
    assert set(alone.diagnostics["scorers"]) == {"model"}


def test_baseline_with_other_rows_is_refused(plan) -> None:
    baseline = _baseline(_training())
    with pytest.raises(ValueError, match="not the training rows"):
        align_baseline(plan, baseline.iloc[1:])
    shifted = baseline.assign(customer_id=baseline["customer_id"] + 1)
    with pytest.raises(ValueError, match="not the training rows"):
        align_baseline(plan, shifted)


def test_baseline_with_another_split_is_refused(plan) -> None:
    baseline = _baseline(_training()).assign(split="train")
    with pytest.raises(ValueError, match="disagrees with the time-based split"):
        align_baseline(plan, baseline)


@pytest.mark.parametrize("bad", [1.5, -0.1, None])
def test_baseline_probabilities_must_be_probabilities(plan, bad) -> None:
    baseline = _baseline(_training())
    baseline["probability"] = baseline["probability"].astype("object")
    baseline.iloc[0, baseline.columns.get_loc("probability")] = bad
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        align_baseline(plan, baseline)


def test_baseline_missing_columns_are_named(plan) -> None:
    with pytest.raises(ValueError, match=r"\['split'\]"):
        align_baseline(plan, _baseline(_training()).drop(columns="split"))


def test_unknown_scorer_or_split_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scorer/split"):
        evaluation_records("oracle", "train", np.array([0, 1]), np.array([0.1, 0.9]), pd.Series())
