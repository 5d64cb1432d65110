"""Tests for retail_ml.recommend.evaluation: metrics by hand, bootstrap intervals, and the
rolling-origin backtest's protocol (tuning before the reported windows, consecutive windows,
nothing after a cutoff used for its window)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from retail_ml.recommend import (
    BASELINES,
    RecommenderConfig,
    bootstrap_indices,
    bootstrap_interval,
    build_catalog,
    check_windows,
    evaluate_backtest,
    order_lines_as_of,
    per_customer_metrics,
    ranking_metrics,
    recommend_from_lines,
    scored_per_customer,
)
from retail_ml.recommend.recommender import prepare

LATEST = date(2026, 6, 30)
WINDOW_DAYS = 30
#: A small grid keeps the tests quick; the protocol is the same as with the full one.
GRID = {"repeat_weight": (0.05,), "basket_weight": (0.0, 1.0), "next_order_weight": (0.3,)}


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
    per_customer = per_customer_metrics(recommendations, actual, k=10)
    assert per_customer["customer_id"].tolist() == [1, 2, 3]
    assert per_customer["hit"].tolist() == [1.0, 0.0, 0.0]
    assert per_customer["recall"].tolist() == [0.5, 0.0, 0.0]


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


def test_bootstrap_is_deterministic_and_brackets_the_mean():
    values = np.r_[np.ones(300), np.zeros(700)]
    indices = bootstrap_indices(len(values), samples=500, seed=7)
    assert np.array_equal(indices, bootstrap_indices(len(values), samples=500, seed=7))
    assert not np.array_equal(indices, bootstrap_indices(len(values), samples=500, seed=8))
    lower, upper = bootstrap_interval(values, indices)
    assert lower < 0.3 < upper
    # The binomial standard error is 0.0145: a 95% interval is about ±0.028 wide.
    assert 0.02 < 0.3 - lower < 0.04 and 0.02 < upper - 0.3 < 0.04
    assert bootstrap_interval(np.full(50, 0.4), bootstrap_indices(50, samples=20, seed=1)) == (
        pytest.approx(0.4), pytest.approx(0.4)
    )
    with pytest.raises(ValueError, match="at least one customer"):
        bootstrap_indices(0, samples=10, seed=1)


def test_bootstrap_in_blocks_of_resamples_equals_all_at_once():
    # 50k customers: 80 resamples per block, so 200 resamples take three blocks.
    rng = np.random.default_rng(5)
    values = rng.random(50_000)
    indices = bootstrap_indices(len(values), samples=200, seed=3)
    means = values[indices].mean(axis=1)
    assert bootstrap_interval(values, indices) == tuple(np.quantile(means, [0.025, 0.975]))


def windows_frame(reported: int = 2) -> pd.DataFrame:
    """What int_recommender_backtest_windows holds: a tuning window, then ``reported`` ones."""
    rows = []
    for back in range(reported + 1):
        number = reported + 1 - back
        end = LATEST - timedelta(days=back * WINDOW_DAYS)
        rows.append(
            {
                "window_number": number,
                "window_role": "tuning" if number == 1 else "reported",
                "cutoff_date": end - timedelta(days=WINDOW_DAYS),
                "evaluation_end_date": end,
            }
        )
    return pd.DataFrame(rows)


def test_windows_must_be_one_tuning_window_then_consecutive_reported_ones():
    ordered = check_windows(windows_frame())
    assert ordered["window_number"].tolist() == [1, 2, 3]
    assert ordered["window_role"].tolist() == ["tuning", "reported", "reported"]
    assert (ordered["evaluation_end_date"].iloc[:-1].to_numpy()
            == ordered["cutoff_date"].iloc[1:].to_numpy()).all()
    late_tuning = windows_frame().assign(
        window_role=lambda f: np.where(f["window_number"] == 3, "tuning", "reported")
    )
    with pytest.raises(ValueError, match="one tuning window before the reported ones"):
        check_windows(late_tuning)
    overlapping = windows_frame()
    overlapping.loc[overlapping["window_number"] == 1, "evaluation_end_date"] += timedelta(days=1)
    with pytest.raises(ValueError, match="consecutive"):
        check_windows(overlapping)
    gap = windows_frame()
    gap.loc[gap["window_number"] == 2, "evaluation_end_date"] -= timedelta(days=1)
    with pytest.raises(ValueError, match="consecutive"):
        check_windows(gap)
    backwards = windows_frame()
    backwards["evaluation_end_date"] = backwards["cutoff_date"]
    with pytest.raises(ValueError, match="ends on or before its cutoff"):
        check_windows(backwards)


# A small shop whose customers behave like the generator's: each has a favourite category,
# re-buys coffee (products 1-2), and buys a product's partner (3+4, 5+6, ...) in the next order.
CATEGORIES = {**{p: "grocery" for p in (1, 2)}, **{p: "home" for p in range(3, 11)},
              **{p: "books" for p in range(11, 19)}}


def catalogue_frame(cutoffs: list[date]) -> pd.DataFrame:
    """int_product_catalogue_requested: every product on sale on every cutoff, except 18,
    launched after the first reported cutoff."""
    launch_of_18 = cutoffs[1] + timedelta(days=10)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "product_id": list(CATEGORIES),
                    "product_name": [f"P{p}" for p in CATEGORIES],
                    "category": list(CATEGORIES.values()),
                    "is_repurchase_typical": [p <= 2 for p in CATEGORIES],
                    "is_launched": [p != 18 or cutoff >= launch_of_18 for p in CATEGORIES],
                    "launched_date": [launch_of_18 if p == 18 else date(2025, 1, 1)
                                      for p in CATEGORIES],
                    "as_of_date": cutoff,
                }
            )
            for cutoff in cutoffs
        ],
        ignore_index=True,
    )


def shop_lines(seed: int = 0) -> pd.DataFrame:
    """int_recommender_order_lines: 60 customers ordering every ~12 days for 200 days."""
    rng = np.random.default_rng(seed)
    rows, order_id = [], 0
    start = LATEST - timedelta(days=200)
    home, books = list(range(3, 11)), list(range(11, 18))
    for customer in range(1, 61):
        favourite = home if customer % 2 else books
        day, previous = start + timedelta(days=int(rng.integers(0, 12))), None
        while day <= LATEST:
            order_id += 1
            if previous is not None and previous + 1 in CATEGORIES and previous % 2 == 1:
                product = previous + 1  # the partner of the previous order's product
            else:
                product = int(rng.choice(favourite))
            products = {product}
            if rng.random() < 0.5:
                products.add(int(rng.integers(1, 3)))  # coffee
            for p in sorted(products):
                late = int(rng.random() < 0.1)  # some lines land the day after
                rows.append((customer, order_id, p, day, day + timedelta(days=late), None))
            previous = product
            day += timedelta(days=int(rng.integers(6, 18)))
    return pd.DataFrame(
        rows,
        columns=["customer_id", "order_id", "product_id", "order_date", "known_date",
                 "retracted_date"],
    )


def backtest_inputs(lines: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The frames the SQL models hold, derived from ``lines`` by the SQL models' rules."""
    windows = windows_frame()
    cutoffs = list(windows.sort_values("window_number")["cutoff_date"])
    customers = pd.concat(
        [
            pd.DataFrame({"customer_id": range(1, 61), "country_code": "DE",
                          "signup_channel": "web", "as_of_date": cutoff})
            for cutoff in cutoffs
        ],
        ignore_index=True,
    )
    actual = []
    for window in windows.itertuples():
        in_window = lines[(lines["order_date"] > window.cutoff_date)
                          & (lines["order_date"] <= window.evaluation_end_date)]
        actual.append(
            in_window[["customer_id", "product_id"]].drop_duplicates().assign(
                cutoff_date=window.cutoff_date, evaluation_end_date=window.evaluation_end_date
            )
        )
    return {
        "windows": windows,
        "customers": customers,
        "lines": lines,
        "catalogue": catalogue_frame(cutoffs),
        "actual": pd.concat(actual, ignore_index=True),
    }


