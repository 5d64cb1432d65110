"""Tests for retail_ml.ml.scoring.score_customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from retail_ml.ml.pipeline import fit_deterministically, make_pipeline
from retail_ml.ml.scoring import assign_deciles, score_customers

NUMERIC = ["recency_days", "order_count"]
CATEGORICAL = ["country"]
FEATURES = NUMERIC + CATEGORICAL


def _frame(n_rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    recency = rng.exponential(60.0, n_rows)
    return pd.DataFrame(
        {
            "customer_id": rng.permutation(n_rows) + 10_000,
            "recency_days": recency,
            "order_count": rng.poisson(3, n_rows).astype("float64"),
            "country": pd.array(rng.choice(["UK", "DE", None], n_rows), dtype="str"),
            "label": (recency + rng.normal(0.0, 10.0, n_rows) < 40.0).astype("int64"),
        }
    )


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    train = _frame(300, seed=0)
    unfitted = make_pipeline(NUMERIC, CATEGORICAL, seed=0)
    return fit_deterministically(unfitted, train[FEATURES], train["label"])


@pytest.fixture(scope="module")
def serving() -> pd.DataFrame:
    return _frame(500, seed=1).drop(columns="label")


def test_output_shape_types_and_order(pipeline: Pipeline, serving: pd.DataFrame) -> None:
    scores = score_customers(pipeline, serving, FEATURES)
    assert list(scores.columns) == ["customer_id", "probability", "decile"]
    assert scores["probability"].dtype == np.float64
    assert scores["decile"].dtype == np.int64
    assert len(scores) == len(serving)
    assert scores["customer_id"].is_monotonic_increasing
    assert list(scores.index) == list(range(len(scores)))
    assert scores["probability"].between(0.0, 1.0).all()


def test_probabilities_equal_predict_proba(pipeline: Pipeline, serving: pd.DataFrame) -> None:
    scores = score_customers(pipeline, serving, FEATURES)
    expected = pd.Series(
        pipeline.predict_proba(serving[FEATURES])[:, 1], index=serving["customer_id"]
    )
    np.testing.assert_array_equal(
        scores["probability"].to_numpy(), expected.loc[scores["customer_id"]].to_numpy()
    )


def test_deciles_are_balanced_and_ordered(pipeline: Pipeline, serving: pd.DataFrame) -> None:
    scores = score_customers(pipeline, serving, FEATURES)
    assert scores["decile"].value_counts().sort_index().tolist() == [50] * 10
    by_decile = scores.groupby("decile")["probability"]
    # Every probability in decile d is >= every probability in decile d + 1.
    assert (by_decile.min().to_numpy()[:-1] >= by_decile.max().to_numpy()[1:]).all()


def test_input_order_does_not_matter(pipeline: Pipeline, serving: pd.DataFrame) -> None:
    reference = score_customers(pipeline, serving, FEATURES)
    shuffled = serving.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(score_customers(pipeline, shuffled, FEATURES), reference)


def test_ties_are_broken_by_customer_id() -> None:
    ids = pd.Series([5, 3, 9, 1, 7, 2, 8, 4, 6, 10])
    deciles = assign_deciles(ids, np.full(10, 0.3))
    np.testing.assert_array_equal(deciles, ids.to_numpy())
    assert assign_deciles(pd.Series(["b", "a"]), np.array([0.5, 0.5])).tolist() == [6, 1]


def test_small_inputs_and_string_ids(pipeline: Pipeline, serving: pd.DataFrame) -> None:
    small = serving.head(3).assign(customer_id=["c", "a", "b"])
    scores = score_customers(pipeline, small, FEATURES)
    assert scores["customer_id"].tolist() == ["a", "b", "c"]
    assert scores["decile"].between(1, 10).all()
    assert sorted(scores["decile"]) == [1, 4, 7]


def test_custom_id_column(pipeline: Pipeline, serving: pd.DataFrame) -> None:
    renamed = serving.rename(columns={"customer_id": "cid"})
    scores = score_customers(pipeline, renamed, FEATURES, id_column="cid")
    assert list(scores.columns) == ["cid", "probability", "decile"]


@pytest.mark.parametrize(
    ("mutate", "features", "message"),
    [
        (lambda df: df.iloc[0:0], FEATURES, "empty"),
        (lambda df: df.drop(columns=["country", "order_count"]), FEATURES, "order_count"),
        (lambda df: df.drop(columns=["customer_id"]), FEATURES, "customer_id"),
        (lambda df: df, [], "at least one"),
        (lambda df: df, [*FEATURES, "country"], "more than once"),
        (lambda df: df.assign(customer_id=1), FEATURES, "duplicated"),
        (
            lambda df: df.assign(customer_id=df["customer_id"].where(df.index > 0)),
            FEATURES,
            "missing values",
        ),
    ],
)
def test_invalid_serving_input(
    pipeline: Pipeline, serving: pd.DataFrame, mutate, features: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        score_customers(pipeline, mutate(serving), features)
