"""Tests for retail_ml.recommend.recommender (and the serving entry point) on tiny frames.

The catalogue rules (on sale, no non-repurchase product again, k rows, determinism) are tested
for every method; the scoring of each method on its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from retail_ml.recommend import (
    RecommenderConfig,
    build_catalog,
    order_lines_as_of,
    recommend,
    recommend_for_serving,
    recommend_from_lines,
    top_k_of_pairs,
)
from retail_ml.recommend.recommender import METHODS

AS_OF = date(2026, 6, 30)
# product id -> (category, subcategory); 1 and 2 are coffee (repurchase-typical).
SUBCATEGORY_OF = {
    **{p: ("grocery", "coffee") for p in (1, 2)},
    **{p: ("home", "kitchen") for p in range(3, 9)},
    **{p: ("books", "fiction") for p in range(9, 16)},
}
UNLAUNCHED = 15
LAUNCH_OF_UNLAUNCHED = date(2026, 7, 5)


def products_frame(as_of: date = AS_OF) -> pd.DataFrame:
    """The catalogue as int_product_catalogue_requested holds it for ``as_of``."""
    ids = sorted(SUBCATEGORY_OF)
    repurchase = {("grocery", "coffee")}
    return pd.DataFrame(
        {
            "product_id": ids,
            "product_name": [f"Product {p}" for p in ids],
            "category": [SUBCATEGORY_OF[p][0] for p in ids],
            "subcategory": [SUBCATEGORY_OF[p][1] for p in ids],
            "is_repurchase_typical": [SUBCATEGORY_OF[p] in repurchase for p in ids],
            "is_launched": [p != UNLAUNCHED or as_of >= LAUNCH_OF_UNLAUNCHED for p in ids],
            "launched_date": [
                LAUNCH_OF_UNLAUNCHED if p == UNLAUNCHED else date(2025, 1, 1) for p in ids
            ],
            "as_of_date": as_of,
        }
    )


def line(customer: int, product: int, day: date, order: int | None = None) -> dict:
    """A line as int_recommender_order_lines holds it: one order per customer and day unless
    ``order`` says otherwise; known the day it was placed."""
    order_id = order if order is not None else customer * 100_000 + day.toordinal() % 100_000
    return {"customer_id": customer, "order_id": order_id, "product_id": product,
            "order_date": day, "known_date": day, "retracted_date": None}


def customers_frame(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "country_code", "signup_channel"])


def lines_frame(rows: list[dict]) -> pd.DataFrame:
    columns = ["customer_id", "order_id", "product_id", "order_date", "known_date",
               "retracted_date"]
    return pd.DataFrame(rows, columns=columns).drop_duplicates(["order_id", "product_id"])


@pytest.fixture
def world() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers 1-6 buy products 3 and 4 together (strong co-purchase); everyone in DE/web
    buys 9; customer 7 (FR/web) buys 10; customer 20 signed up today and bought nothing."""
    day = AS_OF - timedelta(days=10)
    rows = []
    for customer in range(1, 7):
        rows += [line(customer, 3, day), line(customer, 4, day), line(customer, 9, day)]
    rows += [line(7, 10, day), line(8, 1, day), line(8, 3, day)]
    customers = customers_frame(
        [(c, "DE", "web") for c in range(1, 7)]
        + [(7, "FR", "web"), (8, "DE", "web"), (20, "DE", "web"), (21, "FR", "referral"),
           (22, "ZZ", "web")]
    )
    return customers, lines_frame(rows)


def run(customers, lines, **config) -> pd.DataFrame:
    """Recommend with ``config`` (the co-purchase method unless ``method`` is given)."""
    config = {"method": "copurchase", **config}
    return recommend(
        customers, lines, products_frame(), as_of=AS_OF, config=RecommenderConfig(**config)
    )


every_method = pytest.mark.parametrize("method", METHODS)


@every_method
def test_output_columns_and_exactly_k_rows_per_customer(world, method):
    customers, lines = world
    recs = run(customers, lines, method=method)
    assert list(recs.columns) == [
        "customer_id", "product_id", "rank", "score", "reason", "as_of_date"
    ]
    counts = recs.groupby("customer_id").size()
    assert set(counts.index) == set(customers["customer_id"])
    assert (counts == 10).all()
    for _, ranks in recs.groupby("customer_id")["rank"]:
        assert ranks.tolist() == list(range(1, 11))
    assert (recs["as_of_date"] == AS_OF).all()
    assert recs["score"].ge(0).all()
    ordered = recs.sort_values(["customer_id", "rank"])
    assert (ordered.groupby("customer_id")["score"].diff().dropna() <= 0).all()


