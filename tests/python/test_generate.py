"""Tests for the synthetic raw-data generator (scale `small`, generated once per session).

The checks read the written Parquet back with DuckDB and test it against the raw data contract
(docs/raw_data_contract.md) independently of the generator's own code.
"""
# SQL here is assembled from module constants (table names, seed codes), never from input.
# ruff: noqa: S608

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_ml.generate import OutputExistsError, generate
from retail_ml.generate.__main__ import main

END = date(2026, 5, 31)  # not the default, so nothing silently relies on it
START = END - timedelta(days=364)  # `small` keeps 365 days of history
END_MAX = "2026-05-31 23:59:59.999999+00"
SEED = 7
SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
TABLES = ("customers", "products", "orders", "order_items", "returns", "reviews",
          "web_sessions")

TS = pa.timestamp("us", tz="UTC")
CONTRACT = {  # column -> Arrow type, straight from the contract's table
    "customers": {"id": pa.int64(), "email": pa.string(), "full_name": pa.string(),
                  "country": pa.string(), "signup_channel": pa.string(), "signup_at": TS,
                  "marketing_opt_in": pa.bool_(), "updated_at": TS, "_loaded_at": TS},
    "products": {"id": pa.int64(), "name": pa.string(), "category": pa.string(),
                 "subcategory": pa.string(), "brand": pa.string(), "list_price": pa.float64(),
                 "launched_at": TS, "_loaded_at": TS},
    "orders": {"id": pa.int64(), "customer_id": pa.int64(), "ordered_at": TS,
               "channel": pa.string(), "status": pa.string(), "currency": pa.string(),
               "shipping_amount": pa.float64(), "tax_amount": pa.float64(),
               "discount_code": pa.string(), "updated_at": TS, "_loaded_at": TS},
    "order_items": {"order_id": pa.int64(), "line_number": pa.int32(),
                    "product_id": pa.int64(), "quantity": pa.int32(),
                    "unit_price": pa.float64(), "discount_amount": pa.float64(),
                    "_loaded_at": TS},
    "returns": {"id": pa.int64(), "order_id": pa.int64(), "product_id": pa.int64(),
                "returned_at": TS, "quantity": pa.int32(), "refund_amount": pa.float64(),
                "_loaded_at": TS},
    "reviews": {"id": pa.int64(), "customer_id": pa.int64(), "product_id": pa.int64(),
                "rating": pa.int32(), "review_text": pa.string(), "created_at": TS,
                "_loaded_at": TS},
    "web_sessions": {"id": pa.int64(), "customer_id": pa.int64(), "started_at": TS,
                     "pages_viewed": pa.int32(), "viewed_product_ids": pa.list_(pa.int64()),
                     "_loaded_at": TS},
}  # fmt: skip


def _seed_values(file: str, column: str) -> list[str]:
    with (SEEDS_DIR / file).open(newline="") as fh:
        return [row[column] for row in csv.DictReader(fh)]


def _sql_list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


CURRENCIES = _sql_list(_seed_values("currencies.csv", "currency_code"))

# Independent detectors, one per dirty kind: rows breaking exactly the rule the kind names.
DUPLICATE = """select coalesce(sum(n - 1), 0) from (
    select count(*) as n from {t} group by {columns})"""
