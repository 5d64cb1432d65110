"""Probe: a landing partition of hostile rows of every domain never becomes a wrong number.

Copies the small generated landing zone the `built_warehouse` fixture built, adds one file of
hostile rows per table to the end date's partition, builds a second warehouse and asserts:
- every bad row is quarantined under the rule its one broken domain names;
- every good row (borderline cases the contract accepts) is staged;
- the build is green (every dbt test passes);
- no feature and no score changed for a customer no good row touched.

Every hostile row is derived from a clean row with exactly one thing changed, so exactly one
rule applies.
"""

# The probe builds SQL from ids it read from the warehouse itself, never from outside input.
# ruff: noqa: S608

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import BuiltWarehouse, run_dbt
from retail_ml.raw_contract import check_landing_zone
from retail_ml.summary import stale_tables

pytestmark = pytest.mark.e2e

LOAD_DAY = "2026-11-25"
LOADED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EVENT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BEFORE_OPENING = datetime(1965, 3, 1, tzinfo=UTC)
FILE = "part-hostile.parquet"
NEW_ID = 8_000_000_000_000  # above every generated id, below the generator's fake ids
NAN, INF = math.nan, math.inf


@dataclass
class Case:
    table: str
    row: dict
    expected: str | None  # the quarantine rule, or None: the row must be staged
    what: str


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def hostile_cases(con: duckdb.DuckDBPyConnection, raw: str) -> list[Case]:
    """The probe's rows. `con` reads the built (clean) warehouse; `raw` is a read_parquet macro."""
    # Templates: staged rows, so anything derived from one breaks only what the case changes.
    staged_version = """
        select r.* exclude (filename, file_row_number) from {raw}('customers') as r
        inner join stg_shop__customers as s
            on r.id = s.customer_id and timezone('UTC', r.updated_at) = s.updated_at
        where s.customer_id = ({pick}) order by r.updated_at {last} limit 1"""
    customer = _one(con, staged_version.format(
        raw=raw, last="", pick="select max(customer_id) from stg_shop__customers"
        " where signup_at < timestamp '2026-10-01'"))
    good_customer = _one(con, staged_version.format(
        raw=raw, last="desc", pick="select min(customer_id) from stg_shop__customers"))
    order = _one(con, f"""
        select r.* exclude (filename, file_row_number) from {raw}('orders') as r
        where r.id = (select min(order_id) from stg_shop__orders)
          and r.status <> 'cancelled'
        order by r.updated_at desc limit 1""")
    item = _one(con, f"""
        select r.* exclude (filename, file_row_number) from {raw}('order_items') as r
        where (r.order_id, r.line_number) in (
            select (order_id, line_number) from stg_shop__order_items
            where order_id = {order['id']})
        order by r.line_number limit 1""")
    other_product = con.execute(f"""
        select min(product_id) from stg_shop__products where product_id not in (
            select product_id from stg_shop__order_items where order_id = {order['id']})
    """).fetchone()[0]
    returned = _one(con, f"""
        select r.* exclude (filename, file_row_number) from {raw}('returns') as r
        where r.id = (select min(return_id) from stg_shop__returns
                      where refund_amount > 1 and quantity = 1) limit 1""")
    line_of_return = _one(con, f"""
        select quantity, cast(unit_price as double) as unit_price,
            cast(discount_amount as double) as discount_amount from stg_shop__order_items
        where order_id = {returned['order_id']} and product_id = {returned['product_id']}""")
    return_order = _one(con, "select ordered_at from stg_shop__orders where order_id = "
                        f"{returned['order_id']}")
    not_in_return_order = con.execute(f"""
        select min(product_id) from stg_shop__products where product_id not in (
            select product_id from stg_shop__order_items where order_id = {returned['order_id']})
    """).fetchone()[0]
    unreturned = _one(con, f"""
        select i.order_id, i.product_id, o.customer_id from stg_shop__order_items as i
        inner join stg_shop__orders as o on i.order_id = o.order_id
        where not o.is_cancelled and i.unit_price > 0 and o.ordered_at < timestamp '2026-08-01'
          and o.customer_id not in ({good_customer['id']}, {customer['id']})
          and not exists (select 1 from stg_shop__returns as r
                          where r.order_id = i.order_id and r.product_id = i.product_id)
        order by i.order_id limit 1""")
    product = _one(con, f"""
        select r.* exclude (filename, file_row_number) from {raw}('products') as r
        where r.id = (select min(product_id) from stg_shop__products) limit 1""")
    other_category = con.execute(
        f"select min(subcategory) from product_categories where category <> '{product['category']}'"
    ).fetchone()[0]
    review = _one(con, f"""
        select r.* exclude (filename, file_row_number) from {raw}('reviews') as r
        where r.id = (select min(review_id) from stg_shop__reviews) limit 1""")
    session = _one(con, f"""
        select r.* exclude (filename, file_row_number) from {raw}('web_sessions') as r
        where r.id = (select min(session_id) from stg_shop__web_sessions
                      where customer_id is not null
                        and products_viewed between 1 and pages_viewed - 1)
        limit 1""")

    ids = iter(range(NEW_ID, NEW_ID + 10_000))
    cases: list[Case] = []

    def add(table: str, template: dict, expected: str | None, what: str, *, keep_key=False,
            **changes) -> dict:
        row = {**template, "_loaded_at": LOADED}
        if not keep_key and "id" in row:
            row["id"] = next(ids)
        row.update(changes)
        cases.append(Case(table, row, expected, what))
        return row

    # -- customers: a new version of an existing customer (key id, updated_at) ------------------
    version = {**customer, "updated_at": EVENT}
    add("customers", version, "too_long", "e-mail of 20,000 characters", keep_key=True,
        email="a" * 19_990 + "@x.example", updated_at=EVENT + timedelta(seconds=1))
    add("customers", version, "blank_string", "empty e-mail", keep_key=True, email="",
        updated_at=EVENT + timedelta(seconds=2))
    add("customers", version, "malformed", "e-mail without @", keep_key=True,
        email="nobody.example.com", updated_at=EVENT + timedelta(seconds=3))
    add("customers", version, "missing_value", "null e-mail", keep_key=True, email=None,
        updated_at=EVENT + timedelta(seconds=4))
    add("customers", version, "not_accepted", "SQL in country", keep_key=True,
        country="'); drop table x; --", updated_at=EVENT + timedelta(seconds=5))
    add("customers", version, "not_accepted", "unknown signup channel", keep_key=True,
        signup_channel="fax", updated_at=EVENT + timedelta(seconds=6))
    add("customers", version, "before_opening", "signed up in 1965", keep_key=True,
        signup_at=BEFORE_OPENING, updated_at=EVENT + timedelta(seconds=7))
    add("customers", version, "missing_value", "null marketing consent", keep_key=True,
        marketing_opt_in=None, updated_at=EVENT + timedelta(seconds=8))
    add("customers", version, "too_long", "name of 300 characters", keep_key=True,
        full_name="N" * 300, updated_at=EVENT + timedelta(seconds=9))
    add("customers", version, "null_key", "null id", keep_key=True, id=None,
        updated_at=EVENT + timedelta(seconds=10))
    add("customers", version, "future_timestamp", "version after its landing", keep_key=True,
        updated_at=LOADED + timedelta(hours=1))
    add("customers", version, "loaded_outside_partition", "landed on another day than its file",
        keep_key=True, updated_at=EVENT - timedelta(days=6),
        _loaded_at=LOADED - timedelta(days=5))
    add("customers", version, "updated_before_signup", "version before the signup", keep_key=True,
        signup_at=EVENT, updated_at=EVENT - timedelta(hours=1))
    add("customers", customer, "duplicate_resend", "the same version re-sent", keep_key=True)
    add("customers", customer, "conflicting_duplicate", "same version, other country",
        keep_key=True, country="IE" if customer["country"] != "IE" else "FR")
    bad_customer = add("customers", version, "malformed", "a new customer, bad e-mail",
                       email="x@@y.example", updated_at=EVENT)
    # Good: internationalised e-mail (accepted: anything@domain.tld without spaces).
    add("customers", {**good_customer, "updated_at": EVENT}, None,
        "new version with an internationalised e-mail", keep_key=True,
        email="josé.müller@exämple.de")

    # -- products ------------------------------------------------------------------------------
    p = {**product, "launched_at": EVENT}
    add("products", p, "not_finite", "NaN list price", list_price=NAN)
    add("products", p, "not_finite", "+Inf list price", list_price=INF)
    add("products", p, "not_finite", "-Inf list price", list_price=-INF)
    add("products", p, "out_of_range", "list price of 1e9", list_price=1e9)
    add("products", p, "out_of_range", "negative list price", list_price=-0.01)
    add("products", p, "not_accepted", "unknown category", category="weapons")
    add("products", p, "not_accepted", "subcategory of another category",
        subcategory=other_category)
    add("products", p, "blank_string", "blank name", name="   ")
    add("products", p, "too_long", "brand of 500 characters", brand="B" * 500)
    add("products", p, "before_opening", "launched in 1965", launched_at=BEFORE_OPENING)
    add("products", p, "future_timestamp", "launch announced 400 days ahead",
        launched_at=LOADED + timedelta(days=400))
    add("products", product, "conflicting_duplicate", "same id, other price", keep_key=True,
        list_price=product["list_price"] + 1)
    bad_product = add("products", p, "missing_value", "a new product without price",
                      list_price=None)
    add("products", p, None, "pre-announced product (launch in 30 days)",
                       launched_at=LOADED + timedelta(days=30))

    # -- orders (customer of the template order) -----------------------------------------------
    o = {**order, "ordered_at": EVENT, "updated_at": EVENT, "customer_id": customer["id"]}
    add("orders", o, "not_accepted", "SQL in channel", channel="'); drop table x; --")
    add("orders", o, "not_accepted", "unknown status", status="lost")
    add("orders", o, "missing_value", "null status", status=None)
    add("orders", o, "not_accepted", "unknown currency", currency="XXX")
    add("orders", o, "not_finite", "NaN shipping", shipping_amount=NAN)
    add("orders", o, "not_finite", "+Inf tax", tax_amount=INF)
    add("orders", o, "out_of_range", "negative shipping", shipping_amount=-5.0)
    add("orders", o, "out_of_range", "shipping of 1e9", shipping_amount=1e9)
    add("orders", o, "malformed", "discount code with a space", discount_code="WELCOME 10")
    add("orders", o, "too_long", "discount code of 100 characters", discount_code="X" * 100)
    add("orders", o, "blank_string", "empty discount code", discount_code="")
    add("orders", o, "before_opening", "ordered in 1965", ordered_at=BEFORE_OPENING)
    add("orders", o, "future_timestamp", "ordered after it landed",
        ordered_at=LOADED + timedelta(days=30))
    add("orders", o, "unknown_customer", "unknown customer", customer_id=NEW_ID + 9_999_000)
    add("orders", o, "missing_value", "null customer", customer_id=None)
    add("orders", o, "parent_quarantined", "customer quarantined",
        customer_id=bad_customer["id"])
    add("orders", order, "conflicting_duplicate", "re-sent as cancelled", keep_key=True,
        status="cancelled" if order["status"] != "cancelled" else "placed")
    add("orders", order, "duplicate_resend", "re-sent unchanged", keep_key=True)
    # The change stream: a version is (id, updated_at); a later one with a new status is an
    # update and is staged (a late cancellation of an old order), not a duplicate.
    add("orders", order, None, "status update: cancelled, later updated_at", keep_key=True,
        status="cancelled", updated_at=EVENT)
    add("orders", o, "updated_before_ordered", "a version older than the order",
        updated_at=EVENT - timedelta(hours=1))
    add("orders", o, "null_key", "null updated_at", updated_at=None)
    bad_order = add("orders", o, "not_accepted", "an order with an unknown status", status="??")
    good_order = add("orders", {**o, "customer_id": good_customer["id"]}, None,
                     "cancelled order of the touched customer", status="cancelled",
                     discount_code=None)

    # -- order items (new lines of the template order) -----------------------------------------
    lines = iter(range(100, 1000))
    i = {**item, "product_id": other_product}

    def add_item(expected, what, **changes):
        return add("order_items", {**i, "line_number": next(lines)}, expected, what, **changes)

    add_item("out_of_range", "zero quantity", quantity=0)
    add_item("out_of_range", "quantity 5,000", quantity=5_000)
    add_item("missing_value", "null quantity", quantity=None)
    add_item("not_finite", "NaN unit price", unit_price=NAN)
    add_item("not_finite", "-Inf discount", discount_amount=-INF)
    add_item("out_of_range", "unit price 1e9", unit_price=1e9)
    add_item("discount_exceeds_line", "discount 500 on a line worth 1", quantity=1,
             unit_price=1.0, discount_amount=500.0)
    add_item("out_of_range", "line number 0", line_number=0)
    add_item("unknown_product", "unknown product", product_id=NEW_ID + 9_999_001)
    add_item("parent_quarantined", "product quarantined", product_id=bad_product["id"])
    add_item("unknown_order", "unknown order", order_id=NEW_ID + 9_999_002)
    add_item("parent_quarantined", "order quarantined", order_id=bad_order["id"])
    add_item("product_repeated_in_order", "product already on another line of the order",
             product_id=item["product_id"])
    add("order_items", item, "conflicting_duplicate", "same line, other quantity",
        quantity=item["quantity"] + 1)
    add("order_items", item, "duplicate_resend", "same line re-sent")
    add("order_items", {**i, "order_id": good_order["id"], "line_number": 1}, None,
        "free gift at price 0", unit_price=0.0, discount_amount=0.0, quantity=1)

    # -- returns -------------------------------------------------------------------------------
    r = {**returned, "returned_at": EVENT}
    paid = line_of_return["unit_price"] - (line_of_return["discount_amount"] or 0) / (
        line_of_return["quantity"])
    add("returns", r, "out_of_range", "refund of 1e9", refund_amount=1e9)
    add("returns", r, "refund_exceeds_paid", "refund above what was paid",
        refund_amount=round(paid + 5, 2))
    add("returns", r, "not_finite", "NaN refund", refund_amount=NAN)
    add("returns", r, "return_exceeds_ordered", "more units returned than bought",
        quantity=line_of_return["quantity"] + 1, refund_amount=0.0)
    add("returns", r, "returned_before_ordered", "returned before it was ordered",
        returned_at=return_order["ordered_at"].replace(tzinfo=UTC) - timedelta(days=1))
    add("returns", r, "before_opening", "returned in 1965", returned_at=BEFORE_OPENING)
    add("returns", r, "product_not_in_order", "product not in the order",
        product_id=not_in_return_order)
    add("returns", r, "parent_quarantined", "order quarantined", order_id=bad_order["id"])
    add("returns", r, "unknown_order", "unknown order", order_id=NEW_ID + 9_999_003)
    add("returns", returned, "duplicate_resend", "return re-sent", keep_key=True)
    add("returns", {**r, "order_id": unreturned["order_id"], "product_id": unreturned["product_id"],
                    "quantity": 1}, None, "zero refund (accepted)", refund_amount=0.0)

    # -- reviews -------------------------------------------------------------------------------
    v = {**review, "created_at": EVENT, "customer_id": customer["id"]}
    add("reviews", v, "out_of_range", "rating 0", rating=0)
    add("reviews", v, "out_of_range", "rating 6", rating=6)
    add("reviews", v, "missing_value", "null rating", rating=None)
    add("reviews", v, "too_long", "text of 20,000 characters", review_text="t" * 20_000)
    add("reviews", v, "before_opening", "written in 1965", created_at=BEFORE_OPENING)
    add("reviews", v, "future_timestamp", "written after it landed",
        created_at=LOADED + timedelta(days=2))
    add("reviews", v, "unknown_customer", "unknown customer", customer_id=NEW_ID + 9_999_004)
    add("reviews", v, "parent_quarantined", "customer quarantined",
        customer_id=bad_customer["id"])
    add("reviews", v, "parent_quarantined", "product quarantined", product_id=bad_product["id"])
    add("reviews", review, "conflicting_duplicate", "same review, other rating", keep_key=True,
        rating=1 if review["rating"] != 1 else 2)
    add("reviews", {**v, "customer_id": good_customer["id"]}, None,
        "review with an empty text (accepted)", review_text="")

    # -- web sessions --------------------------------------------------------------------------
    s = {**session, "started_at": EVENT, "customer_id": customer["id"]}
    add("web_sessions", s, "out_of_range", "pages_viewed = -5", pages_viewed=-5)
    add("web_sessions", s, "out_of_range", "pages_viewed = 0", pages_viewed=0,
        viewed_product_ids=[])
    add("web_sessions", s, "missing_value", "null pages_viewed", pages_viewed=None)
    add("web_sessions", s, "out_of_range", "a null product id", viewed_product_ids=[None])
    add("web_sessions", s, "out_of_range", "a negative product id", viewed_product_ids=[-1])
    add("web_sessions", s, "out_of_range", "2,000 products viewed", pages_viewed=5_000,
        viewed_product_ids=[1] * 2_000)
    add("web_sessions", s, "more_products_than_pages", "more products than pages",
        pages_viewed=1, viewed_product_ids=[1, 2])
    add("web_sessions", s, "missing_value", "null product list", viewed_product_ids=None)
    add("web_sessions", s, "before_opening", "started in 1965", started_at=BEFORE_OPENING)
    add("web_sessions", s, "unknown_customer", "unknown customer",
        customer_id=NEW_ID + 9_999_005)
    add("web_sessions", session, "duplicate_resend", "session re-sent", keep_key=True)
    add("web_sessions", {**s, "customer_id": None}, None, "anonymous session")
    return cases


