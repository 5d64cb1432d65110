"""End to end: `dbt build` on small generated data, then assertions on the tables it built.

The build itself runs every dbt data test (grains, contracts, the reconciliation test); these
tests check, independently of dbt, what a user relies on.
"""

from __future__ import annotations

import hashlib

import pytest

from retail_ml.summary import MAIN_TABLES, table_row_counts

pytestmark = pytest.mark.e2e

SOURCE_TABLES = {
    "customers": "stg_shop__customers",
    "products": "stg_shop__products",
    "orders": "stg_shop__order_status_history",
    "order_items": "stg_shop__order_items",
    "returns": "stg_shop__returns",
    "reviews": "stg_shop__reviews",
    "web_sessions": "stg_shop__web_sessions",
}


def raw_count(con, raw_dir, table: str) -> int:
    return con.execute(
        f"select count(*) from read_parquet('{raw_dir}/{table}/*/*.parquet')"  # noqa: S608
    ).fetchone()[0]


def test_every_main_table_has_rows(built_warehouse):
    counts = table_row_counts(built_warehouse.db_path, MAIN_TABLES)
    assert all(count > 0 for count in counts.values()), counts


def test_every_raw_row_is_staged_or_quarantined(built_warehouse):
    with built_warehouse.connect() as con:
        for table, staged_model in SOURCE_TABLES.items():
            raw = raw_count(con, built_warehouse.raw_dir, table)
            staged = con.execute(f"select count(*) from {staged_model}").fetchone()[0]  # noqa: S608
            quarantined = con.execute(
                "select count(*) from stg_shop__quarantined_rows where source_table = ?", [table]
            ).fetchone()[0]
            assert raw == staged + quarantined, (table, raw, staged, quarantined)
            assert quarantined > 0, f"the generator puts dirty rows in {table}"


# The generator's name for a dirty-row kind -> the quarantine rules that may catch it.
RULES_FOR_DIRTY_KIND = {
    "duplicate": {"duplicate_resend"},
    "unknown_foreign_key": {"unknown_customer", "unknown_order", "unknown_product"},
    "malformed_email": {"malformed"},
    "unknown_currency": {"not_accepted"},
    "negative_money": {"out_of_range"},
    "non_positive_quantity": {"out_of_range"},
    "rating_out_of_range": {"out_of_range"},
}


def test_every_dirty_row_is_caught_by_the_rule_meant_for_it(built_warehouse):
    """Quarantine counts per table and rule equal the generator's own count of dirty rows.

    Negative money and non-positive quantities are both out of their column's range; several
    kinds can share a rule, so the expected rules are per kind and column-agnostic here.
    """
    with built_warehouse.connect() as con:
        caught = con.execute(
            "select source_table, quarantine_rule, count(*)"
            " from stg_shop__quarantined_rows group by all"
        ).fetchall()
    expected: dict[tuple[str, frozenset[str]], int] = {}
    for table, kinds in built_warehouse.manifest["dirty_rows"].items():
        for kind, count in kinds.items():
            rules = frozenset(RULES_FOR_DIRTY_KIND.get(kind, {kind}))
            expected[(table, rules)] = expected.get((table, rules), 0) + count
    actual = {
        key: sum(n for table, rule, n in caught if table == key[0] and rule in key[1])
        for key in expected
    }
    assert actual == expected
    assert sum(n for *_, n in caught) == sum(expected.values()), "no clean row is quarantined"


def test_no_raw_pii_outside_staging(built_warehouse):
    with built_warehouse.connect() as con:
        pii_columns = con.execute(
            """
            select table_name, column_name from information_schema.columns
            where column_name in ('email', 'full_name', 'review_text')
            """
        ).fetchall()
        leaked_emails = con.execute(
            """
            select count(*) from stg_shop__quarantined_rows
            where raw_row_json like '%@example.%'
            """
        ).fetchone()[0]
    assert pii_columns == []
    assert leaked_emails == 0


def test_feature_rows_cover_every_known_customer_on_the_latest_day(built_warehouse):
    with built_warehouse.connect() as con:
        missing = con.execute(
            """
            select count(distinct c.customer_id)
            from stg_shop__customers as c
            cross join (select max(as_of_date) as last_date from feat_customer_serving) as d
            where cast(c.loaded_at as date) <= d.last_date
              and not exists (
                select 1 from feat_customer_serving as f where f.customer_id = c.customer_id
              )
            """
        ).fetchone()[0]
        signed_up_on_last_day = con.execute(
            """
            select count(*) from feat_customer_serving
            where signup_date = as_of_date and orders_30d = 0 and net_sales_30d = 0
              and tenure_days = 0 and is_new_customer
            """
        ).fetchone()[0]
    assert missing == 0
    assert signed_up_on_last_day > 0, "customers who signed up today are served"


@pytest.mark.parametrize("as_of", ["2026-03-31", "2026-08-15", "2026-11-25"])
def test_orders_30d_is_point_in_time(built_warehouse, as_of):
    """orders_30d recomputed from the staged status history, seeing only rows landed by the end
    of as_of: an order counts once a version of it landed, unless a cancelled version of it had
    (a cancellation known later does not reach back)."""
    with built_warehouse.connect() as con:
        mismatches = con.execute(
            f"""
            with known_versions as (
                select * from stg_shop__order_status_history
                where greatest(cast(loaded_at as date), cast(valid_from as date))
                    <= date '{as_of}'
            ),
            expected as (
                select o.customer_id, count(*) as orders_30d
                from stg_shop__orders as o
                where cast(o.ordered_at as date) between date '{as_of}' - 29 and date '{as_of}'
                  and o.order_id in (select order_id from known_versions)
                  and o.order_id not in (
                      select order_id from known_versions where is_cancelled)
                group by 1
            )
            select count(*)
            from feat_customer_daily as f
            left join expected as e on f.customer_id = e.customer_id
            where f.as_of_date = date '{as_of}'
              and f.orders_30d <> coalesce(e.orders_30d, 0)
            """  # noqa: S608
        ).fetchone()[0]
    assert mismatches == 0


def test_every_served_customer_is_scored_by_the_registered_model(built_warehouse):
    with built_warehouse.connect() as con:
        served = con.execute("select count(*) from feat_customer_serving").fetchone()[0]
        scores = con.execute(
            "select count(*), min(probability), max(probability), count(distinct model_version)"
            " from ml_customer_scores"
        ).fetchone()
        registry = con.execute(
            "select model_version, model_sha256, model_bytes from ml_model_registry"
        ).fetchall()
        unscored_versions = con.execute(
            "select count(*) from ml_customer_scores"
            " where model_version not in (select model_version from ml_model_registry)"
        ).fetchone()[0]
    assert scores[0] == served
    assert 0.0 <= scores[1] <= scores[2] <= 1.0
    assert scores[3] == 1 and unscored_versions == 0
    assert len(registry) == 1
    _, sha, model_bytes = registry[0]
    assert hashlib.sha256(bytes(model_bytes)).hexdigest() == sha


def test_model_beats_chance_on_validation(built_warehouse):
    with built_warehouse.connect() as con:
        auc = con.execute("select validation_roc_auc from ml_model_registry").fetchone()[0]
    assert auc > 0.6
