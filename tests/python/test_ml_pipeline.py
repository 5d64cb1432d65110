"""Tests for retail_ml.ml.pipeline.make_pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from retail_ml.ml.pipeline import DEFAULT_CLASSIFIER_PARAMS, fit_deterministically, make_pipeline
from retail_ml.ml.registry import serialize_model

NUMERIC = ["recency_days", "order_count"]
CATEGORICAL = ["country"]


def _frame(n_rows: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "recency_days": rng.exponential(60.0, n_rows),
            "order_count": rng.poisson(3, n_rows).astype("float64"),
            "country": pd.array(rng.choice(["UK", "DE", "FR", None], n_rows), dtype="str"),
        }
    )
    frame.loc[::11, "recency_days"] = np.nan
    score = -frame["recency_days"].fillna(60.0) / 30.0 + frame["order_count"]
    labels = (score + rng.normal(0.0, 0.5, n_rows) > 1.0).astype("int64").to_numpy()
    return frame, labels


def test_structure_and_seed() -> None:
    pipeline = make_pipeline(NUMERIC, CATEGORICAL, seed=7)
    assert isinstance(pipeline, Pipeline)
    assert [name for name, _ in pipeline.steps] == ["preprocess", "classifier"]
    assert isinstance(pipeline.named_steps["preprocess"], ColumnTransformer)
    classifier = pipeline.named_steps["classifier"]
    assert isinstance(classifier, HistGradientBoostingClassifier)
    assert classifier.random_state == 7
    assert classifier.early_stopping is False


def test_same_data_and_seed_give_identical_predictions() -> None:
    frame, labels = _frame()
    first = fit_deterministically(make_pipeline(NUMERIC, CATEGORICAL, seed=3), frame, labels)
    second = fit_deterministically(make_pipeline(NUMERIC, CATEGORICAL, seed=3), frame, labels)
    np.testing.assert_array_equal(first.predict_proba(frame), second.predict_proba(frame))


def test_deterministic_fit_ignores_the_thread_count() -> None:
    frame, labels = _frame()
    digests = set()
    for threads in (1, 2, 4):
        with threadpool_limits(limits=threads, user_api="openmp"):
            pipeline = fit_deterministically(
                make_pipeline(NUMERIC, CATEGORICAL, seed=3), frame, labels
            )
        digests.add(serialize_model(pipeline).sha256)
    assert len(digests) == 1


def test_handles_missing_values_and_unseen_categories() -> None:
    frame, labels = _frame()
    pipeline = fit_deterministically(make_pipeline(NUMERIC, CATEGORICAL, seed=0), frame, labels)
    serving = pd.DataFrame(
        {
            "recency_days": [np.nan, 5.0, 400.0],
            "order_count": [1.0, np.nan, 0.0],
            "country": pd.array(["Atlantis", None, "UK"], dtype="str"),
        }
    )
    probability = pipeline.predict_proba(serving)[:, 1]
    assert np.all((probability >= 0.0) & (probability <= 1.0))


@pytest.mark.parametrize(("numeric", "categorical"), [(NUMERIC, []), ([], CATEGORICAL)])
def test_single_kind_of_features(numeric: list[str], categorical: list[str]) -> None:
    frame, labels = _frame()
    pipeline = fit_deterministically(make_pipeline(numeric, categorical, seed=0), frame, labels)
    assert pipeline.predict_proba(frame).shape == (len(frame), 2)


def test_classifier_params_override() -> None:
    pipeline = make_pipeline(NUMERIC, [], seed=1, classifier_params={"max_iter": 5})
    params = pipeline.named_steps["classifier"].get_params()
    assert params["max_iter"] == 5
    assert params["learning_rate"] == DEFAULT_CLASSIFIER_PARAMS["learning_rate"]


@pytest.mark.parametrize(
    ("numeric", "categorical", "kwargs", "message"),
    [
        ([], [], {}, "at least one"),
        (["a", "a"], [], {}, "more than once"),
        (["a"], ["a"], {}, "more than once"),
        (["a"], [], {"classifier_params": {"random_state": 1}}, "seed"),
    ],
)
def test_invalid_arguments(
    numeric: list[str], categorical: list[str], kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_pipeline(numeric, categorical, seed=0, **kwargs)


def test_missing_numeric_values_reach_the_trees_as_missing() -> None:
    """Missingness that predicts the label is learnt; median imputation would blur it."""
    rng = np.random.default_rng(0)
    values = rng.uniform(0.0, 100.0, 1000)
    missing = rng.random(1000) < 0.3
    frame = pd.DataFrame(
        {
            "recency_days": np.where(missing, np.nan, values),
            "order_count": np.zeros(1000),
            "country": pd.array(["UK"] * 1000, dtype="str"),
        }
    )
    pipeline = make_pipeline(NUMERIC, CATEGORICAL, seed=0)
    fit_deterministically(pipeline, frame, missing.astype("int64"))
    median = float(np.nanmedian(frame["recency_days"]))
    serving = frame.iloc[:2].assign(recency_days=[np.nan, median])
    p_missing, p_median = pipeline.predict_proba(serving)[:, 1]
    assert p_missing > 0.9 > 0.1 > p_median
    assert pipeline.named_steps["preprocess"].transformers[0][1] == "passthrough"
