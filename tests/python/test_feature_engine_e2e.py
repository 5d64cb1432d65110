"""The engine's two strategies are held equal by a dbt test that can fail.

`assert_feat_customer_daily_equals_requested_features` compares feat_customer_daily (computed
from the known events when queried) with int_customer_features_requested (running sums over the
requested dates), on the dates a run writes (and two training cutoffs on a full refresh).
Seeding one wrong value into the requested table on any of them must make it fail.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from conftest import run_dbt

pytestmark = pytest.mark.e2e

EQUALITY_TEST = "assert_feat_customer_daily_equals_requested_features"


# Rows of one customer on a requested date the test checks: the serving day and the
# recommender's evaluation cutoff on every run (an incremental run writes them), the earliest
# training cutoff on a full refresh (an incremental run keeps the cutoffs it holds).
SEEDED_DATES = {
    "serving_day": ("is_latest", ["test"]),
    "evaluation_cutoff": ("is_recommender_evaluation", ["test"]),
    "earliest_training_cutoff": (
        "as_of_date = (select min(as_of_date) from int_feature_dates_requested "
        "where is_training_cutoff)",
        ["build", "--full-refresh"]),
}


@pytest.mark.parametrize("seeded", sorted(SEEDED_DATES))
def test_the_strategy_equality_test_fails_on_a_seeded_difference(built_warehouse, tmp_path,
                                                                  seeded):
    condition, command = SEEDED_DATES[seeded]
    # Same file name: the view's SQL names its database after the file.
    copy = tmp_path / built_warehouse.db_path.name
    shutil.copy(built_warehouse.db_path, copy)
    with duckdb.connect(str(copy)) as con:
        changed = con.execute(
            f"""
            update int_customer_features_requested
            set orders_30d = orders_30d + 1
            where as_of_date in (select as_of_date from int_feature_dates_requested
                                 where {condition})
              and customer_id = (select min(customer_id) from int_customer_features_requested)
            """  # noqa: S608 - conditions of this module
        ).fetchone()[0]
    assert changed == 1
    # Only the test is selected: `build --full-refresh` rebuilds nothing, it runs the test as
    # a full refresh would.
    run = run_dbt([*command, "--select", EQUALITY_TEST],
                  raw_dir=built_warehouse.raw_dir, db_path=copy, work_dir=tmp_path)
    failed = [r for r in run.results if r["status"] == "fail"]
    assert run.returncode != 0 and len(failed) == 1, run.output[-3000:]
    assert failed[0]["failures"] == 2, "the row differs on both sides"


# The running strategy's models and the entity key their passes split on.
PASSED_MODELS = {"int_customer_features_requested": "customer_id",
                 "feat_product_daily": "product_id"}


def test_the_running_strategy_gives_the_same_rows_in_several_passes(built_warehouse, tmp_path):
    """Forced to split its events into three passes over shares of the entities (macro
    pit_passes), the engine rebuilds the same tables a single pass built, row for row: on a
    full refresh, and on an incremental run after it (whose spine starts at the last landed
    day, so the settled events take the other branch)."""
    copy_dir = tmp_path / "passes"
    copy_dir.mkdir()
    copy = copy_dir / built_warehouse.db_path.name
    shutil.copy(built_warehouse.db_path, copy)
    for mode in (["--full-refresh"], []):
        run = run_dbt(["run", *mode, "--select", *PASSED_MODELS,
                       "--vars", "{pit_events_per_pass: 1, pit_max_passes: 3}"],
                      raw_dir=built_warehouse.raw_dir, db_path=copy, work_dir=copy_dir)
        assert run.returncode == 0, run.output[-3000:]
        for model, key in PASSED_MODELS.items():
            compiled = next((copy_dir / "target" / "compiled").rglob(f"{model}.sql")).read_text()
            assert compiled.count(f"({key} % 3 + 3) % 3, 0) = ") >= 3 * 2, (
                f"{model}: not in 3 passes ({mode})")
        _assert_tables_equal_the_single_pass_build(copy, built_warehouse.db_path, mode)


def _assert_tables_equal_the_single_pass_build(copy, single_pass_db, mode) -> None:
    with duckdb.connect(str(copy), read_only=True) as con:
        con.execute(f"attach '{single_pass_db}' as single_pass (read_only)")
        for model in PASSED_MODELS:
            rows = con.execute(f"select count(*) from {model}").fetchone()[0]  # noqa: S608
            differing = con.execute(
                f"""
                select count(*) from (
                    (select * from {model} except all select * from single_pass.main.{model})
                    union all
                    (select * from single_pass.main.{model} except all select * from {model})
                )
                """  # noqa: S608 - model names of this module
            ).fetchone()[0]
            assert rows > 0 and differing == 0, (
                f"{model} ({mode}): {differing} of {rows} rows differ")