# Schema drift in the same partition: the orders file carries a column the contract lacks.
NEW_COLUMN = ("orders", "coupon_campaign")


def write_hostile_partition(raw_dir: Path, cases: list[Case]) -> None:
    for table in {case.table for case in cases}:
        schema = pq.read_schema(next((raw_dir / table).glob("*/*.parquet")))
        rows = [case.row for case in cases if case.table == table]
        data = pa.Table.from_pylist(rows, schema=schema)
        if table == NEW_COLUMN[0]:
            data = data.append_column(NEW_COLUMN[1], pa.array(["x"] * data.num_rows))
        out = raw_dir / table / f"load_date={LOAD_DAY}"
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(data, out / FILE)


def raw_row_id(case: Case, cases: list[Case]) -> str:
    index = [c for c in cases if c.table == case.table].index(case)
    return f"{case.table}/load_date={LOAD_DAY}/{FILE}:{index}"


@pytest.fixture(scope="module")
def probe(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory):
    work_dir = tmp_path_factory.mktemp("hostile")
    raw_dir = work_dir / "raw"
    shutil.copytree(built_warehouse.raw_dir, raw_dir)
    with built_warehouse.connect() as con:
        con.execute(f"""
            create temp macro raw(t) as table
            select * from read_parquet('{built_warehouse.raw_dir}/' || t || '/*/*.parquet',
                                       hive_partitioning = false, filename = true,
                                       file_row_number = true)""")
        cases = hostile_cases(con, "raw")
    write_hostile_partition(raw_dir, cases)
    db_path = work_dir / "warehouse.duckdb"
    run = run_dbt(["build"], raw_dir=raw_dir, db_path=db_path, work_dir=work_dir)
    return cases, BuiltWarehouse(raw_dir=raw_dir, db_path=db_path, manifest={}), run