def run_backtest(inputs: dict[str, pd.DataFrame], **kwargs) -> pd.DataFrame:
    return evaluate_backtest(
        inputs["windows"], inputs["customers"], inputs["lines"], inputs["catalogue"],
        inputs["actual"], grid=GRID, bootstrap_samples=200, **kwargs,
    )


@pytest.fixture(scope="module")
def shop() -> dict[str, pd.DataFrame]:
    return backtest_inputs(shop_lines())


@pytest.fixture(scope="module")
def metrics(shop) -> pd.DataFrame:
    return run_backtest(shop)


def test_backtest_has_a_row_per_window_method_and_metric(metrics):
    assert len(metrics) == 3 * 6 * 2
    assert not metrics.duplicated(["window_number", "method", "metric"]).any()
    assert set(metrics["metric"]) == {"hit_rate_at_10", "recall_at_10"}
    assert metrics.groupby("window_number")["window_role"].first().tolist() == [
        "tuning", "reported", "reported"
    ]
    assert metrics["value"].between(0, 1).all()
    assert (metrics["ci_lower"] <= metrics["value"]).all()
    assert (metrics["value"] <= metrics["ci_upper"]).all()
    assert (metrics["ci_lower"] < metrics["ci_upper"]).any()
    assert metrics.loc[metrics["is_served_method"], "method"].unique().tolist() == ["blend"]
    assert set(metrics.loc[metrics["is_baseline"], "method"]) == set(BASELINES)
    for _, rows in metrics.groupby(["window_number", "metric"]):
        best = rows.loc[rows["is_baseline"], "value"].max()
        assert rows["ratio_to_best_baseline"].to_numpy() == pytest.approx(
            rows["value"].to_numpy() / best
        )
    tuned = {json.loads(p)["basket_weight"]
             for p in metrics.loc[metrics["method"] == "blend", "parameters_json"]}
    assert len(tuned) == 1 and tuned <= set(GRID["basket_weight"])