@every_method
def test_fewer_rows_only_when_fewer_products_are_eligible(world, method):
    customers, lines = world
    recs = run(customers, lines, k=20, method=method)
    # 15 products, one not launched; customer 1 bought 3, 4 and 9 (none repurchase-typical).
    assert len(recs[recs["customer_id"] == 1]) == 14 - 3
    assert len(recs[recs["customer_id"] == 20]) == 14


@every_method
def test_bought_products_are_excluded(world, method):
    customers, lines = world
    recs = run(customers, lines, method=method)
    bought = lines[["customer_id", "product_id"]]
    again = recs.merge(bought, on=["customer_id", "product_id"])
    assert set(again["product_id"]) <= {1, 2}, "only repurchase-typical products come back"


def test_repurchase_typical_products_can_be_recommended_again(world):
    customers, lines = world
    recs = run(customers, lines)
    mine = recs[recs["customer_id"] == 8].set_index("product_id")
    assert 1 in mine.index, "customer 8 bought coffee 1: repurchase-typical, may buy again"
    assert mine.loc[1, "reason"] == "buy again"
    assert 3 not in mine.index, "customer 8 bought kitchen product 3: not again"


@every_method
def test_products_not_launched_by_the_as_of_date_are_excluded(world, method):
    customers, lines = world
    # Make the unlaunched product the most popular one: it still must not be recommended.
    day = AS_OF - timedelta(days=1)
    lines = pd.concat(
        [lines, lines_frame([line(c, UNLAUNCHED, day) for c in range(1, 7)])],
        ignore_index=True,
    )
    recs = run(customers, lines, method=method)
    assert UNLAUNCHED not in set(recs["product_id"])
    later = recommend(
        customers, lines, products_frame(LAUNCH_OF_UNLAUNCHED), as_of=LAUNCH_OF_UNLAUNCHED,
        config=RecommenderConfig(method=method),
    )
    assert UNLAUNCHED in set(later["product_id"]), "recommendable once on sale"


def test_copurchased_product_comes_first_with_its_reason():
    day = AS_OF - timedelta(days=5)
    rows = [line(c, 3, day) for c in range(1, 6)] + [line(c, 4, day) for c in range(1, 6)]
    rows += [line(c, 9, day) for c in range(10, 30)]  # 9 is the best seller
    rows += [line(50, 3, day)]  # customer 50 bought only 3
    customers = customers_frame([(c, "DE", "web") for c in [*range(1, 6), *range(10, 30), 50]])
    recs = run(customers, lines_frame(rows))
    top = recs[(recs["customer_id"] == 50) & (recs["rank"] == 1)].iloc[0]
    assert top["product_id"] == 4
    assert top["reason"] == "bought with Product 3"


def test_cold_start_new_customer_gets_segment_popularity(world):
    customers, lines = world
    recs = run(customers, lines)
    new = recs[recs["customer_id"] == 20].set_index("rank")
    # DE/web buyers mostly bought 9, 3 and 4 (6 buyers each; ties by product id), then 1 (1).
    assert list(new.loc[1:3, "product_id"]) == [3, 4, 9]
    assert new.loc[1, "reason"] == "popular in DE among web sign-ups"


def test_cold_start_falls_back_to_country_then_shop(world):
    customers, lines = world
    # Little shrinkage: FR's single buyer is enough to outweigh the shop's best sellers.
    recs = run(customers, lines, popularity_shrinkage=1.0)
    # FR/referral has no buyers: FR's popularity (customer 7 bought 10) comes first.
    french = recs[recs["customer_id"] == 21].set_index("rank")
    assert french.loc[1, "product_id"] == 10
    assert french.loc[1, "reason"] == "popular in FR"
    # ZZ has no buyers at all: the shop's best sellers, explained as such.
    unknown_country = recs[recs["customer_id"] == 22].set_index("rank")
    assert list(unknown_country.loc[1:3, "product_id"]) == [3, 4, 9]
    assert unknown_country.loc[1, "reason"] == "popular overall"


def test_customer_with_no_purchases_and_no_sales_anywhere_still_gets_k_products():
    customers = customers_frame([(1, "DE", "web")])
    recs = run(customers, lines_frame([]))
    assert list(recs["product_id"]) == list(range(1, 11)), "ties broken by product id"
    assert (recs["reason"] == "popular overall").all()


@every_method
def test_deterministic_whatever_the_input_order(world, method):
    customers, lines = world
    first = run(customers, lines, method=method)
    rng = np.random.default_rng(0)
    products = products_frame()
    shuffled = recommend(
        customers.iloc[rng.permutation(len(customers))],
        lines.iloc[rng.permutation(len(lines))],
        products.iloc[rng.permutation(len(products))],
        as_of=AS_OF,
        config=RecommenderConfig(chunk_size=2, method=method),
    )
    pd.testing.assert_frame_equal(first, shuffled)
    pd.testing.assert_frame_equal(first, run(customers, lines, method=method))


