"""The feature tables keyed by as-of date compute only the dates that can be new, for real.

Docs block `incremental_feature_dates`: an incremental run of int_customer_features_requested
and feat_product_daily computes the requested dates the table lacks and those on or after the
previous run's last landed day L, keeps the others and deletes the dates no longer requested.

One sequence on small landed data (the feature layer and its parents only, no tests, no ML):
a first build through day L; then day D = L + 1 lands, carrying one late order placed on
D - 5 by a customer who had never ordered; before the incremental run, one row of a kept date
and one of L are overwritten in each table (markers); then the incremental run, and a full
build of the same landed files from an empty warehouse (the reference). So:
- the marker on the kept date survives (that date was not recomputed) and is the only
  difference from the reference; the marker on L is gone (recomputed, or deleted when L is no
  longer requested);
- the late order changes no as-of date before D (it was not known then) and counts on D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import DbtRun, run_dbt
from retail_ml import landing

pytestmark = pytest.mark.e2e

END_DATE = date(2026, 11, 20)  # L: the last landed day of the first build
HORIZON_DAYS = 2
LATE_BY_DAYS = 5
FEATURE_TABLES = ("int_customer_features_requested", "feat_product_daily")
# The feature layer and what it reads (seeds included); no tests, no Python models.
BUILD = ["build", "--select", *(f"+{name}" for name in FEATURE_TABLES),
         "--resource-type", "model", "--resource-type", "seed"]
MARKER = -1  # no count is ever negative


@dataclass
class Sequence:
    db_path: Path
    reference_db: Path
    first_db: Path
    last_day: date  # L
    new_day: date  # D
    kept_cutoff: date  # a training cutoff the incremental run keeps
    kept_day: date  # a day of feat_product_daily the incremental run keeps
    customer_id: int  # the late order's customer: no order before it
    product_id: int
    incremental: DbtRun


def _ok(run: DbtRun, what: str) -> None:
    assert run.returncode == 0 and not run.failures(), f"{what}:\n{run.output[-4000:]}"


def _land_late_order(raw_dir: Path, future_dir: Path, day: date, customer_id: int,
                     product_id: int) -> None:
    """Appends to day's partition an order (and its line) placed LATE_BY_DAYS days before it:
    the batch was stuck and lands on `day` (a new file; landed files are never rewritten)."""
    landed_at = datetime.combine(day, time(6), tzinfo=UTC)
    ordered_at = landed_at - timedelta(days=LATE_BY_DAYS)
    con = duckdb.connect()
    order_id = con.execute(
        f"select max(id) + 1 from read_parquet('{future_dir}/orders/*/*.parquet')").fetchone()[0]  # noqa: S608
    con.close()
    partition = f"load_date={day.isoformat()}"
    orders_schema = pq.read_schema(next((raw_dir / "orders").glob("*/*.parquet")))
    items_schema = pq.read_schema(next((raw_dir / "order_items").glob("*/*.parquet")))
    order = {"id": order_id, "customer_id": customer_id, "ordered_at": ordered_at,
             "channel": "web", "status": "placed", "currency": "EUR", "shipping_amount": 4.99,
             "tax_amount": 3.0, "discount_code": None, "updated_at": ordered_at,
             "_loaded_at": landed_at}
    line = {"order_id": order_id, "line_number": 1, "product_id": product_id, "quantity": 2,
            "unit_price": 10.0, "discount_amount": None, "_loaded_at": landed_at}
    for table, row, schema in (("orders", order, orders_schema),
                               ("order_items", line, items_schema)):
        target = raw_dir / table / partition / "part-late.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist([row], schema=schema), target)


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> Sequence:
    work = tmp_path_factory.mktemp("incremental_features")
    raw_dir = work / "raw"
    state = landing.init_landing(raw_dir, work / "future", "small", 42, END_DATE, HORIZON_DAYS)
    db_path = work / "wh" / "warehouse.duckdb"
    db_path.parent.mkdir()
    _ok(run_dbt(BUILD, raw_dir=raw_dir, db_path=db_path, work_dir=work / "first"), "first build")
    first_db = work / "first.duckdb"
    first_db.write_bytes(db_path.read_bytes())

    new_day = END_DATE + timedelta(days=1)
    with duckdb.connect(str(db_path), read_only=True) as con:
        last_day, kept_cutoff = con.execute(
            "select max(as_of_date), min(as_of_date) "
            "from int_customer_features_requested").fetchone()
        # A customer known since before the kept cutoff who has not ordered (nor will on D).
        customer_id = con.execute(
            f"""
            select min(features.customer_id)
            from int_customer_features_requested as features
            where features.as_of_date = ? and features.orders_lifetime = 0
              and features.customer_id in (
                  select customer_id from int_customer_features_requested where as_of_date = ?)
              and features.customer_id not in (
                  select customer_id
                  from read_parquet('{raw_dir}/orders/*/*.parquet')
                  where customer_id is not null
                  union all
                  select customer_id
                  from read_parquet('{state.future_dir}/orders/load_date={new_day}/*.parquet')
                  where customer_id is not null)
            """,  # noqa: S608 - test paths
            [last_day, kept_cutoff]).fetchone()[0]
        product_id = con.execute(
            "select min(product_id) from feat_product_daily where as_of_date = ?",
            [kept_cutoff]).fetchone()[0]
    assert last_day == END_DATE and customer_id is not None and product_id is not None

    landing.land_until(raw_dir, landing.next_day_end(landing.read_state(raw_dir)))
    _land_late_order(raw_dir, state.future_dir, new_day, customer_id, product_id)

    kept_day = last_day - timedelta(days=3)
    with duckdb.connect(str(db_path)) as con:
        for day in (kept_cutoff, last_day):
            con.execute("update int_customer_features_requested set orders_lifetime = ? "
                        "where as_of_date = ? and customer_id = ?", [MARKER, day, customer_id])
        for day in (kept_day, last_day):
            con.execute("update feat_product_daily set units_30d = ? "
                        "where as_of_date = ? and product_id = ?", [MARKER, day, product_id])

    incremental = run_dbt(BUILD, raw_dir=raw_dir, db_path=db_path, work_dir=work / "second")
    _ok(incremental, "incremental build")
    reference_db = work / "reference" / "warehouse.duckdb"
    reference_db.parent.mkdir()
    _ok(run_dbt(BUILD, raw_dir=raw_dir, db_path=reference_db, work_dir=work / "reference"),
        "reference build")
    return Sequence(db_path=db_path, reference_db=reference_db, first_db=first_db,
                    last_day=last_day, new_day=new_day, kept_cutoff=kept_cutoff,
                    kept_day=kept_day, customer_id=customer_id, product_id=product_id,
                    incremental=incremental)


def _differing_rows(left: Path, right: Path, table: str) -> list[tuple]:
    """Rows of `table` in only one of the two warehouses (EXCEPT ALL both ways), sorted."""
    con = duckdb.connect()
    con.execute(f"attach '{left}' as l (read_only)")
    con.execute(f"attach '{right}' as r (read_only)")
    # Table names of this module only.
    left_only = f"select * from l.main.{table} except all select * from r.main.{table}"  # noqa: S608
    right_only = f"select * from r.main.{table} except all select * from l.main.{table}"  # noqa: S608
    query = f"select 'left', * from ({left_only}) union all select 'right', * from ({right_only})"  # noqa: S608
    rows = con.execute(query + " order by all").fetchall()
    con.close()
    return rows


def test_the_second_run_is_incremental(sequence):
    for table in FEATURE_TABLES:
        assert f"incremental model main.{table}" in sequence.incremental.output


def test_only_the_marker_on_a_kept_date_differs_from_a_full_rebuild(sequence):
    customers = _differing_rows(sequence.db_path, sequence.reference_db,
                                "int_customer_features_requested")
    products = _differing_rows(sequence.db_path, sequence.reference_db, "feat_product_daily")
    # One row each side: the kept date's marker here, the true row in the reference.
    assert len(customers) == 2 and len(products) == 2, (customers, products)
    with duckdb.connect(str(sequence.db_path), read_only=True) as con:
        kept = con.execute(
            "select as_of_date, orders_lifetime from int_customer_features_requested "
            "where customer_id = ? and orders_lifetime = ?",
            [sequence.customer_id, MARKER]).fetchall()
        kept_products = con.execute(
            "select as_of_date from feat_product_daily where product_id = ? and units_30d = ?",
            [sequence.product_id, MARKER]).fetchall()
    assert kept == [(sequence.kept_cutoff, MARKER)]
    assert kept_products == [(sequence.kept_day,)]


def test_the_previous_last_day_is_recomputed_or_dropped(sequence):
    with duckdb.connect(str(sequence.db_path), read_only=True) as con:
        # L is no longer requested (not a training cutoff): its customer rows are deleted.
        held = [d for (d,) in con.execute(
            "select distinct as_of_date from int_customer_features_requested "
            "order by 1").fetchall()]
        requested = [d for (d,) in con.execute(
            "select as_of_date from int_feature_dates_requested order by 1").fetchall()]
        product_on_last_day = con.execute(
            "select units_30d, is_latest from feat_product_daily "
            "where product_id = ? and as_of_date = ?",
            [sequence.product_id, sequence.last_day]).fetchone()
    assert held == requested and sequence.last_day not in held and sequence.new_day in held
    assert product_on_last_day[0] != MARKER and product_on_last_day[1] is False


def test_a_late_order_changes_no_earlier_date_and_counts_on_the_day_it_landed(sequence):
    late_day = sequence.new_day - timedelta(days=LATE_BY_DAYS)
    query = ("select as_of_date, orders_lifetime, orders_7d, days_since_last_order "
             "from int_customer_features_requested where customer_id = ? order by as_of_date")
    with duckdb.connect(str(sequence.reference_db), read_only=True) as con:
        rows = con.execute(query, [sequence.customer_id]).fetchall()
        products = con.execute(
            "select as_of_date, units_7d from feat_product_daily "
            "where product_id = ? and as_of_date >= ? order by as_of_date",
            [sequence.product_id, late_day]).fetchall()
    with duckdb.connect(str(sequence.first_db), read_only=True) as con:
        products_before = con.execute(
            "select as_of_date, units_7d from feat_product_daily "
            "where product_id = ? and as_of_date >= ? order by as_of_date",
            [sequence.product_id, late_day]).fetchall()
    # Placed on D - 5, known on D: nothing on the dates before D, one order on D.
    assert [row[1:] for row in rows if row[0] < sequence.new_day] \
        == [(0, 0, None)] * (len(rows) - 1)
    assert rows[-1] == (sequence.new_day, 1, 1, LATE_BY_DAYS)
    # The product's days before D are those of the build that never saw the order; D has its
    # two units on top of what else landed.
    assert products[:-1] == products_before
    assert products[-1][0] == sequence.new_day and products[-1][1] >= 2
