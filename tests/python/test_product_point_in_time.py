"""Leakage test for the product features: rows that happen, or land, after an as-of date D never
change feat_product_daily for D (the customer version is test_point_in_time.py, whose late and
future rows - orders, lines, reviews and returns of one product - are reused here).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from test_point_in_time import AS_OF, build_with_late_rows

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def products_rebuilt_with_late_rows(built_warehouse, tmp_path_factory) -> Path:
    return build_with_late_rows(
        built_warehouse, tmp_path_factory.mktemp("product_leakage"), "feat_product_daily"
    )


def changed_product_rows(original: Path, rebuilt: Path, date_filter: str) -> int:
    with duckdb.connect() as con:
        con.execute(f"attach '{original}' as original (read_only)")
        con.execute(f"attach '{rebuilt}' as rebuilt (read_only)")
        return con.execute(
            f"""
            select count(*) from (
                (select * exclude (is_latest) from original.feat_product_daily
                 where {date_filter}
                 except all
                 select * exclude (is_latest) from rebuilt.feat_product_daily
                 where {date_filter})
                union all
                (select * exclude (is_latest) from rebuilt.feat_product_daily
                 where {date_filter}
                 except all
                 select * exclude (is_latest) from original.feat_product_daily
                 where {date_filter})
            )
            """  # noqa: S608 - the filter is a constant of this module
        ).fetchone()[0]


def test_late_and_future_rows_never_change_past_product_features(
    built_warehouse, products_rebuilt_with_late_rows
):
    before = f"as_of_date <= date '{AS_OF.isoformat()}'"
    rebuilt = products_rebuilt_with_late_rows
    assert changed_product_rows(built_warehouse.db_path, rebuilt, before) == 0


def test_the_added_rows_do_change_later_product_days(
    built_warehouse, products_rebuilt_with_late_rows
):
    after = f"as_of_date > date '{AS_OF.isoformat()}'"
    rebuilt = products_rebuilt_with_late_rows
    assert changed_product_rows(built_warehouse.db_path, rebuilt, after) > 0