def test_blend_beats_the_baselines_on_a_shop_with_categories_and_partners(metrics):
    reported = metrics[metrics["window_role"] == "reported"].set_index(
        ["window_number", "method", "metric"]
    )["value"]
    for window in (2, 3):
        for baseline in BASELINES:
            assert reported[window, "blend", "hit_rate_at_10"] >= reported[
                window, baseline, "hit_rate_at_10"
            ]
            assert reported[window, "blend", "recall_at_10"] > reported[
                window, baseline, "recall_at_10"
            ]


def test_backtest_is_deterministic(shop, metrics):
    pd.testing.assert_frame_equal(run_backtest(shop), metrics)


def test_weights_are_tuned_on_the_tuning_window_only(shop, metrics):
    """Scrambling what was bought in the reported windows changes their metrics, never the
    weights chosen; scrambling the tuning window's labels may change them."""
    scrambled = {**shop, "actual": shop["actual"].copy()}
    reported = scrambled["actual"]["cutoff_date"] > shop["windows"]["cutoff_date"].min()
    rng = np.random.default_rng(3)
    scrambled["actual"].loc[reported, "product_id"] = rng.choice(
        list(CATEGORIES)[:-1], reported.sum()
    )
    scrambled["actual"] = scrambled["actual"].drop_duplicates(
        ["customer_id", "product_id", "cutoff_date"]
    )
    again = run_backtest(scrambled)
    blend = again["method"] == "blend"
    assert again.loc[blend, "parameters_json"].tolist() == metrics.loc[
        metrics["method"] == "blend", "parameters_json"
    ].tolist()
    tuning_rows = again["window_role"] == "tuning"
    pd.testing.assert_frame_equal(again[tuning_rows], metrics[tuning_rows])
    assert not again.loc[~tuning_rows, "value"].equals(metrics.loc[~tuning_rows, "value"])


def test_no_line_known_after_a_cutoff_reaches_its_window(shop, metrics):
    """Lines known only after the first reported cutoff (later orders, or an order of the
    cutoff day that landed the day after) change nothing in the windows up to that cutoff."""
    first_reported = shop["windows"].loc[shop["windows"]["window_number"] == 2, "cutoff_date"]
    cutoff = first_reported.iloc[0]
    # Everyone orders 10 and 17 just after the cutoff (and one order of the cutoff day itself
    # lands the day after): from the next window on, nobody may be offered them again.
    customers = list(range(1, 61))
    extra = pd.DataFrame(
        {
            "customer_id": customers * 2,
            "order_id": [900_000 + c for c in customers] * 2,
            "product_id": [10] * 60 + [17] * 60,
            "order_date": [cutoff] + [cutoff + timedelta(days=1)] * 59 + [
                cutoff + timedelta(days=1)] * 60,
            "known_date": [cutoff + timedelta(days=1)] * 120,
            "retracted_date": [None] * 120,
        }
    )
    with_extra = {**shop, "lines": pd.concat([shop["lines"], extra], ignore_index=True)}
    again = run_backtest(with_extra)
    up_to_cutoff = again["cutoff_date"] <= pd.Timestamp(cutoff).date()
    pd.testing.assert_frame_equal(again[up_to_cutoff], metrics[up_to_cutoff])
    later = ~up_to_cutoff
    assert not again.loc[later, "value"].equals(metrics.loc[later, "value"]), (
        "the lines are used from the next window on"
    )


