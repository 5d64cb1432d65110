"""Tests for retail_ml.ml.training (time-split training and fingerprints)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retail_ml.ml.registry import serialize_model
from retail_ml.ml.training import (
    FeatureColumn,
    fingerprint_frame,
    shuffle_train_labels,
    train_purchase_model,
)

NUMERIC = ["recency_days", "order_count"]
CATEGORICAL = ["country"]
CUTOFFS = [dt.date(2011, month, 1) for month in (6, 7, 8, 9)]


def _training_frame(
    n_customers: int = 120, seed: int = 0, random_labels: bool = False
) -> pd.DataFrame:
    """One row per customer per cutoff; the label is driven by recency."""
    rng = np.random.default_rng(seed)
    parts = []
    for cutoff in CUTOFFS:
        recency = rng.exponential(60.0, n_customers)
        part = pd.DataFrame(
            {
                "customer_id": np.arange(1000, 1000 + n_customers),
                "cutoff_date": cutoff,
                "recency_days": recency,
                "order_count": rng.poisson(3, n_customers).astype("float64"),
                "country": pd.array(rng.choice(["UK", "DE", "FR", None], n_customers), dtype="str"),
                "label": (recency < 40.0).astype("int64"),
            }
        )
        if random_labels:
            part["label"] = rng.integers(0, 2, n_customers)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _training_frame()


@pytest.fixture(scope="module")
def trained(frame: pd.DataFrame):
    return train_purchase_model(frame, NUMERIC, CATEGORICAL)


# --- fingerprint_frame -------------------------------------------------------

FP_COLUMNS = ["customer_id", "cutoff_date", "recency_days", "country", "label"]


def test_fingerprint_ignores_row_order_index_and_extra_columns(frame: pd.DataFrame) -> None:
    reference = fingerprint_frame(frame, FP_COLUMNS)
    shuffled = frame.sample(frac=1.0, random_state=1)  # keeps the shuffled index
    shuffled["unrelated"] = 1
    shuffled = shuffled[list(reversed(shuffled.columns))]
    assert len(reference) == 64
    assert fingerprint_frame(shuffled, FP_COLUMNS) == reference
    assert fingerprint_frame(shuffled.reset_index(drop=True), FP_COLUMNS) == reference


def test_fingerprint_changes_with_values_and_columns_not_number_storage(
    frame: pd.DataFrame,
) -> None:
    reference = fingerprint_frame(frame, FP_COLUMNS)
    changed = frame.copy()
    changed.loc[5, "recency_days"] += 1e-9
    assert fingerprint_frame(changed, FP_COLUMNS) != reference
    # Numbers are compared as numbers (the warehouse's DECIMAL and BOOLEAN arrive as float64);
    # a changed dtype is a new model version through the features' dtypes, not the fingerprint.
    as_float = frame.astype({"label": "float64"})
    assert fingerprint_frame(as_float, FP_COLUMNS) == reference
    as_text = frame.astype({"label": "str"})
    assert fingerprint_frame(as_text, FP_COLUMNS) != reference
    assert fingerprint_frame(frame, FP_COLUMNS[:-1]) != reference
    assert fingerprint_frame(frame, [*FP_COLUMNS[1:], FP_COLUMNS[0]]) != reference
    assert fingerprint_frame(frame.iloc[1:], FP_COLUMNS) != reference


def test_fingerprint_distinguishes_missing_from_empty_string() -> None:
    with_missing = pd.DataFrame({"c": pd.array(["a", None], dtype="str")})
    with_empty = pd.DataFrame({"c": pd.array(["a", ""], dtype="str")})
    assert fingerprint_frame(with_missing, ["c"]) != fingerprint_frame(with_empty, ["c"])


def test_fingerprint_is_stable_across_interpreters(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "frame.csv"
    small = frame.head(50)
    small.to_csv(path, index=False)
    code = (
        "import sys, pandas as pd\n"
        "from retail_ml.ml.fingerprint import fingerprint_frame\n"
        "df = pd.read_csv(sys.argv[1])\n"
        "print(fingerprint_frame(df, ['customer_id', 'recency_days', 'country']))\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = fingerprint_frame(pd.read_csv(path), ["customer_id", "recency_days", "country"])
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("columns", "message"),
    [([], "at least one"), (["customer_id", "nope", "gone"], r"\['nope', 'gone'\]")],
)
def test_fingerprint_invalid_columns(frame: pd.DataFrame, columns: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fingerprint_frame(frame, columns)


# --- train_purchase_model ----------------------------------------------------


def test_time_split_and_metadata(trained) -> None:
    assert trained.validation_cutoff == CUTOFFS[-1]
    assert trained.train_cutoffs == (CUTOFFS[0], CUTOFFS[-2])
    assert trained.n_train_rows == 3 * 120
    assert trained.n_validation_rows == 120
    assert trained.validation_metrics["n_rows"] == 120
    assert trained.feature_columns == (
        FeatureColumn("recency_days", "numeric", "float64"),
        FeatureColumn("order_count", "numeric", "float64"),
        FeatureColumn("country", "categorical", "str"),
    )
    assert trained.feature_names == NUMERIC + CATEGORICAL
    assert trained.params["seed"] == 42
    assert trained.params["refit_on_all_cutoffs"] is False
    assert trained.params["classifier_params"]["random_state"] == 42
    assert len(trained.training_fingerprint) == 64


def test_learns_a_clear_signal(trained) -> None:
    assert trained.validation_metrics["roc_auc"] > 0.9


def test_random_labels_score_near_chance() -> None:
    noisy = train_purchase_model(_training_frame(n_customers=300, random_labels=True), NUMERIC, [])
    assert 0.35 < noisy.validation_metrics["roc_auc"] < 0.65


def test_deterministic_and_independent_of_row_order(frame: pd.DataFrame, trained) -> None:
    again = train_purchase_model(frame, NUMERIC, CATEGORICAL)
    shuffled = frame.sample(frac=1.0, random_state=7)
    from_shuffled = train_purchase_model(shuffled, NUMERIC, CATEGORICAL)
    reference = serialize_model(trained.pipeline)
    for other in (again, from_shuffled):
        assert other.validation_metrics == trained.validation_metrics
        assert other.training_fingerprint == trained.training_fingerprint
        artifact = serialize_model(other.pipeline)
        assert artifact.sha256 == reference.sha256
        assert artifact.model_bytes == reference.model_bytes


def test_seed_is_recorded_and_used(frame: pd.DataFrame) -> None:
    other = train_purchase_model(frame, NUMERIC, CATEGORICAL, seed=5)
    assert other.params["seed"] == 5
    assert other.pipeline.named_steps["classifier"].random_state == 5


def test_input_frame_is_not_modified(frame: pd.DataFrame) -> None:
    before = frame.copy()
    train_purchase_model(frame, NUMERIC, CATEGORICAL)
    pd.testing.assert_frame_equal(frame, before)


def test_custom_column_names_and_bool_labels(frame: pd.DataFrame) -> None:
    renamed = frame.rename(
        columns={"label": "bought", "cutoff_date": "as_of", "customer_id": "cid"}
    ).astype({"bought": "bool"})
    result = train_purchase_model(
        renamed,
        NUMERIC,
        CATEGORICAL,
        label_column="bought",
        cutoff_column="as_of",
        id_column="cid",
    )
    assert result.validation_cutoff == CUTOFFS[-1]
    assert result.validation_metrics["roc_auc"] > 0.9


def test_empty_frame_raises(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="empty"):
        train_purchase_model(frame.iloc[0:0], NUMERIC, CATEGORICAL)


def test_missing_columns_are_named(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"\['label', 'order_count'\]"):
        train_purchase_model(frame.drop(columns=["label", "order_count"]), NUMERIC, CATEGORICAL)


def test_single_cutoff_raises(frame: pd.DataFrame) -> None:
    single = frame[frame["cutoff_date"] == CUTOFFS[0]]
    with pytest.raises(ValueError, match="at least 2 distinct"):
        train_purchase_model(single, NUMERIC, CATEGORICAL)


def test_single_class_in_validation_raises(frame: pd.DataFrame) -> None:
    flat = frame.copy()
    flat.loc[flat["cutoff_date"] == CUTOFFS[-1], "label"] = 0
    with pytest.raises(ValueError, match="validation cutoff .* single label class"):
        train_purchase_model(flat, NUMERIC, CATEGORICAL)


def test_single_class_in_training_raises(frame: pd.DataFrame) -> None:
    flat = frame.copy()
    flat.loc[flat["cutoff_date"] < CUTOFFS[-1], "label"] = 1
    with pytest.raises(ValueError, match="training cutoffs .* single label class"):
        train_purchase_model(flat, NUMERIC, CATEGORICAL)


@pytest.mark.parametrize(
    ("mutate", "numeric", "message"),
    [
        (lambda df: df.assign(label=df["label"] * 2), NUMERIC, "only 0/1"),
        (lambda df: df.assign(label=df["label"].where(df.index > 0)), NUMERIC, "only 0/1"),
        (
            lambda df: df.assign(cutoff_date=df["cutoff_date"].where(df.index > 0)),
            NUMERIC,
            "cutoff",
        ),
        (lambda df: df, [*NUMERIC, "country"], "more than once"),
        (lambda df: df, [*NUMERIC, "label"], "must not be used as features"),
        (lambda df: df.assign(order_count="many"), NUMERIC, "non-numeric"),
    ],
)
def test_invalid_training_frames(frame: pd.DataFrame, mutate, numeric, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train_purchase_model(mutate(frame), numeric, CATEGORICAL)


def test_no_features_raises(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="at least one"):
        train_purchase_model(frame, [], [])


def test_shuffle_train_labels_keeps_validation_and_the_label_counts(frame: pd.DataFrame) -> None:
    shuffled = shuffle_train_labels(
        frame, label_column="label", cutoff_column="cutoff_date", seed=7
    )
    latest = frame["cutoff_date"] == frame["cutoff_date"].max()
    pd.testing.assert_series_equal(shuffled.loc[latest, "label"], frame.loc[latest, "label"])
    assert sorted(shuffled.loc[~latest, "label"]) == sorted(frame.loc[~latest, "label"])
    assert (shuffled.loc[~latest, "label"] != frame.loc[~latest, "label"]).any()
    again = shuffle_train_labels(
        frame.sample(frac=1.0, random_state=3),
        label_column="label",
        cutoff_column="cutoff_date",
        seed=7,
    )
    pd.testing.assert_frame_equal(again.sort_index(), shuffled.sort_index())


def test_params_record_the_preprocessing(trained) -> None:
    assert trained.params["preprocessing"]["numeric"].startswith("passthrough")
