"""End to end: ml_recommendation_metrics, an incremental dbt Python model, recomputes its
backtest only when a row it reads changes, and then equals a full rebuild.

On a copy of the small warehouse `dbt build` made (the fixture), with `dbt run` of that model
alone: a stored row is altered as a marker (a recomputation would overwrite it), then inputs
are changed where the backtest does not read them (the marker must stay; a product landing
after the newest cutoff, with the catalogue rebuilt, is one) and where it does (the
marker must go, with a new fingerprint), and the result is compared with a full refresh.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import run_dbt

pytestmark = pytest.mark.e2e

MODEL = "ml_recommendation_metrics"
MARKER = 0.123456789
MARKED_ROW = "window_number = 1 and method = 'blend' and metric = 'hit_rate_at_10'"


def run_model(built_warehouse, db_path: Path, work_dir: Path, *extra: str) -> None:
    run = run_dbt(["run", "--select", MODEL, *extra], raw_dir=built_warehouse.raw_dir,
                  db_path=db_path, work_dir=work_dir)
    assert run.returncode == 0 and not run.failures(), run.output[-4000:]


def state(db_path: Path) -> tuple[list[str], int, float]:
    """The table's fingerprints, its row count and the marked row's value."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        fingerprints = [f for (f,) in con.execute(
            f"select distinct input_fingerprint from {MODEL} order by 1").fetchall()]  # noqa: S608
        rows = con.execute(f"select count(*) from {MODEL}").fetchone()[0]  # noqa: S608
        value = con.execute(f"select value from {MODEL} where {MARKED_ROW}").fetchone()[0]  # noqa: S608
    return fingerprints, rows, value


def test_the_backtest_is_recomputed_only_when_a_row_it_reads_changes(built_warehouse, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db_path, db)
    fingerprints, rows, value = state(db)
    assert len(fingerprints) == 1 and rows == 4 * 6 * 2 and value != MARKER

    # Not read: the serving day's catalogue and an order line known after the newest cutoff.
    with duckdb.connect(str(db)) as con:
        con.execute(f"update {MODEL} set value = {MARKER} where {MARKED_ROW}")  # noqa: S608
        con.execute("update int_product_catalogue_requested set product_name = 'renamed'"
                    " where as_of_date = (select max(as_of_date)"
                    " from int_product_catalogue_requested)")
        deleted = con.execute(
            "delete from int_recommender_order_lines where rowid = ("
            "    select min(rowid) from int_recommender_order_lines"
            "    where known_date > (select max(cutoff_date)"
            "        from int_recommender_backtest_windows))").fetchone()[0]
    assert deleted == 1
    run_model(built_warehouse, db, tmp_path / "unread")
    assert state(db) == (fingerprints, rows, MARKER), "nothing recomputed"

    # Not read either: a product landing after the newest cutoff (most daily runs land one)
    # joins the serving day's catalogue, not a cutoff's.
    with duckdb.connect(str(db)) as con:
        landed_at = ("(select cast(max(cutoff_date) as timestamp) + interval 36 hour"
                     " from int_recommender_backtest_windows)")
        landed = con.execute(
            "insert into base_shop__products select * replace ("  # noqa: S608 - constant SQL
            "    'test/new-product' as raw_row_id, id + 1000000 as id,"
            f"    {landed_at} as _loaded_at, {landed_at} as known_at)"
            " from base_shop__products where quarantine_rule is null"
            " order by id limit 1").fetchone()[0]
    assert landed == 1
    run_model(built_warehouse, db, tmp_path / "new_product", "int_product_catalogue_requested")
    assert state(db) == (fingerprints, rows, MARKER), "nothing recomputed"
    with duckdb.connect(str(db), read_only=True) as con:
        listed_on = con.execute(
            "select count(*) from int_product_catalogue_requested"
            " where product_id > 1000000 and as_of_date = (select max(as_of_date)"
            "     from int_product_catalogue_requested)").fetchone()[0]
    assert listed_on == 1, "the new product is in the serving day's catalogue"

    # Read: one purchase of the newest window's label period.
    with duckdb.connect(str(db)) as con:
        deleted = con.execute(
            "delete from int_recommender_evaluation_purchases where rowid = ("
            "    select min(rowid) from int_recommender_evaluation_purchases"
            "    where cutoff_date = (select max(cutoff_date)"
            "        from int_recommender_backtest_windows))").fetchone()[0]
    assert deleted == 1
    run_model(built_warehouse, db, tmp_path / "read")
    recomputed, rows_after, value_after = state(db)
    assert len(recomputed) == 1 and recomputed != fingerprints, "a new fingerprint"
    assert rows_after == rows and value_after != MARKER, "every row recomputed"

    # The same data from scratch.
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(db, rebuilt)
    run_model(built_warehouse, rebuilt, tmp_path / "full", "--full-refresh")
    with duckdb.connect() as con:
        con.execute(f"attach '{db}' as incremental (read_only)")
        con.execute(f"attach '{rebuilt}' as rebuilt (read_only)")
        differing = [
            con.execute(
                f"select count(*) from (select * from {a}.main.{MODEL}"  # noqa: S608
                f" except all select * from {b}.main.{MODEL})").fetchone()[0]
            for a, b in [("incremental", "rebuilt"), ("rebuilt", "incremental")]
        ]
    assert differing == [0, 0]
