"""Tests for retail_ml.ml.jobs (the one-call dbt entry points), incl. DuckDB."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from retail_ml.ml import jobs
from retail_ml.ml.errors import ModelIntegrityError
from retail_ml.ml.jobs import (
    register_model_version,
    score_with_registered_model,
    select_registry_row,
    train_model_registry_row,
)
from retail_ml.ml.registry import REGISTRY_SCHEMA

NUMERIC = ["recency_days", "order_count"]
CATEGORICAL = ["country"]
CUTOFFS = [dt.date(2011, 7, 1), dt.date(2011, 8, 1), dt.date(2011, 9, 1)]
TRAINED_AT = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def _frame(n_customers: int = 100, seed: int = 0) -> pd.DataFrame:
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
                    "country": pd.array(rng.choice(["UK", "DE", None], n_customers), dtype="str"),
                    "label": (recency < 40.0).astype("int64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def registry() -> pd.DataFrame:
    return train_model_registry_row(
        _frame(), NUMERIC, CATEGORICAL, model_name="purchase_30d", trained_at=TRAINED_AT
    )


@pytest.fixture(scope="module")
def serving() -> pd.DataFrame:
    latest = _frame(seed=1)
    return latest[latest["cutoff_date"] == CUTOFFS[-1]].drop(columns=["label", "cutoff_date"])


def test_training_entry_point_returns_one_row(registry: pd.DataFrame) -> None:
    assert len(registry) == 1
    assert registry.loc[0, "model_name"] == "purchase_30d"
    assert isinstance(registry.loc[0, "model_bytes"], bytes)


# DuckDB's DataFrame export itself triggers a pandas 3.1 deprecation warning.
@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
def test_registry_round_trips_through_duckdb(registry: pd.DataFrame, serving: pd.DataFrame) -> None:
    with duckdb.connect() as con:
        con.register("registry_frame", registry)
        con.execute("create table model_registry as select * from registry_frame")
        types = dict(
            con.execute("select column_name, column_type from (describe model_registry)").fetchall()
        )
        stored = con.execute("select * from model_registry").df()
    assert types["model_bytes"] == "BLOB"
    assert types["validation_cutoff"] == "DATE"
    direct = score_with_registered_model(registry, serving)
    via_duckdb = score_with_registered_model(stored, serving)
    pd.testing.assert_frame_equal(direct, via_duckdb)
    assert list(direct.columns) == [
        "customer_id",
        "probability",
        "decile",
        "model_name",
        "model_version",
    ]
    assert direct["probability"].between(0.0, 1.0).all()
    assert (direct["model_version"] == registry.loc[0, "model_version"]).all()


def test_latest_model_is_selected(registry: pd.DataFrame) -> None:
    older = registry.assign(trained_at=TRAINED_AT - dt.timedelta(days=30), model_version="old")
    other = registry.assign(model_name="other", trained_at=TRAINED_AT + dt.timedelta(days=1))
    both = pd.concat([registry, older, other], ignore_index=True)
    assert select_registry_row(both, "purchase_30d")["model_version"] != "old"
    assert select_registry_row(both)["model_name"] == "other"
    with pytest.raises(ValueError, match="no row for model 'missing'"):
        select_registry_row(both, "missing")


def test_tampered_registry_bytes_are_refused(registry: pd.DataFrame, serving: pd.DataFrame) -> None:
    tampered = registry.copy()
    flipped = bytearray(registry.loc[0, "model_bytes"])
    flipped[len(flipped) // 2] ^= 0xFF
    tampered.at[0, "model_bytes"] = bytes(flipped)
    with pytest.raises(ModelIntegrityError):
        score_with_registered_model(tampered, serving)


def test_invalid_inputs(registry: pd.DataFrame, serving: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="serving is empty"):
        score_with_registered_model(registry, serving.iloc[0:0])
    with pytest.raises(ValueError, match="model_sha256"):
        score_with_registered_model(registry.drop(columns="model_sha256"), serving)


def test_passthrough_columns_are_carried_by_id(registry: pd.DataFrame) -> None:
    serving = _frame(n_customers=30, seed=5).query("cutoff_date == @CUTOFFS[-1]")
    serving = serving.assign(as_of_date=dt.date(2011, 9, 1)).sample(frac=1.0, random_state=1)
    scores = score_with_registered_model(registry, serving, passthrough_columns=["as_of_date"])
    assert (scores["as_of_date"] == dt.date(2011, 9, 1)).all()
    assert len(scores) == 30


def test_missing_passthrough_column_is_a_clear_error(registry: pd.DataFrame) -> None:
    serving = _frame(n_customers=10, seed=5).query("cutoff_date == @CUTOFFS[-1]")
    with pytest.raises(ValueError, match="as_of_date"):
        score_with_registered_model(registry, serving, passthrough_columns=["as_of_date"])


def _register(frame: pd.DataFrame, registered=()):
    return register_model_version(
        frame,
        NUMERIC,
        CATEGORICAL,
        model_name="purchase_30d",
        trained_at=TRAINED_AT,
        registered_versions=registered,
    )


def test_unchanged_data_registers_nothing_and_trains_nothing(
    registry: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fitting(plan):
        raise AssertionError("a registered version must not be trained again")

    monkeypatch.setattr(jobs, "fit_plan", no_fitting)
    again = _register(_frame(), registered=[registry.loc[0, "model_version"], "older"])
    assert again.num_rows == 0
    assert again.schema == REGISTRY_SCHEMA


def test_changed_data_registers_a_new_version(registry: pd.DataFrame) -> None:
    changed = _register(_frame().iloc[5:], registered=[registry.loc[0, "model_version"]])
    assert changed.num_rows == 1
    assert changed.schema == REGISTRY_SCHEMA
    assert changed["model_version"][0].as_py() != registry.loc[0, "model_version"]


def test_registry_row_version_is_the_planned_version(registry: pd.DataFrame) -> None:
    first = _register(_frame())
    assert first["model_version"][0].as_py() == registry.loc[0, "model_version"]
    evaluation = json.loads(first["evaluation_json"][0].as_py())
    assert {(r["scorer"], r["split"]) for r in evaluation} == {
        ("model", "train"),
        ("model", "validation"),
    }


def test_scoring_refuses_a_version_without_evaluation(
    registry: pd.DataFrame, serving: pd.DataFrame
) -> None:
    version = registry.loc[0, "model_version"]
    scores = score_with_registered_model(registry, serving, evaluated_versions=[version])
    assert (scores["model_version"] == version).all()
    with pytest.raises(ValueError, match="has no evaluation"):
        score_with_registered_model(registry, serving, evaluated_versions=["other"])