def test_the_build_stays_green(probe):
    _, _, run = probe
    assert run.returncode == 0 and not run.failures(), "\n".join(run.failures())


def test_the_new_column_is_reported_and_ignored(probe):
    _, warehouse, _ = probe
    report = check_landing_zone(warehouse.raw_dir)
    assert report.ok
    assert report.warnings == [
        f"raw table {NEW_COLUMN[0]}, file {NEW_COLUMN[0]}/load_date={LOAD_DAY}/{FILE}:"
        f" column '{NEW_COLUMN[1]}' is not in the contract; ignored"
    ]
    with warehouse.connect() as con:
        columns = {row[0] for row in con.execute(
            "select column_name from information_schema.columns"
            " where table_name in ('stg_shop__orders', 'base_shop__orders')").fetchall()}
    assert NEW_COLUMN[1] not in columns


def test_each_bad_row_is_quarantined_under_its_rule(probe):
    cases, warehouse, _ = probe
    with warehouse.connect() as con:
        rules = dict(con.execute(
            "select raw_row_id, quarantine_rule from stg_shop__quarantined_rows"
            f" where raw_row_id like '%/{FILE}:%'").fetchall())
    wrong = [
        f"{case.table}: {case.what}: expected {case.expected},"
        f" got {rules.get(raw_row_id(case, cases))}"
        for case in cases
        if rules.get(raw_row_id(case, cases)) != case.expected
    ]
    assert not wrong, "\n".join(wrong)
    assert sum(case.expected is not None for case in cases) >= 80


