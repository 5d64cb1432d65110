"""End to end: the label's lateness margin and the rolling backtest of the session's build.

The date arithmetic is restated here in Python (30-day label + 7 days of lateness), so the
tests do not trust the macro they check. Tests that change the warehouse use a copy.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import BuiltWarehouse, run_dbt
from retail_ml.ml.backtest import BACKTEST_METRICS

pytestmark = pytest.mark.e2e

LABEL_DAYS = 30
LATENESS_DAYS = 7
PROTOCOL_TESTS = {
    "assert_ml_training_labels_have_lateness_margin",
    "assert_ml_backtest_folds_follow_protocol",
}


def _query(db_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _landed(cutoff: dt.date, on: dt.date, lateness_days: int = LATENESS_DAYS) -> bool:
    return cutoff + dt.timedelta(days=LABEL_DAYS + lateness_days) <= on


def _training_cutoffs(db_path: Path) -> list[dt.date]:
    return [
        row[0]
        for row in _query(
            db_path,
            "select as_of_date from int_feature_dates_requested where is_training_cutoff"
            " order by 1",
        )
    ]


def _latest_day(db_path: Path) -> dt.date:
    return _query(db_path, "select max(as_of_date) from int_feature_dates_spined")[0][0]


def test_training_labels_keep_the_lateness_margin(built_warehouse) -> None:
    cutoffs = _training_cutoffs(built_warehouse.db_path)
    latest = _latest_day(built_warehouse.db_path)
    assert len(cutoffs) >= 6
    assert all(_landed(cutoff, latest) for cutoff in cutoffs)
    assert _query(
        built_warehouse.db_path,
        "select min(cutoff_date), max(cutoff_date) from ml_training_set__purchase_30d",
    ) == [(cutoffs[0], cutoffs[-1])]


def test_backtest_folds_follow_the_protocol(built_warehouse) -> None:
    cutoffs = _training_cutoffs(built_warehouse.db_path)
    folds = _query(
        built_warehouse.db_path,
        "select evaluated_cutoff, list(cutoff_date order by cutoff_date)"
        " filter (where fold_role = 'train')"
        " from ml_backtest_folds__purchase_30d group by 1 order by 1",
    )
    assert [evaluated for evaluated, _ in folds] == cutoffs[-4:]
    for evaluated, train in folds:
        # Every earlier cutoff whose label had landed by the evaluated one, and nothing else:
        # the month before never (its label window ends 28-31 days after it, + 7 days).
        assert train == [c for c in cutoffs if c < evaluated and _landed(c, evaluated)]
        assert cutoffs[cutoffs.index(evaluated) - 1] not in train


def test_backtest_covers_the_latest_version_on_every_fold(built_warehouse) -> None:
    db = built_warehouse.db_path
    ((version,),) = _query(db, "select model_version from ml_model_registry")
    rows = _query(
        db,
        "select model_version, evaluated_cutoff, scorer, count(*), max(n_train_cutoffs),"
        " max(n_evaluation_rows) from ml_model_backtest group by all order by 2, 3",
    )
    folds = dict(
        _query(
            db,
            "select evaluated_cutoff, count(*) filter (where fold_role = 'train')"
            " from ml_backtest_folds__purchase_30d group by 1",
        )
    )
    evaluated_rows = dict(
        _query(db, "select cutoff_date, count(*) from ml_training_set__purchase_30d group by 1")
    )
    assert len(rows) == 2 * len(folds) == 8
    for model_version, evaluated, _scorer, n_metrics, n_train_cutoffs, n_rows in rows:
        assert model_version == version
        assert n_metrics == len(BACKTEST_METRICS)
        assert n_train_cutoffs == folds[evaluated]
        assert n_rows == evaluated_rows[evaluated]
    auc = _query(
        db,
        "select avg(metric_value) filter (where scorer = 'model'),"
        " avg(metric_value) filter (where scorer = 'baseline')"
        " from ml_model_backtest where metric = 'roc_auc'",
    )[0]
    assert auc[0] > 0.6 and auc[1] > 0.5


def test_protocol_tests_fail_on_a_margin_the_tables_do_not_keep(built_warehouse, tmp_path) -> None:
    """Seeded violation: judged with a 60-day margin, the 7-day tables break both rules."""
    run = run_dbt(
        ["test", "--select", *PROTOCOL_TESTS, "--vars", "{purchase_label_lateness_days: 60}"],
        raw_dir=built_warehouse.raw_dir,
        db_path=built_warehouse.db_path,
        work_dir=tmp_path,
    )
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in run.results}
    assert run.returncode != 0, run.output[-2000:]
    assert statuses == dict.fromkeys(PROTOCOL_TESTS, "fail")


def test_a_larger_margin_moves_the_cutoffs_back(built_warehouse: BuiltWarehouse, tmp_path) -> None:
    db_path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db_path, db_path)
    before = _training_cutoffs(db_path)
    latest = _latest_day(db_path)
    margin = (latest - before[-1]).days - LABEL_DAYS + 1  # just too late for the latest cutoff
    run = run_dbt(
        [
            "build",
            "--select",
            "int_feature_dates_requested",
            "ml_backtest_folds__purchase_30d",
            *PROTOCOL_TESTS,
            "--vars",
            f"{{purchase_label_lateness_days: {margin}}}",
        ],
        raw_dir=built_warehouse.raw_dir,
        db_path=db_path,
        work_dir=tmp_path,
    )
    assert run.returncode == 0 and not run.failures(), run.output[-3000:]
    after = _training_cutoffs(db_path)
    assert after[-1] == before[-2], "the latest cutoff's label has not landed with the margin"
    assert all(_landed(c, latest, margin) for c in after)
    folds = _query(db_path, "select distinct evaluated_cutoff from ml_backtest_folds__purchase_30d")
    assert max(row[0] for row in folds) == before[-2]


def test_a_changed_baseline_definition_is_a_new_version(built_warehouse, tmp_path) -> None:
    """The version id covers the baseline: other baseline scores on the same training data
    train and gate a new version (against the new baseline), and a new backtest with it."""
    db_path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db_path, db_path)
    ((old_version, old_fingerprint),) = _query(
        db_path, "select model_version, baseline_fingerprint from ml_model_registry"
    )
    with duckdb.connect(str(db_path)) as con:  # a coarser baseline: recency points only
        con.execute(
            "update ml_baseline_scores__purchase_30d set probability = 0.1 + 0.15 * recency_points"
        )
    run = run_dbt(
        ["build", "--select", "ml_model_registry", "ml_model_metrics", "ml_model_backtest"],
        raw_dir=built_warehouse.raw_dir,
        db_path=db_path,
        work_dir=tmp_path,
    )
    assert run.returncode == 0 and not run.failures(), run.output[-3000:]
    registry = _query(
        db_path,
        "select model_version, baseline_fingerprint, training_fingerprint"
        " from ml_model_registry order by trained_at",
    )
    assert len(registry) == 2 and registry[0][:2] == (old_version, old_fingerprint)
    new_version, new_fingerprint, _ = registry[1]
    assert new_version != old_version and new_fingerprint != old_fingerprint
    assert registry[0][2] == registry[1][2], "same training data"
    backtested = _query(db_path, "select distinct model_version from ml_model_backtest order by 1")
    assert backtested == sorted([(old_version,), (new_version,)])
