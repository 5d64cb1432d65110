"""The engine's two strategies are held equal by a dbt test that can fail.

`assert_feat_customer_daily_equals_requested_features` compares feat_customer_daily (computed
from the known events when queried) with int_customer_features_requested (running sums over the
requested dates). Seeding one wrong value into the requested table must make it fail.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from conftest import run_dbt

pytestmark = pytest.mark.e2e

EQUALITY_TEST = "assert_feat_customer_daily_equals_requested_features"


def test_the_strategy_equality_test_fails_on_a_seeded_difference(built_warehouse, tmp_path):
    # Same file name: the view's SQL names its database after the file.
    copy = tmp_path / built_warehouse.db_path.name
    shutil.copy(built_warehouse.db_path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            """
            update int_customer_features_requested
            set orders_30d = orders_30d + 1
            where is_latest
              and customer_id = (select min(customer_id) from int_customer_features_requested)
            """
        )
    run = run_dbt(["test", "--select", EQUALITY_TEST],
                  raw_dir=built_warehouse.raw_dir, db_path=copy, work_dir=tmp_path)
    failed = [r for r in run.results if r["status"] == "fail"]
    assert run.returncode != 0 and len(failed) == 1, run.output[-3000:]
    assert failed[0]["failures"] == 2, "the row differs on both sides"

