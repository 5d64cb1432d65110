"""Tests for retail_ml.ml.backtest: the fold protocol, the refits and the summary."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from retail_ml.ml.backtest import (
    BACKTEST_METRICS,
    BACKTEST_SCHEMA,
    Fold,
    FoldProtocolError,
    backtest_model_version,
    backtest_model_version_from_relations,
    backtest_summary,
    check_fold_protocol,
    folds_from_table,
    run_backtest,
)
from retail_ml.ml.jobs import train_model_registry_row
from retail_ml.ml.training import plan_training

NUMERIC = ["recency_days", "order_count"]
CATEGORICAL = ["country"]
# Month-ends, as the training cutoffs are.
CUTOFFS = [dt.date(2026, m, d) for m, d in ((3, 31), (4, 30), (5, 31), (6, 30), (7, 31))]
KEY = b"unit-test-signing-key-0123456789abcdef"
TRAINED_AT = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)


def _frame(n_customers: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for cutoff in CUTOFFS:
        recency = rng.exponential(60.0, n_customers)
        noise = rng.random(n_customers) < 0.15
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": np.arange(n_customers),
                    "cutoff_date": cutoff,
                    "recency_days": recency,
                    "order_count": rng.poisson(3, n_customers).astype("float64"),
                    "country": pd.array(rng.choice(["UK", "DE", None], n_customers), dtype="str"),
                    "label": ((recency < 40.0) ^ noise).astype("int64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _fold_table(label_days: int = 30, lateness_days: int = 7, n_folds: int = 2) -> pd.DataFrame:
    """The folds as the SQL model builds them (the same rule, restated for the test)."""
    rows = []
    for evaluated in CUTOFFS[-n_folds:]:
        rows.append(
            {"fold_role": "evaluation", "evaluated_cutoff": evaluated, "cutoff_date": evaluated}
        )
        rows += [
            {"fold_role": "train", "evaluated_cutoff": evaluated, "cutoff_date": cutoff}
            for cutoff in CUTOFFS
            if cutoff + dt.timedelta(days=label_days + lateness_days) <= evaluated
        ]
    return pd.DataFrame(rows)


def _baseline(frame: pd.DataFrame, folds: pd.DataFrame) -> pd.DataFrame:
    """A weak baseline of every fold's evaluated rows: a constant plus noise."""
    evaluated = folds.loc[folds["fold_role"] == "evaluation", "evaluated_cutoff"]
    rows = frame[frame["cutoff_date"].isin(evaluated)]
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "customer_id": rows["customer_id"].to_numpy(),
            "evaluated_cutoff": rows["cutoff_date"].to_numpy(),
            "probability": 0.3 + 0.1 * rng.random(len(rows)),
            "has_purchase_next_30d": rows["label"].astype("float64").to_numpy(),
        }
    ).sample(frac=1.0, random_state=2)  # order must not matter


def _plan(frame: pd.DataFrame):
    return plan_training(frame, NUMERIC, CATEGORICAL, label_column="label", seed=42)


def test_folds_follow_the_protocol_and_skip_the_unlanded_month() -> None:
    folds = folds_from_table(_fold_table())
    assert [fold.evaluated_cutoff for fold in folds] == CUTOFFS[-2:]
    # 06-30 + 37 days = 08-06 > 07-31: the month before is not in the fold evaluated on 07-31.
    assert folds[-1].train_cutoffs == tuple(CUTOFFS[:3])
    check_fold_protocol(folds, label_days=30, lateness_days=7)


@pytest.mark.parametrize(
    ("train_cutoff", "problem"),
    [
        (dt.date(2026, 7, 31), "not before"),  # the evaluated cutoff itself
        (dt.date(2026, 8, 31), "not before"),  # a later cutoff
        (dt.date(2026, 6, 30), "lateness"),  # label window ends 07-30, + 7 days > 07-31
    ],
)
def test_a_fold_that_learns_from_the_unknown_is_refused(train_cutoff, problem) -> None:
    fold = Fold(dt.date(2026, 7, 31), (dt.date(2026, 5, 31), train_cutoff))
    with pytest.raises(FoldProtocolError, match=problem):
        check_fold_protocol([fold], label_days=30, lateness_days=7)