DETECTORS: dict[tuple[str, str], str] = {
    ("customers", "null_key"): "select count(*) from customers where id is null",
    ("customers", "malformed_email"): """select count(*) from customers where
        email not like '%@%' or email like '% %' or email like '%@%@%'""",
    ("products", "null_key"): "select count(*) from products where id is null",
    ("products", "negative_money"): "select count(*) from products where list_price < 0",
    ("orders", "null_key"): "select count(*) from orders where id is null",
    ("orders", "unknown_foreign_key"): """select count(*) from orders where customer_id not in
        (select id from customers where id is not null)""",
    ("orders", "future_timestamp"): f"select count(*) from orders where ordered_at > '{END_MAX}'",
    ("orders", "unknown_currency"): f"""select count(*) from orders
        where currency not in ({CURRENCIES})""",
    ("order_items", "null_key"): """select count(*) from order_items
        where order_id is null or line_number is null""",
    ("order_items", "unknown_foreign_key"): """select count(*) from order_items where
        (order_id is not null and order_id not in (select id from orders where id is not null))
        or product_id not in (select id from products where id is not null)""",
    ("order_items", "non_positive_quantity"): """select count(*) from order_items
        where quantity <= 0""",
    ("order_items", "negative_money"): "select count(*) from order_items where unit_price < 0",
    ("returns", "null_key"): "select count(*) from returns where id is null",
    ("returns", "unknown_foreign_key"): """select count(*) from returns where
        order_id not in (select id from orders where id is not null)
        or product_id not in (select id from products where id is not null)""",
    ("returns", "non_positive_quantity"): "select count(*) from returns where quantity <= 0",
    ("returns", "negative_money"): "select count(*) from returns where refund_amount < 0",
    ("reviews", "null_key"): "select count(*) from reviews where id is null",
    ("reviews", "unknown_foreign_key"): """select count(*) from reviews where
        customer_id not in (select id from customers where id is not null)
        or product_id not in (select id from products where id is not null)""",
    ("reviews", "future_timestamp"): f"select count(*) from reviews where created_at > '{END_MAX}'",
    ("reviews", "rating_out_of_range"): """select count(*) from reviews
        where rating not between 1 and 5""",
    ("web_sessions", "null_key"): "select count(*) from web_sessions where id is null",
    ("web_sessions", "unknown_foreign_key"): """select count(*) from web_sessions
        where customer_id not in (select id from customers where id is not null)""",
    ("web_sessions", "future_timestamp"): f"""select count(*) from web_sessions
        where started_at > '{END_MAX}'""",
}  # fmt: skip
for _table in TABLES:
    _columns = ", ".join(c for c in CONTRACT[_table] if c != "_loaded_at")
    DETECTORS[(_table, "duplicate")] = DUPLICATE.format(t=_table, columns=_columns)

# Clean rows: a view per table without any dirty row (used by the realism checks).
CLEAN = {
    "customers": "select * from customers where id is not null and email like '%@%' "
    "and email not like '% %' and email not like '%@%@%'",
    # One row per order: its latest version (the orders feed is a change stream).
    "orders": f"select * from orders where id is not null and ordered_at <= '{END_MAX}' "
    f"and currency in ({CURRENCIES}) and customer_id < 1000000000 "
    "qualify row_number() over (partition by id order by updated_at desc, _loaded_at desc) = 1",
    "order_versions": f"select * from orders where id is not null and ordered_at <= '{END_MAX}' "
    f"and currency in ({CURRENCIES}) and customer_id < 1000000000",
    "order_items": "select * from order_items where order_id < 1000000000 "
    "and line_number is not null and quantity > 0 and unit_price >= 0 "
    "and product_id < 1000000000",
    "web_sessions": f"select * from web_sessions where id is not null "
    f"and started_at <= '{END_MAX}' and coalesce(customer_id, 0) < 1000000000",
    "reviews": f"select * from reviews where id is not null and created_at <= '{END_MAX}' "
    "and rating between 1 and 5 and customer_id < 1000000000 and product_id < 1000000000",
}


