"""Tests for retail_ml.ml.jobs (the one-call dbt entry points), incl. DuckDB."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from retail_ml.ml import jobs
from retail_ml.ml.champion import CHAMPIONS_SCHEMA, champion_changes
from retail_ml.ml.errors import ModelIntegrityError, ModelSignatureError
from retail_ml.ml.gates import GateThresholds
from retail_ml.ml.jobs import (
    baseline_fingerprint,
    register_model_version,
    score_with_registered_model,
    train_model_registry_row,
)
from retail_ml.ml.registry import REGISTRY_SCHEMA

NUMERIC = ["recency_days", "order_count"]
CATEGORICAL = ["country"]
CUTOFFS = [dt.date(2011, 7, 1), dt.date(2011, 8, 1), dt.date(2011, 9, 1)]
TRAINED_AT = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
KEY = b"unit-test-signing-key-0123456789abcdef"


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


def _baseline(frame: pd.DataFrame, probability: float = 0.3) -> pd.DataFrame:
    """An uninformative baseline (a constant probability) of the training rows."""
    latest = frame["cutoff_date"].max()
    return frame[["cutoff_date", "customer_id"]].assign(
        probability=probability,
        split=np.where(frame["cutoff_date"] == latest, "validation", "train"),
    )


@pytest.fixture(scope="module")
def registry() -> pd.DataFrame:
    return train_model_registry_row(
        _frame(),
        NUMERIC,
        CATEGORICAL,
        model_name="purchase_30d",
        trained_at=TRAINED_AT,
        baseline=_baseline(_frame()),
        key=KEY,
    )


def _champions(registry: pd.DataFrame) -> pd.DataFrame:
    empty = pd.DataFrame(columns=CHAMPIONS_SCHEMA.names)
    return champion_changes(
        registry, empty, model_name="purchase_30d", changed_at=TRAINED_AT
    ).to_pandas()


def _score(registry: pd.DataFrame, serving: pd.DataFrame, **kwargs) -> pd.DataFrame:
    champions = kwargs.pop("champions", None)
    champions = _champions(registry) if champions is None else champions
    return score_with_registered_model(
        registry, champions, serving, model_name="purchase_30d", key=KEY, **kwargs
    )


@pytest.fixture(scope="module")
def serving() -> pd.DataFrame:
    latest = _frame(seed=1)
    return latest[latest["cutoff_date"] == CUTOFFS[-1]].drop(columns=["label", "cutoff_date"])


def test_training_entry_point_returns_one_row(registry: pd.DataFrame) -> None:
    assert len(registry) == 1
    assert registry.loc[0, "model_name"] == "purchase_30d"
    assert isinstance(registry.loc[0, "model_bytes"], bytes)
    assert registry.loc[0, "gate_status"] == "passed"
    gates = json.loads(registry.loc[0, "gate_results_json"])
    assert [g["gate"] for g in gates["gates"]] == [
        "min_validation_auc",
        "auc_lift_over_baseline",
        "brier_not_worse_than_baseline",
    ]
    assert all(g["passed"] for g in gates["gates"])


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
    direct = _score(registry, serving)
    via_duckdb = _score(stored, serving, champions=_champions(registry))
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


def test_tampered_registry_bytes_are_refused(registry: pd.DataFrame, serving: pd.DataFrame) -> None:
    tampered = registry.copy()
    flipped = bytearray(registry.loc[0, "model_bytes"])
    flipped[len(flipped) // 2] ^= 0xFF
    tampered.at[0, "model_bytes"] = bytes(flipped)
    with pytest.raises(ModelIntegrityError):
        _score(tampered, serving, champions=_champions(registry))


def test_invalid_inputs(registry: pd.DataFrame, serving: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="serving is empty"):
        _score(registry, serving.iloc[0:0])
    with pytest.raises(ValueError, match="model_sha256"):
        _score(registry.drop(columns="model_sha256"), serving, champions=_champions(registry))


def test_passthrough_columns_are_carried_by_id(registry: pd.DataFrame) -> None:
    serving = _frame(n_customers=30, seed=5).query("cutoff_date == @CUTOFFS[-1]")
    serving = serving.assign(as_of_date=dt.date(2011, 9, 1)).sample(frac=1.0, random_state=1)
    scores = _score(registry, serving, passthrough_columns=["as_of_date"])
    assert (scores["as_of_date"] == dt.date(2011, 9, 1)).all()
    assert len(scores) == 30


def test_missing_passthrough_column_is_a_clear_error(registry: pd.DataFrame) -> None:
    serving = _frame(n_customers=10, seed=5).query("cutoff_date == @CUTOFFS[-1]")
    with pytest.raises(ValueError, match="as_of_date"):
        _score(registry, serving, passthrough_columns=["as_of_date"])


def _register(frame: pd.DataFrame, registered=(), **kwargs):
    kwargs.setdefault("baseline", _baseline(frame))
    return register_model_version(
        frame,
        NUMERIC,
        CATEGORICAL,
        model_name="purchase_30d",
        trained_at=TRAINED_AT,
        registered_versions=registered,
        key=KEY,
        **kwargs,
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
        ("baseline", "train"),
        ("baseline", "validation"),
    }


def test_a_changed_baseline_is_a_new_version(registry: pd.DataFrame) -> None:
    frame = _frame()
    other = _register(frame, baseline=_baseline(frame, probability=0.25))
    assert other["model_version"][0].as_py() != registry.loc[0, "model_version"]
    assert (
        baseline_fingerprint(_baseline(frame), "cutoff_date", "customer_id")
        == (registry.loc[0, "baseline_fingerprint"])
    )


def test_shuffled_train_labels_register_a_rejected_version(registry: pd.DataFrame) -> None:
    bad = _register(_frame(), shuffle_train_labels_seed=7).to_pandas()
    assert bad.loc[0, "model_version"] != registry.loc[0, "model_version"]
    assert bad.loc[0, "gate_status"] == "rejected"
    gates = {g["gate"]: g for g in json.loads(bad.loc[0, "gate_results_json"])["gates"]}
    assert not gates["min_validation_auc"]["passed"]
    assert gates["min_validation_auc"]["value"] < 0.6


def test_stricter_thresholds_reject_the_same_model() -> None:
    strict = _register(_frame(), thresholds=GateThresholds(min_validation_auc=1.01)).to_pandas()
    assert strict.loc[0, "gate_status"] == "rejected"


def test_calibration_per_cutoff_is_stored(registry: pd.DataFrame) -> None:
    calibration = json.loads(registry.loc[0, "calibration_json"])
    assert {(r["scorer"], r["cutoff_date"]) for r in calibration} == {
        (scorer, str(cutoff)) for scorer in ("model", "baseline") for cutoff in CUTOFFS
    }
    assert [r["split"] for r in calibration if r["scorer"] == "model"] == [
        "train",
        "train",
        "validation",
    ]


def test_scoring_refuses_a_rejected_or_relabelled_version(
    registry: pd.DataFrame, serving: pd.DataFrame
) -> None:
    bad = _register(_frame(), shuffle_train_labels_seed=7).to_pandas()
    both = pd.concat([registry, bad], ignore_index=True)
    forced = _champions(registry).assign(model_version=bad.loc[0, "model_version"])
    with pytest.raises(ValueError, match="gate_status 'rejected'"):
        _score(both, serving, champions=forced)
    # Relabelling the rejected version as passed in the warehouse breaks its signature.
    relabelled = both.assign(gate_status="passed")
    with pytest.raises(ModelSignatureError):
        _score(relabelled, serving, champions=forced)
    # The champion (not the latest version) scores.
    scores = _score(both, serving, champions=_champions(registry))
    assert (scores["model_version"] == registry.loc[0, "model_version"]).all()


def test_scoring_without_a_champion_is_refused(
    registry: pd.DataFrame, serving: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="has no champion"):
        _score(registry, serving, champions=pd.DataFrame(columns=CHAMPIONS_SCHEMA.names))
