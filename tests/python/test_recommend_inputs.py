"""Tests for retail_ml.recommend.inputs: the SQL inputs of one as-of date, as matrices' inputs.

What was known when is decided in SQL (int_recommender_order_lines.known_date,
int_product_catalogue_requested; tested by dbt and tests/python/test_recommendations_e2e.py);
these helpers only keep the rows of a date.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from retail_ml.recommend import build_catalog, order_lines_as_of, purchase_history, rows_as_of
from retail_ml.recommend.inputs import single_day

AS_OF = date(2026, 6, 30)


def catalogue() -> pd.DataFrame:
    # As arrow_to_model_frame gives it: booleans as 0.0/1.0, null as NaN.
    return pd.DataFrame(
        {
            "product_id": [3, 1, 2],
            "product_name": ["c", "a", "b"],
            "category": ["grocery", "grocery", "toys"],
            "is_repurchase_typical": [1.0, 1.0, np.nan],
            "is_launched": [1.0, 1.0, 0.0],
            "launched_date": [date(2026, 1, 3), date(2026, 1, 1), date(2026, 7, 2)],
        }
    )


def test_catalog_is_in_product_order_with_its_flags():
    catalog = build_catalog(catalogue())
    assert catalog.product_ids.tolist() == [1, 2, 3]
    assert catalog.product_names.tolist() == ["a", "b", "c"]
    assert catalog.is_repurchase_typical.tolist() == [True, False, True], "null = not typical"
    assert catalog.is_launched.tolist() == [True, False, True]
    assert catalog.launched_dates[1] == np.datetime64("2026-07-02")
    assert catalog.positions(pd.Series([3, 99, 1])).tolist() == [2, -1, 0]
    names, codes = catalog.category_codes
    assert names.tolist() == ["grocery", "toys"] and codes.tolist() == [0, 1, 0]


def test_catalog_refuses_duplicates_missing_columns_and_no_rows():
    with pytest.raises(ValueError, match="duplicate"):
        build_catalog(pd.concat([catalogue(), catalogue()]))
    with pytest.raises(ValueError, match="is_launched"):
        build_catalog(catalogue().drop(columns="is_launched"))
    with pytest.raises(ValueError, match="catalogue is empty"):
        build_catalog(catalogue().iloc[0:0])


def order_lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [2, 1, 1, 1, 1],
            "order_id": [20, 11, 10, 10, 12],
            "product_id": [5, 7, 6, 7, 7],
            "order_date": [date(2026, 6, 1), date(2026, 6, 20), date(2026, 5, 2),
                           date(2026, 5, 2), date(2026, 6, 30)],
            # Order 12 was placed on the as-of date but landed the day after: not known yet.
            "known_date": [date(2026, 6, 1), date(2026, 6, 20), date(2026, 5, 2),
                           date(2026, 5, 2), date(2026, 7, 1)],
            # Order 11 is cancelled; the cancellation lands on 2026-07-03.
            "retracted_date": [None, date(2026, 7, 3), None, None, None],
        }
    )


def test_order_lines_as_of_keeps_the_lines_known_by_the_end_of_the_day():
    known = order_lines_as_of(order_lines(), AS_OF)
    assert sorted(known["order_id"].tolist()) == [10, 10, 11, 20]
    assert pd.api.types.is_datetime64_any_dtype(known["order_date"])
    assert len(order_lines_as_of(order_lines(), date(2026, 7, 1))) == 5
    assert order_lines_as_of(order_lines(), date(2026, 5, 1)).empty
    with pytest.raises(ValueError, match="duplicate"):
        order_lines_as_of(pd.concat([order_lines(), order_lines()]), AS_OF)
    with pytest.raises(ValueError, match="known_date"):
        order_lines_as_of(order_lines().drop(columns="known_date"), AS_OF)


def test_a_cancelled_order_counts_until_its_cancellation_is_known():
    """The engine's retraction rule: known <= D < retracted_date."""
    assert 11 in order_lines_as_of(order_lines(), date(2026, 7, 2))["order_id"].tolist()
    assert 11 not in order_lines_as_of(order_lines(), date(2026, 7, 3))["order_id"].tolist()
    assert len(order_lines_as_of(order_lines(), date(2026, 7, 3))) == 4


def test_purchase_history_counts_orders_and_keeps_the_last_date():
    history = purchase_history(order_lines_as_of(order_lines(), AS_OF))
    assert history[["customer_id", "product_id", "orders"]].values.tolist() == [
        [1, 6, 1], [1, 7, 2], [2, 5, 1]
    ]
    assert history["last_order_date"].iloc[1] == pd.Timestamp("2026-06-20")
    assert purchase_history(order_lines_as_of(order_lines(), date(2026, 1, 1))).empty


def test_rows_as_of_picks_one_date_and_single_day_insists_on_one():
    frame = pd.DataFrame(
        {"customer_id": [1, 2, 3],
         "as_of_date": [AS_OF, date(2026, 5, 31), pd.Timestamp(AS_OF)]}
    )
    assert rows_as_of(frame, AS_OF, "frame")["customer_id"].tolist() == [1, 3]
    assert rows_as_of(frame, date(2026, 1, 1), "frame").empty
    assert single_day(frame.iloc[[0, 2]], "as_of_date", "frame") == np.datetime64(AS_OF, "D")
    with pytest.raises(ValueError, match="exactly one as_of_date, found 2"):
        single_day(frame, "as_of_date", "frame")
    with pytest.raises(ValueError, match="as_of_date"):
        rows_as_of(frame.drop(columns="as_of_date"), AS_OF, "frame")