def _sha256s(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _connect(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for t in TABLES:
        con.execute(f"create view {t} as select * from read_parquet('{root}/{t}/*/*.parquet', "
                    "hive_partitioning = false)")
    for t, sql in CLEAN.items():
        con.execute(f"create view clean_{t} as {sql}")
    return con


@pytest.fixture(scope="session")
def raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("raw")
    manifest = generate(out, scale="small", seed=SEED, end_date=END)
    return out, manifest


@pytest.fixture(scope="session")
def con(raw: tuple[Path, dict]) -> duckdb.DuckDBPyConnection:
    return _connect(raw[0])


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_same_seed_same_bytes_other_seed_differs(raw, tmp_path: Path) -> None:
    root, _ = raw
    again = tmp_path / "again"
    generate(again, scale="small", seed=SEED, end_date=END)
    first, second = _sha256s(root), _sha256s(again)
    assert len(first) > 7 * 300  # one file per table and load day
    assert first == second
    other = tmp_path / "other"
    generate(other, scale="small", seed=SEED + 1, end_date=END)
    third = _sha256s(other)
    shared = set(first) & set(third)
    assert sum(first[p] != third[p] for p in shared) > 0.9 * len(shared)


def test_manifest_matches_written_rows(raw, con) -> None:
    root, manifest = raw
    assert json.loads((root / "_manifest.json").read_text()) == manifest
    assert manifest["scale"] == "small" and manifest["seed"] == SEED
    assert manifest["end_date"] == END.isoformat()
    assert manifest["start_date"] == START.isoformat()
    for t in TABLES:
        assert _one(con, f"select count(*) from {t}") == manifest["rows"][t], t
        assert manifest["rows"][t] == manifest["clean_rows"][t] + sum(
            manifest["dirty_rows"][t].values())


def test_every_dirty_kind_present_and_detectable(raw, con) -> None:
    _, manifest = raw
    expected_kinds = {t for t, _ in DETECTORS}
    assert set(manifest["dirty_rows"]) == expected_kinds
    for (table, kind), sql in DETECTORS.items():
        declared = manifest["dirty_rows"][table][kind]
        assert declared >= 3, (table, kind)
        assert _one(con, sql) == declared, (table, kind)
    for table, kinds in manifest["dirty_rows"].items():
        assert set(kinds) == {k for t, k in DETECTORS if t == table}, table
        # "about 0.5%", with the per-kind floor dominating only on tiny tables.
        share = sum(kinds.values()) / manifest["rows"][table]
        assert share < 0.05 and (share < 0.008 or sum(kinds.values()) <= 3 * len(kinds))


def test_schema_layout_and_sort_order(raw) -> None:
    root, _ = raw
    for t, columns in CONTRACT.items():
        parts = sorted((root / t).glob("load_date=*/part-0.parquet"))
        assert parts, t
        assert all(p.parent.name[len("load_date="):] <= END.isoformat() for p in parts)
        schema = pq.read_schema(parts[0])
        assert {f.name: f.type for f in schema} == columns, t
        assert schema.names == list(columns), t
        table = pq.read_table(parts[len(parts) // 2])
        day = parts[len(parts) // 2].parent.name[len("load_date="):]
        loaded = table["_loaded_at"].to_pylist()
        assert {x.date().isoformat() for x in loaded} == {day}, t
    ids = pq.read_table(sorted((root / "orders").glob("*/part-0.parquet"))[-1])["id"]
    values = [v for v in ids.to_pylist() if v is not None]
    assert values == sorted(values) and ids.to_pylist()[: len(values)] == values  # nulls last


def test_loaded_at_never_after_end_and_never_before_event(con) -> None:
    events = {"customers": "updated_at", "orders": "updated_at", "returns": "returned_at",
              "reviews": "created_at", "web_sessions": "started_at"}
    for t in TABLES:
        assert _one(con, f"select count(*) from {t} where _loaded_at > '{END_MAX}'") == 0, t
        assert _one(con, f"select min(_loaded_at) from {t}").date() >= START, t
    for t, event in events.items():
        early = _one(con, f"select count(*) from {t} where _loaded_at < {event} "
                          f"and {event} <= '{END_MAX}'")
        assert early == 0, t
        late = _one(con, f"select avg((_loaded_at - {event} > interval 1 day)::int) from {t}")
        assert 0.002 < late < 0.03, t  # ~1% arrive 1-7 days late


def test_customers_sign_up_every_day_including_the_end_date(con) -> None:
    days = _one(con, "select count(distinct signup_at::date) from clean_customers")
    assert days == (END - START).days + 1
    on_end = _one(con, f"select count(distinct id) from clean_customers "
                       f"where signup_at::date = '{END}'")
    assert on_end >= 1
    first_versions = _one(con, """select count(*) from (select id, min(updated_at) u,
        min(signup_at) s from clean_customers group by id) where u <> s""")
    assert first_versions == 0
    with_versions = _one(con, """select avg((n > 1)::int) from (select id,
        count(distinct updated_at) n from clean_customers group by id)""")
    assert 0.08 < with_versions < 0.25


def test_no_activity_before_signup_or_launch(con) -> None:
    signup = "(select id, min(signup_at) signup_at from clean_customers group by id)"
    for t, col in (("orders", "ordered_at"), ("web_sessions", "started_at"),
                   ("reviews", "created_at")):
        early = _one(con, f"select count(*) from clean_{t} x join {signup} c "
                          f"on c.id = x.customer_id where x.{col} < c.signup_at")
        assert early == 0, t
    before_launch = _one(con, """select count(*) from clean_order_items i
        join clean_orders o on o.id = i.order_id
        join (select * from products where id is not null) p on p.id = i.product_id
        where o.ordered_at < p.launched_at""")
    assert before_launch == 0
    assert _one(con, f"""select count(*) from products where id is not null
        and launched_at > '{END_MAX}'""") == 0


def test_clean_rows_stay_within_seeds_and_money_rules(con) -> None:
    countries = _sql_list(_seed_values("countries.csv", "country_code"))
    outside = f"select count(*) from clean_customers where country not in ({countries})"
    assert _one(con, outside) == 0
    pairs = list(zip(_seed_values("product_categories.csv", "category"),
                     _seed_values("product_categories.csv", "subcategory"), strict=True))
    found = con.execute("select distinct category, subcategory from products").fetchall()
    assert set(found) <= set(pairs)
    # Order currency is the customer's country currency at the time of the order.
    wrong_currency = _one(con, f"""select count(*) from clean_orders o
        asof join clean_customers v on v.id = o.customer_id and o.ordered_at >= v.updated_at
        join read_csv('{SEEDS_DIR / 'countries.csv'}') k on k.country_code = v.country
        where k.currency_code <> o.currency""")
    assert wrong_currency == 0
    mispriced = _one(con, f"""select count(*) from clean_order_items i
        join clean_orders o on o.id = i.order_id
        join (select * from products where id is not null and list_price > 0) p
          on p.id = i.product_id
        join read_csv('{SEEDS_DIR / 'currencies.csv'}') c on c.currency_code = o.currency
        where abs(i.unit_price - round(p.list_price / c.eur_per_unit, 2)) > 1e-9""")
    assert mispriced == 0
    bad_returns = _one(con, """select count(*) from returns r
        join clean_order_items i on i.order_id = r.order_id and i.product_id = r.product_id
        join clean_orders o on o.id = r.order_id
        where r.id is not null and r.quantity > 0 and r.refund_amount >= 0 and (
            r.quantity > i.quantity
            or r.refund_amount > i.quantity * i.unit_price - i.discount_amount + 1e-9
            or r.returned_at < o.ordered_at + interval 3 day
            or r.returned_at > o.ordered_at + interval 40 day
            or o.status <> 'delivered')""")
    assert bad_returns == 0
    status = dict(con.execute("""select status, count(*) / sum(count(*)) over ()
        from clean_orders group by status""").fetchall())
    assert 0.03 < status["cancelled"] < 0.07 and status["delivered"] > 0.8
    code_share = _one(con, "select avg((discount_code is not null)::int) from clean_orders")
    assert 0.08 < code_share < 0.25
    anonymous = _one(con, "select avg((customer_id is null)::int) from clean_web_sessions")
    assert 0.25 < anonymous < 0.35


def test_seasonality_weekly_and_heavy_tail(con) -> None:
    by_weekday = dict(con.execute("""select dayofweek(ordered_at), count(*)
        from clean_orders group by 1""").fetchall())
    weekday_avg = sum(by_weekday[d] for d in range(1, 6)) / 5
    assert by_weekday[0] > 1.1 * weekday_avg  # Sunday peak
    per_customer = con.execute("""select count(*) n from clean_orders
        group by customer_id order by n desc""").fetchnumpy()["n"]
    assert (per_customer == 1).mean() > 0.1  # many one-time buyers
    assert per_customer[: len(per_customer) // 100].sum() > 0.05 * per_customer.sum()


def test_behavioural_signal_predicts_next_30_days(con) -> None:
    cutoff = "2026-04-15 00:00:00+00"
    rates = dict(con.execute(f"""
        with c as (select id from clean_customers where signup_at < '{cutoff}' group by id),
        f as (select c.id,
            exists (select 1 from clean_orders o where o.customer_id = c.id
                    and o.ordered_at between timestamp '{cutoff}' - interval 30 day
                    and '{cutoff}') as recent,
            exists (select 1 from clean_orders o where o.customer_id = c.id
                    and o.ordered_at > '{cutoff}'
                    and o.ordered_at <= timestamp '{cutoff}' + interval 30 day) as label
            from c)
        select recent, avg(label::int) from f group by recent""").fetchall())
    assert rates[True] > 2.0 * rates[False]
    assert rates[True] < 0.95 and rates[False] > 0.02  # a signal, not a give-away


def test_api_refuses_to_overwrite(raw) -> None:
    root, _ = raw
    with pytest.raises(OutputExistsError):
        generate(root, scale="small", seed=SEED, end_date=END)


def test_cli_skips_same_refuses_different_and_force_rewrites(tmp_path: Path, capsys) -> None:
    out = tmp_path / "raw"
    (out / "orders" / "load_date=2020-01-01").mkdir(parents=True)
    marker = out / "orders" / "load_date=2020-01-01" / "part-0.parquet"
    marker.write_bytes(b"old")
    manifest = {"scale": "small", "seed": 1, "end_date": END.isoformat()}
    (out / "_manifest.json").write_text(json.dumps(manifest))
    unrelated = out / "keep.txt"
    unrelated.write_text("not ours")

    args = ["--scale", "small", "--end-date", END.isoformat(), "--out", str(out)]
    assert main([*args, "--seed", "1"]) == 0  # same request: skip
    assert "skipping" in capsys.readouterr().err
    assert main([*args, "--seed", "2"]) == 1  # different request: refuse
    assert "--force" in capsys.readouterr().err
    assert marker.read_bytes() == b"old"

    assert main([*args, "--seed", "2", "--force"]) == 0
    assert not marker.exists()
    assert unrelated.read_text() == "not ours"
    assert json.loads((out / "_manifest.json").read_text())["seed"] == 2


def test_order_status_changes_land_as_new_versions_when_they_happen(con) -> None:
    """The orders feed is a change stream: a version (same id, later updated_at) per status."""
    versions = con.execute("""
        select id, list(status order by updated_at) as path,
            min(updated_at) = min(ordered_at) as placed_when_ordered,
            count(*) = count(distinct updated_at) as distinct_versions,
            count(distinct (customer_id, ordered_at, currency, channel)) = 1 as same_header,
            max(case when status = 'cancelled' then updated_at - ordered_at end) as cancel_delay
        from (select distinct * exclude (_loaded_at) from clean_order_versions)  -- re-sends
        group by id""").fetchall()
    paths = {tuple(row[1]) for row in versions}
    assert paths == {("placed",), ("placed", "shipped"), ("placed", "shipped", "delivered"),
                     ("placed", "cancelled")}
    assert all(row[2] and row[3] and row[4] for row in versions)
    delays = [row[5] for row in versions if row[5] is not None]
    # Mostly within hours, some days after the order: "cancelled on D+3" happens.
    assert sum(d > timedelta(days=3) for d in delays) > 0.1 * len(delays)
    assert sum(d < timedelta(days=1) for d in delays) > 0.4 * len(delays)
    # Each version lands when its status changes, not with the order.
    landed_later = _one(con, """select avg((_loaded_at::date > ordered_at::date)::int)
        from clean_order_versions where status <> 'placed'""")
    assert landed_later > 0.5
    # Returns and reviews come after delivery.
    early = _one(con, """select count(*) from returns r join clean_order_versions o
        on o.id = r.order_id and o.status = 'delivered' where r.returned_at < o.updated_at""")
    assert early == 0
