"""Leakage test: rows that happen, or land, after an as-of date D never change features for D.

Builds the small warehouse a second time on a copy of the raw data to which orders, lines,
sessions, reviews and returns were added: some dated after D, some dated before D but landed
after D (a late backfill), and cancellations (new status versions) of orders placed before D,
cancelled and landed on D+3. Every feature row for dates <= D must be unchanged; rows after D
must change (else the added rows were not read and the test proves nothing), and a cancelled
order must count until D+2 and be gone from D+3.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_dbt

pytestmark = pytest.mark.e2e

AS_OF = date(2026, 8, 31)
N_CUSTOMERS = 25
CANCELLED_ON = AS_OF + timedelta(days=3)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def append_rows(raw_dir: Path, table: str, landed: date, rows: list[dict]) -> None:
    """Lands rows as the ingestion pipeline would: a new file in the load day's partition."""
    schema = pq.read_schema(next((raw_dir / table).glob("*/*.parquet")))
    partition = raw_dir / table / f"load_date={landed.isoformat()}"
    partition.mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), partition / "part-late.parquet")


def late_and_future_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[date, dict]]]:
    """Rows to land: for each table, (load day, row) pairs around AS_OF."""
    customers = con.execute(
        """
        select c.customer_id, countries.currency_code
        from int_customers_signed_up as c
        inner join countries on c.country_code = countries.country_code
        where c.signup_date < ? - 30
        order by c.customer_id
        limit ?
        """,
        [AS_OF, N_CUSTOMERS],
    ).fetchall()
    product_id = con.execute(
        "select min(product_id) from stg_shop__products where launched_at < ? - 60", [AS_OF]
    ).fetchone()[0]
    returnable = con.execute(
        """
        select l.order_id, l.product_id
        from int_order_lines_netted as l
        where not l.is_cancelled and l.order_date between ? - 20 and ? - 10
          and not exists (
            select 1 from stg_shop__returns as r
            where r.order_id = l.order_id and r.product_id = l.product_id
          )
        order by l.order_id
        limit ?
        """,
        [AS_OF, AS_OF, N_CUSTOMERS],
    ).fetchall()
    # Orders placed before D by other customers, to be cancelled on D+3.
    cancellable = con.execute(
        """
        select order_id, customer_id, ordered_at, channel, currency_code,
            cast(shipping_amount as double), cast(tax_amount as double), discount_code
        from stg_shop__orders
        where cancelled_at is null and cast(ordered_at as date) between ? - 20 and ? - 5
          and cast(loaded_at as date) <= ?
          and customer_id not in (select unnest(?::bigint[]))
        order by order_id
        limit ?
        """,
        [AS_OF, AS_OF, AS_OF, [c for c, _ in customers], N_CUSTOMERS],
    ).fetchall()
    next_id = 10**12
    rows: dict[str, list[tuple[date, dict]]] = {
        t: [] for t in ["orders", "order_items", "web_sessions", "reviews", "returns"]
    }
    for index, (customer_id, currency) in enumerate(customers):
        # Late backfill (happened before AS_OF, landed after) and future events.
        for ordered_on, landed_on in [
            (AS_OF - timedelta(days=3), AS_OF + timedelta(days=2)),
            (AS_OF, AS_OF + timedelta(days=1)),
            (AS_OF + timedelta(days=5), AS_OF + timedelta(days=5)),
        ]:
            next_id += 1
            rows["orders"].append((landed_on, {
                "id": next_id, "customer_id": customer_id, "ordered_at": at(ordered_on),
                "channel": "web", "status": "delivered", "currency": currency,
                "shipping_amount": 4.95, "tax_amount": 3.80, "discount_code": None,
                "updated_at": at(ordered_on), "_loaded_at": at(landed_on, 13),
            }))
            rows["order_items"].append((landed_on, {
                "order_id": next_id, "line_number": 1, "product_id": product_id,
                "quantity": 2, "unit_price": 19.99, "discount_amount": 0.0,
                "_loaded_at": at(landed_on, 13),
            }))
            rows["web_sessions"].append((landed_on, {
                "id": next_id, "customer_id": customer_id, "started_at": at(ordered_on, 11),
                "pages_viewed": 4, "viewed_product_ids": [product_id],
                "_loaded_at": at(landed_on, 14),
            }))
            rows["reviews"].append((landed_on, {
                "id": next_id, "customer_id": customer_id, "product_id": product_id,
                "rating": 1 + index % 5, "review_text": "late review",
                "created_at": at(ordered_on, 18), "_loaded_at": at(landed_on, 19),
            }))
    for order_id, customer_id, ordered_at, channel, currency, shipping, tax, code in cancellable:
        rows["orders"].append((CANCELLED_ON, {
            "id": order_id, "customer_id": customer_id,
            "ordered_at": ordered_at.replace(tzinfo=UTC),
            "channel": channel, "status": "cancelled", "currency": currency,
            "shipping_amount": shipping, "tax_amount": tax, "discount_code": code,
            "updated_at": at(CANCELLED_ON, 9), "_loaded_at": at(CANCELLED_ON, 10),
        }))
    for order_id, returned_product in returnable:
        next_id += 1
        rows["returns"].append((AS_OF + timedelta(days=1), {
            "id": next_id, "order_id": order_id, "product_id": returned_product,
            "returned_at": at(AS_OF - timedelta(days=1)), "quantity": 1, "refund_amount": 1.00,
            "_loaded_at": at(AS_OF + timedelta(days=1)),
        }))
    return rows