def test_top_k_of_pairs_breaks_ties_by_column_and_skips_excluded():
    scores = np.array(
        [
            [1.0, 3.0, 3.0, 0.5],
            [2.0, -np.inf, 2.0, 2.0],
            [-np.inf, -np.inf, -np.inf, 1.0],
        ]
    )
    rows, columns = (index.ravel() for index in np.indices(scores.shape))
    top = top_k_of_pairs(rows, columns, scores.ravel(), 2)
    assert top.rows.tolist() == [0, 0, 1, 1, 2]
    assert top.columns.tolist() == [1, 2, 0, 2, 3]
    assert top.ranks.tolist() == [1, 2, 1, 2, 1]


@pytest.mark.parametrize("which", ["customers", "catalogue"])
def test_empty_input_raises_a_clear_error(world, which):
    customers, lines = world
    products = products_frame()
    if which == "customers":
        customers = customers.iloc[0:0]
    else:
        products = products.iloc[0:0]
    with pytest.raises(ValueError, match=f"{which} is empty"):
        recommend(customers, lines, products, as_of=AS_OF)


def test_missing_columns_and_bad_parameters_raise(world):
    customers, lines = world
    with pytest.raises(ValueError, match="signup_channel"):
        recommend(customers.drop(columns="signup_channel"), lines, products_frame(),
                  as_of=AS_OF)
    with pytest.raises(ValueError, match="is_launched"):
        recommend(customers, lines, products_frame().drop(columns="is_launched"), as_of=AS_OF)
    with pytest.raises(ValueError, match="unknown recommender parameters"):
        RecommenderConfig.from_mapping({"k": 10, "neighbors": 5})
    with pytest.raises(ValueError, match="k must be"):
        RecommenderConfig(k=0)


def test_serving_uses_its_date_and_the_parameters_the_backtest_tuned(world):
    customers, lines = world
    serving = customers.assign(as_of_date=AS_OF)
    # The catalogue holds several dates (serving day, backtest cutoffs): only AS_OF's count;
    # a line known after AS_OF is not seen.
    later = LAUNCH_OF_UNLAUNCHED
    lines = pd.concat([lines, lines_frame([line(20, 4, later)])], ignore_index=True)
    catalogue = pd.concat([products_frame(), products_frame(later)], ignore_index=True)
    tuned = RecommenderConfig(k=5, basket_weight=0.7)
    metrics = pd.DataFrame(
        {
            "method": ["blend", "blend", "buy_again"],
            "parameters_json": [json.dumps(asdict(tuned))] * 2 + ["{}"],
        }
    )
    recs = recommend_for_serving(serving, lines, catalogue, metrics)
    expected = recommend(customers, lines, products_frame(), as_of=AS_OF, config=tuned)
    pd.testing.assert_frame_equal(recs, expected)
    assert (recs.groupby("customer_id").size() == 5).all()
    assert (recs["as_of_date"] == AS_OF).all()
    mixed = serving.assign(as_of_date=[AS_OF] * (len(serving) - 1) + [date(2026, 6, 29)])
    with pytest.raises(ValueError, match="exactly one as_of_date"):
        recommend_for_serving(mixed, lines, catalogue, metrics)
    with pytest.raises(ValueError, match="catalogue is empty"):
        recommend_for_serving(
            serving.assign(as_of_date=date(2026, 1, 1)), lines, catalogue, metrics
        )
    with pytest.raises(ValueError, match="one set of blend parameters"):
        recommend_for_serving(serving, lines, catalogue, metrics.iloc[2:])


def test_no_target_customers_gives_an_empty_frame_with_the_columns(world):
    customers, lines = world
    empty = recommend_from_lines(
        customers,
        order_lines_as_of(lines, AS_OF),
        build_catalog(products_frame()),
        as_of=AS_OF,
        config=RecommenderConfig(),
        for_customers=np.array([999]),
    )
    assert empty.empty
    assert list(empty.columns) == [
        "customer_id", "product_id", "rank", "score", "reason", "as_of_date"
    ]


def test_blend_recommends_the_basket_partner_of_the_latest_order():
    """Product 4 is bought in the same basket as 3 by everyone; 9 sells best overall."""
    day = AS_OF - timedelta(days=5)
    rows = [line(c, p, day) for c in range(1, 6) for p in (3, 4)]
    rows += [line(c, 9, day) for c in range(10, 30)]
    rows += [line(50, 3, day)]
    customers = customers_frame([(c, "DE", "web") for c in [*range(1, 6), *range(10, 30), 50]])
    recs = run(customers, lines_frame(rows), method="blend")
    top = recs[(recs["customer_id"] == 50) & (recs["rank"] == 1)].iloc[0]
    assert top["product_id"] == 4
    assert top["reason"] == "bought with Product 3"