KEYS = {
    "customers": ("stg_shop__customers", "customer_id = ? and updated_at = ?",
                  ("id", "updated_at")),
    "products": ("stg_shop__products", "product_id = ?", ("id",)),
    "orders": ("stg_shop__order_status_history", "order_id = ? and valid_from = ?",
               ("id", "updated_at")),
    "order_items": ("stg_shop__order_items", "order_id = ? and line_number = ?",
                    ("order_id", "line_number")),
    "returns": ("stg_shop__returns", "return_id = ?", ("id",)),
    "reviews": ("stg_shop__reviews", "review_id = ?", ("id",)),
    "web_sessions": ("stg_shop__web_sessions", "session_id = ?", ("id",)),
}


def test_each_good_row_is_staged(probe):
    cases, warehouse, _ = probe
    good = [case for case in cases if case.expected is None]
    assert {case.table for case in good} == set(KEYS)
    with warehouse.connect() as con:
        for case in good:
            model, where, columns = KEYS[case.table]
            params = [case.row[c].replace(tzinfo=None) if isinstance(case.row[c], datetime)
                      else case.row[c] for c in columns]
            staged = con.execute(f"select count(*) from {model} where {where}", params)  # noqa: S608
            assert staged.fetchone()[0] == 1, f"{case.table}: {case.what} is not staged"


