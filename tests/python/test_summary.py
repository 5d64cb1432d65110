"""The build summary: row counts, and after a failed build the tables left stale."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from retail_ml.summary import render_summary, stale_tables, table_row_counts


def run_results(tmp_path: Path, statuses: dict[str, str]) -> Path:
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps({"results": [
        {"unique_id": unique_id, "status": status} for unique_id, status in statuses.items()
    ]}))
    return path


def test_a_green_build_has_no_stale_tables(tmp_path):
    path = run_results(tmp_path, {"model.retail_ml.a": "success", "test.retail_ml.t": "pass"})
    assert stale_tables(path) == {}
    assert stale_tables(tmp_path / "missing.json") == {}


def test_errored_and_skipped_models_are_stale_tests_are_not_tables(tmp_path):
    path = run_results(tmp_path, {
        "model.retail_ml.stg_shop__orders": "error",
        "model.retail_ml.feat_customer_daily": "skipped",
        "model.retail_ml.stg_shop__customers": "success",
        "test.retail_ml.not_null_x": "fail",
        "seed.retail_ml.currencies": "success",
    })
    assert stale_tables(path) == {"stg_shop__orders": "error", "feat_customer_daily": "skipped"}


def test_the_summary_marks_stale_and_missing_tables(tmp_path):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table a as select 1 as x union all select 2")
        con.execute("create table b as select 1 as x")
    counts = table_row_counts(db, ("a", "b", "c"))
    assert counts == {"a": 2, "b": 1, "c": None}
    text = render_summary(db, counts, {"b": "skipped", "c": "error"})
    assert text.startswith("BUILD FAILED: 2 table(s) were not rebuilt and are STALE")
    lines = text.splitlines()
    assert any(line.split() == ["b", "1", "STALE"] for line in lines)
    assert any(line.split() == ["c", "missing", "STALE"] for line in lines)
    assert any(line.split() == ["a", "2"] for line in lines)
    assert "STALE" not in render_summary(db, counts, {})
