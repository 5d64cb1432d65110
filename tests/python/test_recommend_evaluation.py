"""Tests for retail_ml.recommend.evaluation: metrics by hand, and the offline evaluation."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from retail_ml.recommend import RecommenderConfig, evaluate_recommenders, ranking_metrics

AS_OF = date(2026, 6, 30)


def recs(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "rank"])


def bought(rows: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "product_id"])


def test_hit_rate_and_recall_on_a_hand_made_example():
    recommendations = recs(
        [
            (1, 10, 1), (1, 11, 2), (1, 20, 3),  # customer 1: hits 10 and 20 of {10, 20, 30, 40}
            (2, 50, 1), (2, 51, 2),  # customer 2: no hit
            (4, 60, 1),  # customer 4 bought nothing: not evaluated
        ]
    )
    actual = bought([(1, 10), (1, 20), (1, 30), (1, 40), (1, 10), (2, 52), (3, 70)])
    metrics = ranking_metrics(recommendations, actual, k=10)
    # Customer 3 bought but got no recommendations: a miss.
    assert metrics["customers"] == 3
    assert metrics["hit_rate_at_k"] == pytest.approx(1 / 3)
    assert metrics["recall_at_k"] == pytest.approx((2 / 4 + 0 + 0) / 3)


def test_recommendations_beyond_k_do_not_count():
    recommendations = recs([(1, 10, 1), (1, 20, 2), (1, 30, 3)])
    actual = bought([(1, 30)])
    assert ranking_metrics(recommendations, actual, k=2)["hit_rate_at_k"] == 0.0
    assert ranking_metrics(recommendations, actual, k=3)["recall_at_k"] == 1.0


def test_nothing_bought_is_a_clear_error():
    with pytest.raises(ValueError, match="actual purchases is empty"):
        ranking_metrics(recs([(1, 10, 1)]), bought([]), k=10)
    with pytest.raises(ValueError, match="missing required columns"):
        ranking_metrics(recs([(1, 10, 1)]).drop(columns="rank"), bought([(1, 10)]), k=10)


# A tiny shop: products 1-12 (1-2 coffee, repurchase-typical); pairs (3, 4) and (5, 6) are
# always bought together; popularity favours 7. Customers buy one of a pair before the cutoff
# and its partner after it: co-purchase should find the partner, popularity should not. The
# frames are what the SQL models hold (int_recommender_evaluation_customers,
# int_customer_products_purchased, int_product_catalogue_requested,
# int_recommender_evaluation_purchases).
CUTOFF = AS_OF - timedelta(days=30)
CATALOGUE = pd.DataFrame(
    {
        "product_id": list(range(1, 13)),
        "product_name": [f"P{p}" for p in range(1, 13)],
        "category": ["grocery"] * 2 + ["home"] * 10,
        "is_repurchase_typical": [True] * 2 + [False] * 10,
        "is_launched": [True] * 12,
        "as_of_date": [CUTOFF] * 12,
    }
)


@pytest.fixture
def shop() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    before = CUTOFF - timedelta(days=20)
    history, actual = [], []
    for customer in range(1, 41):  # history: both products of a pair, and the best seller 7
        history += [(customer, 3 + 2 * (customer % 2), before),
                    (customer, 4 + 2 * (customer % 2), before), (customer, 7, before)]
    for customer in range(100, 120):  # evaluated: bought one of a pair, then its partner
        first = 3 + 2 * (customer % 2)
        history.append((customer, first, before))
        actual.append((customer, first + 1))
    actual.append((200, 8))  # signed up before the cutoff, first order after it
    purchases = pd.DataFrame(history, columns=["customer_id", "product_id", "last_order_date"])
    purchases["as_of_date"] = CUTOFF
    ids = [*range(1, 41), *range(100, 120), 200]
    customers = pd.DataFrame(
        {"customer_id": ids, "country_code": "DE", "signup_channel": "web", "as_of_date": CUTOFF}
    )
    bought = pd.DataFrame(actual, columns=["customer_id", "product_id"]).assign(
        cutoff_date=CUTOFF, evaluation_end_date=AS_OF
    )
    return customers, purchases, bought


def test_offline_evaluation_rows_and_copurchase_beating_popularity(shop):
    customers, purchases, actual = shop
    metrics = evaluate_recommenders(
        customers, purchases, CATALOGUE, actual, config=RecommenderConfig(k=2)
    )
    assert len(metrics) == 5 * 2
    assert not metrics.duplicated(["method", "metric"]).any()
    assert set(metrics["metric"]) == {"hit_rate_at_2", "recall_at_2"}
    assert metrics["value"].between(0, 1).all()
    assert (metrics["customers_evaluated"] == 21).all(), "20 pair buyers + the first-timer"
    assert (metrics["cutoff_date"] == CUTOFF).all()
    assert (metrics["evaluation_end_date"] == AS_OF).all()
    served = metrics.loc[metrics["is_served_method"], "method"].unique().tolist()
    assert served == ["copurchase_cosine"]
    value = metrics.set_index(["method", "metric"])["value"]
    assert value["copurchase_cosine", "hit_rate_at_2"] == pytest.approx(20 / 21)
    assert value["popularity_global", "hit_rate_at_2"] < value["copurchase_cosine", "hit_rate_at_2"]


def test_offline_evaluation_uses_only_the_cutoffs_rows(shop):
    customers, purchases, actual = shop
    expected = evaluate_recommenders(customers, purchases, CATALOGUE, actual)
    # Rows of another date (the serving day) in the shared inputs change nothing.
    other_day = purchases.assign(as_of_date=AS_OF, product_id=9)
    unlaunched = CATALOGUE.assign(as_of_date=AS_OF, is_launched=False)
    metrics = evaluate_recommenders(
        customers,
        pd.concat([purchases, other_day], ignore_index=True),
        pd.concat([CATALOGUE, unlaunched], ignore_index=True),
        actual,
    )
    pd.testing.assert_frame_equal(metrics, expected)


def test_offline_evaluation_refuses_inconsistent_inputs(shop):
    customers, purchases, actual = shop
    with pytest.raises(ValueError, match="purchases after the cutoff"):
        evaluate_recommenders(customers, purchases, CATALOGUE, actual.iloc[0:0])
    with pytest.raises(ValueError, match="customers existing on the evaluation cutoff is empty"):
        evaluate_recommenders(customers.iloc[0:0], purchases, CATALOGUE, actual)
    with pytest.raises(ValueError, match="different cutoffs"):
        evaluate_recommenders(
            customers, purchases, CATALOGUE, actual.assign(cutoff_date=AS_OF)
        )
    with pytest.raises(ValueError, match="unknown at the cutoff"):
        evaluate_recommenders(customers[customers["customer_id"] != 200], purchases,
                              CATALOGUE, actual)