def touched_customers(cases: list[Case], con) -> set[int]:
    """Customers a good row may legitimately change: its own, or its order's customer."""
    touched = set()
    for case in cases:
        if case.expected is not None:
            continue
        if case.row.get("customer_id") is not None:
            touched.add(case.row["customer_id"])
        if case.table == "customers":
            touched.add(case.row["id"])
        if case.table in {"order_items", "returns"}:
            found = con.execute("select customer_id from stg_shop__orders where order_id = ?",
                                [case.row["order_id"]]).fetchone()
            touched.add(found[0])
    return touched


@pytest.mark.parametrize(("table", "exclude"), [
    ("feat_customer_serving", ""),
    # decile is a cross-sectional rank of the scores: it may move when a touched customer's
    # probability does; the probability itself must not.
    ("ml_customer_scores", "exclude (decile)"),
])
def test_no_feature_or_score_changes_for_untouched_customers(probe, built_warehouse, table,
                                                             exclude):
    cases, warehouse, _ = probe
    with warehouse.connect() as con:
        touched = touched_customers(cases, con)
        con.execute(f"attach '{built_warehouse.db_path}' as baseline (read_only)")
        query = """
            select * {exclude} from {db}.{table}
            where customer_id not in (select unnest(?::bigint[]))
        """
        changed = con.execute(f"""
            ({query.format(exclude=exclude, db='baseline.main', table=table)})
            except all
            ({query.format(exclude=exclude, db='main', table=table)})
        """, [sorted(touched), sorted(touched)]).fetchall()  # noqa: S608
        counts = [con.execute(f"select count(*) from {db}.{table}").fetchone()[0]  # noqa: S608
                  for db in ("baseline.main", "main")]
    assert changed == [], f"{len(changed)} rows of untouched customers changed in {table}"
    assert counts[0] == counts[1]


def test_a_failed_build_reports_its_stale_tables(probe, tmp_path):
    """A quality gate failing (seeded: an unreachable AUC) skips scoring; the summary says so."""
    _, warehouse, _ = probe
    db_path = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse.db_path, db_path)
    run = run_dbt(["build", "--select", "ml_model_registry+",
                   "--vars", "{ml_min_validation_auc: 0.999}"],
                  raw_dir=warehouse.raw_dir, db_path=db_path, work_dir=tmp_path)
    assert run.returncode != 0
    stale = stale_tables(tmp_path / "target" / "run_results.json")
    assert stale.get("ml_customer_scores") == "skipped", stale