def test_unlaunched_products_are_never_recommended_in_a_window(shop):
    """Product 18 launches after the first reported cutoff: never recommended before, though
    the best seller; once on sale, recommended, but never again to who bought it."""
    windows = shop["windows"].sort_values("window_number")
    for cutoff, launched in [(windows["cutoff_date"].iloc[1], False),
                             (windows["cutoff_date"].iloc[2], True)]:
        catalogue = shop["catalogue"][shop["catalogue"]["as_of_date"] == cutoff]
        customers = shop["customers"][shop["customers"]["as_of_date"] == cutoff]
        # Make 18 the shop's best seller before it launched: still never recommended.
        hype = pd.DataFrame({"customer_id": range(1, 31), "order_id": range(800_001, 800_031),
                             "product_id": 18, "order_date": cutoff, "known_date": cutoff,
                             "retracted_date": None})
        lines = order_lines_as_of(pd.concat([shop["lines"], hype], ignore_index=True), cutoff)
        for method in ("blend", "popularity", "buy_again", "copurchase"):
            recs = recommend_from_lines(
                customers, lines, build_catalog(catalogue), as_of=cutoff,
                config=RecommenderConfig(method=method),
            )
            if not launched:
                assert 18 not in set(recs["product_id"]), method
            elif method == "popularity":
                assert 18 in set(recs["product_id"]), "recommendable once on sale"
            bought_18 = recs[(recs["customer_id"] <= 30) & (recs["product_id"] == 18)]
            assert bought_18.empty, "never a non-repurchase product again"


def test_backtest_refuses_inputs_that_break_the_protocol(shop):
    with pytest.raises(ValueError, match="consecutive"):
        overlapping = shop["windows"].copy()
        overlapping.loc[overlapping["window_number"] == 2, "evaluation_end_date"] += timedelta(
            days=3
        )
        run_backtest({**shop, "windows": overlapping})
    with pytest.raises(ValueError, match="purchases after the cutoff"):
        first = shop["windows"]["cutoff_date"].min()
        run_backtest({**shop, "actual": shop["actual"][shop["actual"]["cutoff_date"] != first]})
    with pytest.raises(ValueError, match="unknown at"):
        run_backtest({**shop, "customers": shop["customers"][shop["customers"]["customer_id"] > 1]})


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("method", ["blend", "copurchase", "popularity", "buy_again"])
def test_fast_scoring_equals_the_metrics_of_the_served_recommendations(
    shop, method, threads, monkeypatch
):
    """The backtest scores without building recommendation frames, its blocks on
    RETAIL_ML_THREADS threads: same hits and recalls as per_customer_metrics on what
    recommend_from_lines (the serving path) returns."""
    monkeypatch.setenv("RETAIL_ML_THREADS", threads)
    cutoff = shop["windows"]["cutoff_date"].max()
    customers = shop["customers"][shop["customers"]["as_of_date"] == cutoff]
    actual = shop["actual"][shop["actual"]["cutoff_date"] == cutoff]
    lines = order_lines_as_of(shop["lines"], cutoff)
    catalog = build_catalog(shop["catalogue"][shop["catalogue"]["as_of_date"] == cutoff])
    config = RecommenderConfig(method=method, chunk_size=7)
    buyers = np.unique(actual["customer_id"])
    served = recommend_from_lines(
        customers, lines, catalog, as_of=cutoff, config=config, for_customers=buyers
    )
    prepared = prepare(customers, lines, catalog, as_of=cutoff, config=config,
                       for_customers=buyers)
    (fast,) = scored_per_customer(prepared, [config], actual)
    pd.testing.assert_frame_equal(fast, per_customer_metrics(served, actual, k=10))
