"""Tests for retail_ml.recommend.inputs: what is known as of a day."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from retail_ml.recommend import build_catalog, customers_as_of, purchases_as_of

AS_OF = date(2026, 6, 30)


def test_purchases_as_of_skips_cancelled_future_and_late_landed_lines():
    lines = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2],
            "product_id": [10, 10, 11, 12, 13],
            "is_cancelled": [False, False, True, False, False],
            "order_date": [date(2026, 6, 1), date(2026, 6, 20), date(2026, 6, 2),
                           date(2026, 7, 1), date(2026, 6, 30)],
            "known_at": [datetime(2026, 6, 1, 9), datetime(2026, 6, 20, 9),
                         datetime(2026, 6, 2, 9), datetime(2026, 7, 1, 9),
                         datetime(2026, 7, 1, 0, 5)],  # 13 landed after the day ended
        }
    )
    history = purchases_as_of(lines, AS_OF)
    assert history[["customer_id", "product_id"]].values.tolist() == [[1, 10]]
    assert history["last_order_date"].iloc[0] == pd.Timestamp("2026-06-20")


def test_catalog_flags_repurchase_and_launch():
    products = pd.DataFrame(
        {
            "product_id": [3, 1, 2],
            "product_name": ["c", "a", "b"],
            "category": ["grocery", "grocery", "toys"],
            "subcategory": ["coffee", "coffee", "new_thing"],
            "launched_at": [datetime(2026, 6, 30, 23), datetime(2025, 1, 1),
                            datetime(2026, 7, 1)],
        }
    )
    categories = pd.DataFrame(
        {"category": ["grocery"], "subcategory": ["coffee"], "is_repurchase_typical": [True]}
    )
    catalog = build_catalog(products, categories, AS_OF)
    assert catalog.product_ids.tolist() == [1, 2, 3]
    assert catalog.is_repurchase_typical.tolist() == [True, False, True]
    assert catalog.is_launched.tolist() == [True, False, True], "launched on the day counts"
    assert catalog.positions(pd.Series([3, 99, 1])).tolist() == [2, -1, 0]
    with pytest.raises(ValueError, match="duplicate"):
        build_catalog(pd.concat([products, products]), categories, AS_OF)


def test_customers_as_of_takes_the_version_valid_that_day():
    versions = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3],
            "country_code": ["DE", "FR", "NL", "BE"],
            "signup_channel": ["web", "web", "social", "web"],
            "valid_from_date": [date(2026, 1, 1), date(2026, 7, 1), date(2026, 6, 30),
                                date(2026, 7, 1)],
            "valid_to_date": [date(2026, 7, 1), None, None, None],
        }
    )
    customers = customers_as_of(versions, AS_OF)
    assert customers.values.tolist() == [[1, "DE", "web"], [2, "NL", "social"]]