def test_blend_recommends_what_follows_in_the_next_order():
    """Whoever ordered 5 ordered 6 in their next order (never in the same basket)."""
    first, second = AS_OF - timedelta(days=40), AS_OF - timedelta(days=20)
    rows = [line(c, 5, first) for c in range(1, 8)] + [line(c, 6, second) for c in range(1, 8)]
    rows += [line(c, 9, second) for c in range(10, 30)]
    rows += [line(50, 5, AS_OF - timedelta(days=1))]
    customers = customers_frame([(c, "DE", "web") for c in [*range(1, 8), *range(10, 30), 50]])
    mine = run(customers, lines_frame(rows), method="blend").query("customer_id == 50")
    top = mine.set_index("rank").loc[1]
    assert top["product_id"] == 6 and top["reason"] == "bought with Product 5"
    # Without the next-order part, 6 is only a popular product of the customer's category.
    without_next = run(customers, lines_frame(rows), method="blend", next_order_weight=0.0)
    six = without_next.query("customer_id == 50 and product_id == 6").iloc[0]
    assert six["reason"] == "popular in home" and six["score"] < top["score"]


def test_blend_follows_the_customers_category_and_buys_consumables_again():
    """Customer 60 bought books only: the best-selling books they have not read come first,
    though kitchen sells best in the shop; coffee bought recently comes back."""
    day = AS_OF - timedelta(days=3)
    rows = [line(c, p, day - timedelta(days=c)) for c in range(1, 20) for p in (3, 4, 5)]
    rows += [line(c, p, day - timedelta(days=c)) for c in range(30, 36) for p in (13, 14)]
    rows += [line(60, p, day - timedelta(days=30 - p)) for p in (9, 10, 11, 12)]
    rows += [line(61, 1, day)]
    customers = customers_frame([(c, "DE", "web") for c in [*range(1, 20), *range(30, 36), 60, 61]])
    recs = run(customers, lines_frame(rows), method="blend")
    sixty = recs.query("customer_id == 60").set_index("rank")
    assert list(sixty.loc[1:2, "product_id"]) == [13, 14]
    assert sixty.loc[1, "reason"] == "popular in books"
    again = recs.query("customer_id == 61").set_index("rank")
    assert again.loc[1, "product_id"] == 1
    # When the repeat part outweighs the category part, the reason says so.
    heavy = run(customers, lines_frame(rows), method="blend", repeat_weight=1.0)
    first = heavy.query("customer_id == 61 and rank == 1").iloc[0]
    assert first["product_id"] == 1 and first["reason"] == "buy again"
    unweighted = run(customers, lines_frame(rows), method="blend", repeat_weight=0.0)
    assert unweighted.query("customer_id == 61 and product_id == 1")["score"].iloc[0] < (
        first["score"]
    )


def test_blend_cold_start_is_the_countrys_category_mix():
    """A new German customer gets what Germans buy (kitchen), a French one what the French buy
    (books), explained as popular in their country."""
    day = AS_OF - timedelta(days=3)
    rows = [line(c, 3 + c % 3, day) for c in range(1, 10)]  # DE: kitchen
    rows += [line(c, 9 + c % 3, day) for c in range(20, 30)]  # FR: books
    customers = customers_frame(
        [(c, "DE", "web") for c in range(1, 10)] + [(c, "FR", "web") for c in range(20, 30)]
        + [(90, "DE", "web"), (91, "FR", "social"), (92, None, None)]
    )
    recs = run(customers, lines_frame(rows), method="blend").set_index(["customer_id", "rank"])
    assert recs.loc[(90, 1), "product_id"] in {3, 4, 5}
    assert recs.loc[(90, 1), "reason"] == "popular in DE"
    assert recs.loc[(91, 1), "product_id"] in {9, 10, 11}
    assert recs.loc[(91, 1), "reason"] == "popular in FR"
    assert recs.loc[(92, 1), "reason"] == "popular overall"


def test_buy_again_baseline_ranks_the_most_ordered_consumable_first():
    days = [AS_OF - timedelta(days=d) for d in (50, 30, 10)]
    rows = [line(1, 2, d) for d in days] + [line(1, 1, days[2]), line(1, 3, days[2])]
    rows += [line(c, 9, days[2]) for c in range(10, 20)]
    customers = customers_frame([(c, "DE", "web") for c in [1, *range(10, 20)]])
    mine = run(customers, lines_frame(rows), method="buy_again").query("customer_id == 1")
    ranked = mine.set_index("rank")
    assert ranked.loc[1, "product_id"] == 2 and ranked.loc[2, "product_id"] == 1
    assert (ranked.loc[1:2, "reason"] == "buy again").all()
    assert ranked.loc[3, "product_id"] == 9, "then filled with popularity"
    assert 3 not in mine["product_id"].tolist(), "kitchen product 3 is not bought again"