def test_the_lateness_margin_is_what_refuses_the_month_before() -> None:
    fold = Fold(dt.date(2026, 7, 31), (dt.date(2026, 6, 30),))
    # 06-30 + 30 days = 07-30: landed by 07-31 with up to 1 day of lateness, not with 2.
    check_fold_protocol([fold], label_days=30, lateness_days=1)
    with pytest.raises(FoldProtocolError):
        check_fold_protocol([fold], label_days=30, lateness_days=2)


def test_run_backtest_refuses_a_bad_fold_before_fitting() -> None:
    frame = _frame()
    bad = _fold_table(lateness_days=0)  # includes 06-30 in the fold of 07-31
    with pytest.raises(FoldProtocolError):
        run_backtest(
            _plan(frame),
            folds_from_table(bad),
            _baseline(frame, bad),
            label_days=30,
            lateness_days=7,
        )


def test_fold_table_must_be_complete() -> None:
    table = _fold_table()
    with pytest.raises(ValueError, match="evaluation row"):
        folds_from_table(table[table["fold_role"] == "train"])
    with pytest.raises(ValueError, match="no training cutoffs"):
        folds_from_table(table[table["fold_role"] == "evaluation"])


def test_run_backtest_scores_each_fold_on_its_cutoff_only() -> None:
    frame = _frame()
    folds = _fold_table()
    records = run_backtest(
        _plan(frame),
        folds_from_table(folds),
        _baseline(frame, folds),
        label_days=30,
        lateness_days=7,
    )
    result = pd.DataFrame(records)
    assert len(result) == 2 * 2 * len(BACKTEST_METRICS)
    last = result[result["evaluated_cutoff"] == CUTOFFS[-1]].iloc[0]
    assert (last["n_train_cutoffs"], last["n_train_rows"], last["n_evaluation_rows"]) == (
        3,
        360,
        120,
    )
    assert last["train_cutoff_max"] == CUTOFFS[2]
    auc = result[result["metric"] == "roc_auc"].set_index(["evaluated_cutoff", "scorer"])
    # The model learns recency; the baseline is noise.
    for cutoff in CUTOFFS[-2:]:
        assert auc.loc[(cutoff, "model"), "metric_value"] > 0.7
        assert auc.loc[(cutoff, "baseline"), "metric_value"] < 0.65
    gap = result[(result["metric"] == "calibration_gap") & (result["scorer"] == "baseline")]
    labels = frame[frame["cutoff_date"] == CUTOFFS[-1]]["label"].mean()
    expected = _baseline(frame, folds).query("evaluated_cutoff == @CUTOFFS[-1]")
    assert gap.iloc[-1]["metric_value"] == pytest.approx(expected["probability"].mean() - labels)


def test_run_backtest_is_deterministic() -> None:
    frame = _frame()
    folds = _fold_table()
    first = run_backtest(
        _plan(frame),
        folds_from_table(folds),
        _baseline(frame, folds),
        label_days=30,
        lateness_days=7,
    )
    again = run_backtest(
        _plan(frame.sample(frac=1.0, random_state=9)),
        folds_from_table(folds),
        _baseline(frame, folds),
        label_days=30,
        lateness_days=7,
    )
    assert first == again


def test_baseline_must_hold_exactly_the_evaluated_rows() -> None:
    frame = _frame()
    folds = _fold_table()
    baseline = _baseline(frame, folds)
    with pytest.raises(ValueError, match="baseline's rows"):
        run_backtest(
            _plan(frame), folds_from_table(folds), baseline.iloc[1:], label_days=30, lateness_days=7
        )
    flipped = baseline.assign(has_purchase_next_30d=1.0 - baseline["has_purchase_next_30d"])
    with pytest.raises(ValueError, match="labels differ"):
        run_backtest(_plan(frame), folds_from_table(folds), flipped, label_days=30, lateness_days=7)


