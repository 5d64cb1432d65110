"""Tests for retail_ml.ml.monitoring (PSI drift of features and score)."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from retail_ml.ml.champion import CHAMPIONS_SCHEMA, champion_changes
from retail_ml.ml.jobs import score_with_registered_model, train_model_registry_row
from retail_ml.ml.monitoring import (
    DriftThresholds,
    drift_level,
    drift_reference_rows,
    feature_drift,
    population_stability_index,
)


def _normal(mean: float, n: int = 5000, seed: int = 0) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).normal(mean, 1.0, n))


def test_same_distribution_has_no_material_shift() -> None:
    psi, n_bins = population_stability_index(_normal(0.0), _normal(0.0, seed=1), numeric=True)
    assert psi < 0.02
    assert n_bins == 11, "10 quantile bins + missing"


def test_a_shifted_distribution_is_an_alert() -> None:
    moderate, _ = population_stability_index(_normal(0.0), _normal(0.3, seed=1), numeric=True)
    major, _ = population_stability_index(_normal(0.0), _normal(1.0, seed=1), numeric=True)
    assert 0.05 < moderate < 0.25 < major
    assert drift_level(major, DriftThresholds()) == "alert"
    assert drift_level(0.15, DriftThresholds()) == "warn"
    assert drift_level(0.05, DriftThresholds()) == "ok"


def test_more_missing_values_is_drift() -> None:
    reference = _normal(0.0)
    serving = reference.copy()
    serving.iloc[: len(serving) // 2] = np.nan
    psi, _ = population_stability_index(reference, serving, numeric=True)
    assert psi > 0.25


def test_categories_including_unseen_and_missing() -> None:
    reference = pd.Series(["DE"] * 50 + ["FR"] * 50)
    assert population_stability_index(reference, reference, numeric=False) == (0.0, 4)
    serving = pd.Series(["DE"] * 50 + ["XX"] * 25 + [None] * 25)
    psi, _ = population_stability_index(reference, serving, numeric=False)
    assert psi > 0.25


def test_a_constant_feature_and_empty_input() -> None:
    zeros = pd.Series(np.zeros(100))
    assert population_stability_index(zeros, zeros, numeric=True)[0] == 0.0
    with pytest.raises(ValueError, match="at least one value"):
        population_stability_index(zeros, zeros.iloc[0:0], numeric=True)


@pytest.mark.parametrize("serving_tie", [0.0084, 0.0094])
def test_a_point_mass_that_moves_slightly_is_not_drift(serving_tie: float) -> None:
    """A percentile rank shared by every inactive customer: 40% at 0.0089 on the reference,
    40% at a slightly lower or higher value on serving (the tie's rank moves with the
    population), the rest uniform: the same population. Edges at the quantiles themselves
    gave this a PSI of ~6.6 (alert)."""
    rng = np.random.default_rng(0)

    def ranks(tie: float, n: int) -> pd.Series:
        n_tied = int(0.4 * n)
        return pd.Series(np.concatenate([np.full(n_tied, tie), rng.uniform(0.01, 1, n - n_tied)]))

    psi, _ = population_stability_index(
        ranks(0.0089, 40_000), ranks(serving_tie, 50_000), numeric=True
    )
    assert psi < 0.02
    # A real move of the mass is still seen.
    moved, _ = population_stability_index(ranks(0.0089, 40_000), ranks(0.5, 50_000), numeric=True)
    assert moved > 0.25


# --- feature_drift reads only the reference cutoffs ---------------------------

CUTOFFS = [dt.date(2011, 7, 31), dt.date(2011, 8, 31), dt.date(2011, 9, 30)]
KEY = b"unit-test-signing-key-0123456789abcdef"
AT = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def _training(cutoffs: list[dt.date], n_customers: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(len(cutoffs))
    parts = []
    for cutoff in cutoffs:
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


OCTOBER = dt.date(2011, 10, 31)


@pytest.mark.parametrize(
    ("training_cutoffs", "read_cutoffs"),
    [
        (CUTOFFS, {CUTOFFS[-1]}),
        ([*CUTOFFS, OCTOBER], {CUTOFFS[-1], OCTOBER}),
        # The champion's cutoff left the training set: the reference is the latest one.
        ([CUTOFFS[0], OCTOBER], {OCTOBER}),
    ],
    ids=["champion cutoff is the latest", "a later cutoff", "champion cutoff gone"],
)
def test_drift_on_the_reference_rows_equals_drift_on_the_whole_training_set(
    training_cutoffs: list[dt.date], read_cutoffs: set[dt.date]
) -> None:
    trained_on = _training(CUTOFFS)
    baseline = trained_on[["cutoff_date", "customer_id"]].assign(  # uninformative: a constant
        probability=0.3,
        split=np.where(trained_on["cutoff_date"] == CUTOFFS[-1], "validation", "train"),
    )
    registry = train_model_registry_row(
        trained_on,
        ["recency_days", "order_count"],
        ["country"],
        model_name="purchase_30d",
        trained_at=AT,
        baseline=baseline,
        label_column="label",
        key=KEY,
    )
    champions = champion_changes(
        registry,
        pd.DataFrame(columns=CHAMPIONS_SCHEMA.names),
        model_name="purchase_30d",
        changed_at=AT,
    ).to_pandas()
    training = _training(training_cutoffs)
    serving = _training([dt.date(2011, 11, 30)]).rename(columns={"cutoff_date": "as_of_date"})
    scores = score_with_registered_model(
        registry, champions, serving, model_name="purchase_30d", key=KEY
    )

    def drift(rows: pd.DataFrame) -> pa.Table:
        return feature_drift(
            registry, champions, rows, serving, scores, model_name="purchase_30d", key=KEY
        )

    with duckdb.connect() as connection:
        reference = drift_reference_rows(connection.from_df(training), registry)
    assert set(reference["cutoff_date"]) == read_cutoffs
    assert len(reference) < len(training)
    assert drift(reference).equals(drift(training))
