"""An intraday refresh when parents land late (retail_ml.daily, int_orders_changed_intraday).

A row naming a parent that has not landed (an order of an unknown customer, a line of an
unknown product) is quarantined until the parent lands, then staged. When the parent lands on
the open day, orders whose own rows landed long ago change: the refresh must restage them
for the fresh customers who have them, although none of their rows is new. Here the customer
with the most orders and a product bought by many customers are held back in the generated
world until the refreshed hours; a daily run (a full refresh) builds the closed days without
them, a refresh lands them, and the fresh rows are compared with a whole history built from
the same files (no clock: the open day counts as closed). Then a daily run closes the open day,
incremental on tables built before the parents landed, and every table is compared with a full
rebuild of the same files: a row naming a late parent is known from when the parent landed
(`known_at`), so no past date of the closed days' tables moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import run_dbt
from retail_ml import landing
from retail_ml.generate.pipeline import generate
from test_daily_incremental_e2e import (
    SIGNING_KEY,
    Sequence,
    differences,
    feature_columns,
    run_daily,
    snapshot,
)

END_DATE = date(2026, 11, 20)
HORIZON_DAYS = 2
# The first daily run lands END_DATE + 1; the refresh lands the first hours of the next day.
OPEN_DAY = datetime.combine(END_DATE + timedelta(days=2), clock_time(0), tzinfo=UTC)
REFRESH_HOURS = 9


@dataclass
class LateSequence(Sequence):
    late_customer: int = 0
    late_product: int = 0
    rebuilt_db: Path | None = None


def land_later(future: Path, table: str, ids: list[int], at: datetime) -> int:
    """Moves the rows of `table` with these ids that land before `at` in the future world to
    land at `at` (their day's file rewritten before anything lands from it): a parent arriving
    after the rows that name it, which staging quarantines until it lands."""
    moved = []
    for path in sorted((future / table).glob("load_date=*/part-0.parquet")):
        rows = pq.read_table(path)
        hit = pc.and_(pc.is_in(rows["id"], pa.array(ids, rows["id"].type)),
                      pc.less(rows["_loaded_at"], pa.scalar(at, rows["_loaded_at"].type)))
        if pc.any(hit).as_py():
            moved.append(rows.filter(hit))
            pq.write_table(rows.filter(pc.invert(hit)), path)
    if not moved:
        return 0
    late = pa.concat_tables(moved)
    late = late.set_column(late.schema.get_field_index("_loaded_at"), "_loaded_at",
                           pa.array([at] * late.num_rows, late["_loaded_at"].type))
    target = future / table / f"load_date={at.date().isoformat()}" / "part-0.parquet"
    if target.exists():
        late = pa.concat_tables([pq.read_table(target), late.cast(pq.read_schema(target))])
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(late, target)
    return len(ids)


def delay_parents(future: Path) -> tuple[int, int]:
    """In the future world, before anything lands: the customer with the most orders and a
    product bought by many customers land only in the first refresh's hours, after the orders,
    lines and sessions that name them. The daily run quarantines those rows; the refresh
    re-checks them, so orders whose own rows landed long ago change on the open day
    (int_orders_changed_intraday must find them through their parents)."""
    con = duckdb.connect()
    orders = f"read_parquet('{future}/orders/*/*.parquet')"
    items = f"read_parquet('{future}/order_items/*/*.parquet')"
    (customer,) = con.execute(
        f"select customer_id from {orders} where customer_id is not null "  # noqa: S608
        f"and _loaded_at < ? group by 1 order by count(*) desc, 1 limit 1",
        [datetime.combine(END_DATE, clock_time(0), tzinfo=UTC)]).fetchone()
    (product,) = con.execute(
        f"select product_id from {items} where product_id is not null "  # noqa: S608
        "group by 1 order by count(*) desc, 1 limit 1 offset 9").fetchone()
    con.close()
    assert land_later(future, "customers", [customer], OPEN_DAY + timedelta(hours=2))
    assert land_later(future, "products", [product], OPEN_DAY + timedelta(hours=4))
    return customer, product


@pytest.fixture(scope="module")
def late(tmp_path_factory: pytest.TempPathFactory) -> LateSequence:
    work = tmp_path_factory.mktemp("late_parents")
    seq = LateSequence(work=work, raw_dir=work / "raw", db_path=work / "wh" / "warehouse.duckdb",
                   published_dir=work / "wh" / "published",
                   reference_db=work / "whole" / "warehouse.duckdb", outputs={}, codes={})
    generate(work / "future", "small", 42, END_DATE + timedelta(days=HORIZON_DAYS), force=True)
    seq.late_customer, seq.late_product = delay_parents(work / "future")
    landing.init_landing(seq.raw_dir, work / "future", "small", 42, END_DATE, HORIZON_DAYS)
    assert run_daily(seq, "daily", name="daily") == 0, seq.outputs["daily"][-4000:]
    assert run_daily(seq, "refresh", "--hours", str(REFRESH_HOURS), name="refresh") == 0, \
        seq.outputs["refresh"][-4000:]
    seq.after_refreshes = snapshot(seq.db_path, work / "after_refresh.duckdb")
    # The whole history of the same files, the open day's rows as of it (no clock).
    full_build(seq, seq.reference_db)
    # The daily run closing the open day, then a full rebuild of the same files.
    assert run_daily(seq, "daily", name="closing_day") == 0, seq.outputs["closing_day"][-4000:]
    seq.rebuilt_db = work / "rebuilt" / "warehouse.duckdb"
    full_build(seq, seq.rebuilt_db)
    return seq


def full_build(seq: LateSequence, db_path: Path) -> None:
    """`dbt build` of the landed files into an empty warehouse, without a landing clock."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"RETAIL_ML_LANDED_THROUGH": "", **SIGNING_KEY}.items():
            patch.setenv(name, value)
        built = run_dbt(["build"], raw_dir=seq.raw_dir, db_path=db_path,
                        work_dir=db_path.parent)
    assert built.returncode == 0 and not built.failures(), built.output[-4000:]


def _attached(late: LateSequence) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # Under the warehouse's own name: the staging views name their tables by it.
    con.execute(f"attach '{late.after_refreshes}' as warehouse (read_only)")
    con.execute(f"attach '{late.reference_db}' as whole (read_only)")
    con.execute("use warehouse")
    return con


def test_orders_whose_parent_landed_late_are_restaged_in_the_refresh(late):
    """The customer and the product delay_parents held back landed in the first refresh: the
    customer is fresh, and the orders naming either, quarantined by the daily run and staged
    since, were restaged for the fresh customers who have them (so the fresh rows above,
    equal to a whole history, include them)."""
    con = _attached(late)
    fresh = {c for (c,) in con.execute("select customer_id from int_customers_fresh").fetchall()}
    changed = "select order_id from int_orders_changed_intraday"
    # Staged now (stg_shop__orders is the daily run's table, which quarantined them).
    customer_orders = con.execute(
        f"select count(distinct id), count(distinct id) filter (where id in ({changed})) "  # noqa: S608
        "from base_shop__orders where customer_id = ? and quarantine_rule is null",
        [late.late_customer]).fetchone()
    buyers = (
        "select count(distinct orders.customer_id) from stg_shop__order_items as items "  # noqa: S608
        "inner join stg_shop__orders as orders on items.order_id = orders.order_id "
        f"where items.product_id = ? and items.order_id in ({changed}) "
        "and orders.customer_id in (select customer_id from int_customers_fresh) "
        "and orders.customer_id <> ?")
    product_buyers = con.execute(buyers, [late.late_product, late.late_customer]).fetchone()
    con.close()
    assert late.late_customer in fresh
    assert customer_orders[0] > 0 and customer_orders[0] == customer_orders[1], customer_orders
    assert product_buyers[0] > 0


def test_fresh_rows_equal_the_whole_history(late):
    """Every fresh customer's features (but the rank, ranked against the closed day) and
    order lines for the recommender equal their rows of the whole history: the changed orders,
    found through their late parents, are in."""
    columns = ", ".join(c for c in feature_columns() if c != "activity_rank_30d")
    fresh_ids = "select customer_id from warehouse.main.int_customers_fresh"
    pairs = {
        "features": (
            f"select customer_id, {columns}, as_of_date "  # noqa: S608
            "from warehouse.main.int_customer_features_fresh",
            f"select customer_id, {columns}, as_of_date "  # noqa: S608
            f"from whole.main.int_customer_features_requested where is_latest "
            f"and customer_id in ({fresh_ids})"),
        "recommender lines": (
            "select * from warehouse.main.int_recommender_order_lines_fresh",
            "select * from whole.main.int_recommender_order_lines "  # noqa: S608
            f"where customer_id in ({fresh_ids}) and known_date <= "
            "(select max(as_of_date) from warehouse.main.int_customers_fresh)"),
    }
    con = _attached(late)
    found = {}
    for name, (fresh, whole) in pairs.items():
        rows = con.execute(f"select count(*) from ({fresh})").fetchone()[0]  # noqa: S608
        only_fresh = con.execute(f"select count(*) from ({fresh} except all {whole})").fetchone()[0]  # noqa: S608
        only_whole = con.execute(f"select count(*) from ({whole} except all {fresh})").fetchone()[0]  # noqa: S608
        found[name] = (rows > 0, only_fresh, only_whole)
    con.close()
    assert found == {name: (True, 0, 0) for name in pairs}


def test_a_row_naming_a_late_parent_is_known_from_the_parents_landing(late):
    """known_at of base_shop__order_items: the held-back product's lines that landed before it
    are known from the product's landing (OPEN_DAY + 4 h), the lines of the held-back customer's
    orders from the customer's (OPEN_DAY + 2 h) or later; most other lines keep their own
    landing."""
    con = duckdb.connect(str(late.rebuilt_db), read_only=True)
    rows = con.execute(
        """
        select
            case
                when items.product_id = ? then 'late product'
                when orders.customer_id = ? then 'late customer'
                else 'other'
            end as kind,
            min(items.known_at), max(items.known_at),
            count(*) filter (where items.known_at <> items._loaded_at),
            count(*)
        from base_shop__order_items as items
        inner join base_shop__orders as orders
            on items.order_id = orders.id and orders.quarantine_rule is null
        where items.quarantine_rule is null and items._loaded_at < ?
        group by 1 order by 1
        """, [late.late_product, late.late_customer, OPEN_DAY.replace(tzinfo=None)]).fetchall()
    con.close()
    found = {kind: (low, high, moved, total) for kind, low, high, moved, total in rows}
    product_known = (OPEN_DAY + timedelta(hours=4)).replace(tzinfo=None)
    customer_known = (OPEN_DAY + timedelta(hours=2)).replace(tzinfo=None)
    assert found["late product"][:2] == (product_known, product_known)
    assert found["late customer"][0] >= customer_known
    # The others: their own landing unless their order landed later (the generator's delays).
    assert found["other"][2] < found["other"][3] / 10


def test_the_daily_run_after_late_parents_equals_a_full_rebuild(late):
    """The daily run closing the open day keeps the closed days' feature rows (incremental:
    int_customer_features_requested, feat_product_daily, the base tables) built before the
    parents landed; every table equals a full rebuild of the same landed files."""
    assert "full refresh" not in late.outputs["closing_day"]
    assert differences(late.db_path, late.rebuilt_db) == {}