@pytest.fixture(scope="module")
def registry() -> pd.DataFrame:
    frame = _frame()
    latest = frame["cutoff_date"].max()
    baseline = frame[["cutoff_date", "customer_id"]].assign(
        probability=0.3, split=np.where(frame["cutoff_date"] == latest, "validation", "train")
    )
    return train_model_registry_row(
        frame,
        NUMERIC,
        CATEGORICAL,
        model_name="purchase_30d",
        trained_at=TRAINED_AT,
        baseline=baseline,
        label_column="label",
        key=KEY,
    )


def _backtest(registry: pd.DataFrame, frame: pd.DataFrame, **kwargs):
    folds = _fold_table()
    return backtest_model_version(
        registry,
        frame,
        folds,
        _baseline(frame, folds),
        model_name="purchase_30d",
        label_days=30,
        lateness_days=7,
        **kwargs,
    )


def test_backtest_of_the_registered_version_once(registry: pd.DataFrame) -> None:
    table = _backtest(registry, _frame())
    assert table.schema == BACKTEST_SCHEMA
    assert table.num_rows == 2 * 2 * len(BACKTEST_METRICS)
    version = registry.loc[0, "model_version"]
    assert set(table["model_version"].to_pylist()) == {version}
    assert _backtest(registry, _frame(), backtested_versions=[version]).num_rows == 0


def test_no_backtest_for_a_version_trained_on_other_data(registry: pd.DataFrame) -> None:
    other = _frame()
    other.loc[other.index[:40], "label"] = 1 - other.loc[other.index[:40], "label"]
    assert _backtest(registry, other).num_rows == 0


class _ReadCounter:
    """A DuckDB relation that counts how often it is read whole (everything else passes)."""

    def __init__(self, relation: duckdb.DuckDBPyRelation) -> None:
        self.relation = relation
        self.reads = 0

    def to_arrow_table(self) -> pa.Table:
        self.reads += 1
        return self.relation.to_arrow_table()

    def __getattr__(self, name: str):
        return getattr(self.relation, name)


def _backtest_relations(registry: pd.DataFrame, frame: pd.DataFrame, **kwargs):
    folds = _fold_table()
    with duckdb.connect() as connection:
        tables = [
            _ReadCounter(connection.from_df(table))
            for table in (frame, folds, _baseline(frame, folds))
        ]
        result = backtest_model_version_from_relations(
            registry.drop(columns=["model_bytes"]),
            *tables,
            model_name="purchase_30d",
            label_days=30,
            lateness_days=7,
            **kwargs,
        )
    return result, [table.reads for table in tables]


def test_backtest_from_relations_reads_the_tables_only_when_it_runs(
    registry: pd.DataFrame,
) -> None:
    table, reads = _backtest_relations(registry, _frame())
    assert table.equals(_backtest(registry, _frame()))
    assert reads == [1, 1, 1]
    version = registry.loc[0, "model_version"]
    table, reads = _backtest_relations(registry, _frame(), backtested_versions=[version])
    assert (table.num_rows, reads) == (0, [0, 0, 0])
    # Trained on other data: the fingerprint, computed in DuckDB, says so before any read.
    other = _frame()
    other.loc[other.index[:40], "label"] = 1 - other.loc[other.index[:40], "label"]
    table, reads = _backtest_relations(registry, other)
    assert (table.num_rows, reads) == (0, [0, 0, 0])


def test_summary_gives_mean_spread_and_the_difference() -> None:
    rows = [
        {"scorer": scorer, "metric": "roc_auc", "evaluated_cutoff": cutoff, "metric_value": value}
        for cutoff, model, baseline in ((CUTOFFS[-2], 0.80, 0.75), (CUTOFFS[-1], 0.84, 0.77))
        for scorer, value in (("model", model), ("baseline", baseline))
    ]
    summary = backtest_summary(pd.DataFrame(rows)).set_index("scorer")
    assert list(summary.index) == ["model", "baseline", "model - baseline"]
    assert summary.loc["model", "mean"] == pytest.approx(0.82)
    assert summary.loc["model", "std"] == pytest.approx(np.std([0.80, 0.84], ddof=1))
    assert summary.loc["model - baseline", "mean"] == pytest.approx(0.06)
    assert (summary.loc["model - baseline", "min"], summary.loc["model - baseline", "max"]) == (
        pytest.approx(0.05),
        pytest.approx(0.07),
    )
    assert (summary["n_folds"] == 2).all()