def build_with_late_rows(built_warehouse, work_dir: Path, select: str) -> Path:
    """Raw data plus late_and_future_rows, built up to `select` and its parents."""
    raw_dir = work_dir / "raw"
    shutil.copytree(built_warehouse.raw_dir, raw_dir)
    with built_warehouse.connect() as con:
        planned = late_and_future_rows(con)
    for table, dated_rows in planned.items():
        for landed in sorted({landed for landed, _ in dated_rows}):
            append_rows(raw_dir, table, landed, [r for day, r in dated_rows if day == landed])
    db_path = work_dir / "warehouse.duckdb"
    run = run_dbt(
        [
            "build", "--select", f"+{select}", "--indirect-selection", "cautious",
            "--exclude", "resource_type:unit_test",
        ],
        raw_dir=raw_dir, db_path=db_path, work_dir=work_dir,
    )
    assert run.returncode == 0, "\n".join(run.failures()) + run.output[-3000:]
    return db_path


@pytest.fixture(scope="module")
def rebuilt_with_late_rows(built_warehouse, tmp_path_factory) -> Path:
    return build_with_late_rows(
        built_warehouse, tmp_path_factory.mktemp("leakage"), "feat_customer_daily"
    )


def read_feature_rows(db_path: Path, date_filter: str):
    """feat_customer_daily rows matching the filter, read from the warehouse file itself.

    Each warehouse is opened on its own: feat_customer_daily is a view whose SQL names its own
    database, so it cannot be read through an ATTACH under another name.
    """
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(
            f"select * from feat_customer_daily where {date_filter}"  # noqa: S608 - a constant
        ).to_arrow_table()


def changed_feature_rows(original: Path, rebuilt: Path, date_filter: str) -> int:
    original_rows = read_feature_rows(original, date_filter)  # noqa: F841 - read by DuckDB
    rebuilt_rows = read_feature_rows(rebuilt, date_filter)  # noqa: F841 - read by DuckDB
    with duckdb.connect() as con:
        return con.execute(
            """
            select count(*) from (
                (select * from original_rows except all select * from rebuilt_rows)
                union all
                (select * from rebuilt_rows except all select * from original_rows)
            )
            """
        ).fetchone()[0]


def test_late_and_future_rows_never_change_the_past(built_warehouse, rebuilt_with_late_rows):
    before = f"as_of_date <= date '{AS_OF.isoformat()}'"
    assert changed_feature_rows(built_warehouse.db_path, rebuilt_with_late_rows, before) == 0


def test_the_added_rows_do_change_later_days(built_warehouse, rebuilt_with_late_rows):
    after = f"as_of_date > date '{AS_OF.isoformat()}'"
    assert changed_feature_rows(built_warehouse.db_path, rebuilt_with_late_rows, after) > 0


def test_a_late_cancellation_counts_until_the_day_before_it_is_known(
    built_warehouse, rebuilt_with_late_rows
):
    """Orders cancelled on D+3: in every window up to D+2, gone from D+3 (and nothing else)."""
    with duckdb.connect(str(rebuilt_with_late_rows), read_only=True) as con:
        cancelled = dict(con.execute(
            "select customer_id, count(*) from stg_shop__orders where cancelled_at = ?"
            " group by customer_id", [at(CANCELLED_ON, 9).replace(tzinfo=None)]).fetchall())
    assert len(cancelled) >= 10, "the cancellations were staged as updates"
    days = [CANCELLED_ON - timedelta(days=1), CANCELLED_ON]
    rows = {}
    for name, db_path in (("original", built_warehouse.db_path),
                          ("rebuilt", rebuilt_with_late_rows)):
        table = read_feature_rows(db_path, "as_of_date in ({})".format(
            ", ".join(f"date '{day.isoformat()}'" for day in days)))
        rows[name] = {(r["customer_id"], r["as_of_date"]): r for r in table.to_pylist()}
    for customer_id, n_cancelled in cancelled.items():
        before = (customer_id, days[0])
        assert rows["rebuilt"][before]["orders_lifetime"] == rows["original"][before][
            "orders_lifetime"], customer_id
        on = (customer_id, days[1])
        for feature in ("orders_lifetime", "orders_30d"):
            assert rows["rebuilt"][on][feature] == (
                rows["original"][on][feature] - n_cancelled), (customer_id, feature)
