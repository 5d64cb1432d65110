"""The incremental base tables re-check exactly the rows whose verdict a new file can change.

Small data is staged (the base models and their seeds), then one new partition lands holding:
the missing customer of a session and of an order quarantined as `unknown_customer` (the
parent lands late: both must be re-checked and staged), a re-send of an old staged session
(a duplicate: quarantined, the old copy kept), and a new session of an existing customer.
The incremental run must give exactly the tables of a full rebuild of the same files, and the
orphans' verdicts must have changed (else the comparison proves nothing). A session whose
customer is still missing keeps its verdict without being read again.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_dbt

END_DATE = date(2026, 11, 20)
BASE_TABLES = ("customers", "products", "orders", "order_items", "returns", "reviews",
               "web_sessions")
# The base models and the seeds they look up; tests are left to the full suite.
BUILD_BASE = ["build", "--select", "+path:models/staging/shop/base", "--resource-type", "seed",
              "--resource-type", "model"]
LATE_DAY = END_DATE + timedelta(days=1)
LATE_FILE = "part-late.parquet"


def _raw_rows(raw_dir: Path, table: str, where: str) -> pa.Table:
    con = duckdb.connect()
    rows = con.execute(
        f"select * exclude (filename) from read_parquet('{raw_dir}/{table}/*/*.parquet', "  # noqa: S608
        f"hive_partitioning = false, union_by_name = true, filename = true) where {where}"
    ).arrow()
    con.close()
    return rows.read_all() if hasattr(rows, "read_all") else rows


def _land(raw_dir: Path, table: str, rows: pa.Table) -> None:
    schema = pq.read_schema(next((raw_dir / table).glob("*/*.parquet")))
    loaded_at = datetime(LATE_DAY.year, LATE_DAY.month, LATE_DAY.day, 6, 0)
    data = rows.to_pylist()
    for row in data:
        row["_loaded_at"] = loaded_at
    out = raw_dir / table / f"load_date={LATE_DAY.isoformat()}"
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(data, schema=schema), out / LATE_FILE)


def _stored_orphans(db_path: Path) -> tuple[list[int], list[int]]:
    con = duckdb.connect(str(db_path), read_only=True)
    orphans = {
        table: [row[0] for row in con.execute(
            f"select distinct customer_id from base_shop__{table} "  # noqa: S608
            "where quarantine_rule = 'unknown_customer' order by 1").fetchall()]
        for table in ("web_sessions", "orders")
    }
    con.close()
    return orphans["web_sessions"], orphans["orders"]


def _verdicts(db_path: Path, table: str, customer_id: int) -> list[str | None]:
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute(
        f"select quarantine_rule from base_shop__{table} where customer_id = ? "  # noqa: S608
        "order by raw_row_id", [customer_id]).fetchall()
    con.close()
    return [rule for (rule,) in rows]


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory):
    from retail_ml.generate import generate

    work = tmp_path_factory.mktemp("staging_incremental")
    raw_dir, db_path = work / "raw", work / "incremental.duckdb"
    generate(raw_dir, scale="small", seed=7, end_date=END_DATE)
    first = run_dbt(BUILD_BASE, raw_dir=raw_dir, db_path=db_path,
                    work_dir=work / "first")
    assert first.returncode == 0, first.output[-3000:]

    session_orphans, order_orphans = _stored_orphans(db_path)
    assert len(session_orphans) >= 2 and order_orphans, "the generator made no orphans"
    # The customer of one orphaned session and of one orphaned order land late; the other
    # orphaned sessions' customers stay missing.
    late_customers = sorted({session_orphans[0], order_orphans[0]})
    template = _raw_rows(raw_dir, "customers", "id is not null and email like '%@%' limit 1")
    first_version = template.to_pylist()[0]
    customers = pa.Table.from_pylist([
        {**first_version, "id": customer_id, "email": f"late.customer.{customer_id}@example.com"}
        for customer_id in late_customers
    ] + [  # a second version of one of them, in the same file (one key group, two rows)
        {**first_version, "id": late_customers[0],
         "email": f"late.customer.{late_customers[0]}@example.com",
         "updated_at": first_version["updated_at"] + timedelta(hours=1)},
    ], schema=template.schema)
    _land(raw_dir, "customers", customers)
    # A re-send of an old staged session, and a new session of an existing customer.
    con = duckdb.connect(str(db_path), read_only=True)
    resent_id, customer_id = con.execute(
        "select id, customer_id from base_shop__web_sessions "
        "where quarantine_rule is null order by raw_row_id limit 1").fetchone()
    con.close()
    sessions = _raw_rows(raw_dir, "web_sessions", f"id = {resent_id}").slice(0, 1).to_pylist()
    new_session = {**sessions[0], "id": 10**9 + 1, "customer_id": customer_id,
                   "started_at": datetime(LATE_DAY.year, LATE_DAY.month, LATE_DAY.day, 5, 0)}
    _land(raw_dir, "web_sessions",
          pa.Table.from_pylist([sessions[0], new_session],
                               schema=_raw_rows(raw_dir, "web_sessions", "false").schema))

    before = {cid: _verdicts(db_path, "web_sessions", cid) for cid in session_orphans[:2]}
    second = run_dbt(BUILD_BASE, raw_dir=raw_dir, db_path=db_path,
                     work_dir=work / "second")
    assert second.returncode == 0, second.output[-3000:]
    reference = work / "full.duckdb"
    full = run_dbt(BUILD_BASE, raw_dir=raw_dir, db_path=reference,
                   work_dir=work / "full")
    assert full.returncode == 0, full.output[-3000:]
    yield {"db": db_path, "reference": reference, "late_customers": late_customers,
           "session_orphans": session_orphans, "order_orphans": order_orphans,
           "before": before, "resent_id": resent_id, "second": second}
    shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("table", BASE_TABLES)
def test_the_incremental_base_table_equals_a_full_rebuild(staged, table):
    con = duckdb.connect()
    con.execute(f"attach '{staged['db']}' as inc (read_only)")
    con.execute(f"attach '{staged['reference']}' as ref (read_only)")
    name = f"base_shop__{table}"
    only_inc = con.execute(f"select count(*) from (select * from inc.main.{name} "  # noqa: S608
                           f"except all select * from ref.main.{name})").fetchone()[0]
    only_ref = con.execute(f"select count(*) from (select * from ref.main.{name} "  # noqa: S608
                           f"except all select * from inc.main.{name})").fetchone()[0]
    con.close()
    assert (only_inc, only_ref) == (0, 0)


def test_a_parent_that_lands_late_stages_its_orphans(staged):
    session_customer = staged["session_orphans"][0]
    assert "unknown_customer" in staged["before"][session_customer]
    assert "unknown_customer" not in _verdicts(staged["db"], "web_sessions", session_customer)
    order_customer = staged["order_orphans"][0]
    assert "unknown_customer" not in _verdicts(staged["db"], "orders", order_customer)


def test_an_orphan_whose_parent_is_still_missing_keeps_its_verdict(staged):
    still_missing = next(c for c in staged["session_orphans"][1:]
                         if c not in staged["late_customers"])
    assert "unknown_customer" in _verdicts(staged["db"], "web_sessions", still_missing)


def test_a_resent_session_is_a_duplicate_and_the_old_copy_stays(staged):
    con = duckdb.connect(str(staged["db"]), read_only=True)
    rules = con.execute(
        "select quarantine_rule from base_shop__web_sessions where id = ? order by _loaded_at",
        [staged["resent_id"]]).fetchall()
    con.close()
    assert rules == [(None,), ("duplicate_resend",)]
