"""The recommender's fast paths give exactly what the plain computations give.

ml_product_recommendations must not change a row when it gets faster: each shortcut is
compared, bit for bit, with the computation it replaces (kept here as the reference): the
top k of each customer's shortlist with the ranking of every product's dense score, the
floor-bounded pair ranking with a full sort, the lookup-table ``locate`` with a binary search,
the integer-key uniqueness check with pandas', the inputs cut in SQL with the whole tables.
"""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from retail_ml.recommend import (
    FreshRelations,
    RecommenderConfig,
    ServingRelations,
    build_catalog,
    fresh_recommendations_from_warehouse,
    order_lines_as_of,
    recommend_for_serving,
    recommend_from_lines,
    recommendations_from_warehouse,
    shortlist,
    top_k_of_pairs,
)
from retail_ml.recommend._checks import require_unique
from retail_ml.recommend.evaluation import SERVED_METHOD
from retail_ml.recommend.inputs import locate
from retail_ml.recommend.jobs import RECOMMENDATION_SCHEMA
from retail_ml.recommend.recommender import METHODS, chunks, prepare
from test_recommend_evaluation import backtest_inputs, shop_lines


def reference_top_k(scores: np.ndarray, k: int) -> list[list[int]]:
    """Per row, the columns of the k best finite entries: a stable sort of every row."""
    result = []
    for row in scores:
        order = np.argsort(-row, kind="stable")
        result.append([int(c) for c in order if np.isfinite(row[c])][:k])
    return result


def as_lists(rows: np.ndarray, columns: np.ndarray, n_rows: int) -> list[list[int]]:
    result: list[list[int]] = [[] for _ in range(n_rows)]
    for r, c in zip(rows, columns, strict=True):
        result[r].append(int(c))
    return result


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pair_ranking_with_a_floor_equals_the_full_ranking(seed):
    rng = np.random.default_rng(seed)
    # Few distinct values (many ties), excluded entries, a row with fewer than k finite ones.
    scores = rng.integers(0, 6, size=(40, 30)).astype(np.float64) / 4
    scores[rng.random(scores.shape) < 0.2] = -np.inf
    scores[3, 4:] = -np.inf
    scores[5, :] = -np.inf
    expected = reference_top_k(scores, 5)
    rows, columns = (index.ravel() for index in np.indices(scores.shape))
    for subset in [np.arange(5), np.array([0, 7, 8, 20, 29, 3]), np.arange(30)]:
        floor = np.sort(np.where(np.isfinite(scores[:, subset]), scores[:, subset], -np.inf))
        floor = floor[:, -5] if len(subset) >= 5 else np.full(len(scores), -np.inf)
        top = top_k_of_pairs(rows, columns, scores.ravel(), 5, floor=floor)
        assert as_lists(top.rows, top.columns, len(scores)) == expected, subset
        assert (top.ranks == np.concatenate([np.arange(1, len(e) + 1) for e in expected])).all()
        assert np.array_equal(top.scores, scores.ravel()[top.pairs])


@pytest.fixture(scope="module")
def shop() -> dict[str, pd.DataFrame]:
    return backtest_inputs(shop_lines())


def dense_scores(p, config) -> np.ndarray:
    """The reference: every product's score for every target, -inf where not eligible."""
    rebuy = p.catalog.is_repurchase_typical[None, :]
    popular = p.prior.scores[p.segments]
    if config.method == "blend":
        scores = (
            p.preference[:, p.category_codes] * p.share[None, :]
            + config.repeat_weight * (p.recency.toarray() * rebuy)
            + config.basket_weight * (p.recent @ p.basket).toarray()
            + config.next_order_weight * (p.recent @ p.next_order).toarray()
        )
    elif config.method == "copurchase":
        scores = (p.recency @ p.similarity).toarray() + config.popularity_weight * popular
    elif config.method == "buy_again":
        orders, recency = p.orders.toarray() * rebuy, p.recency.toarray() * rebuy
        scores = np.where(orders > 0, 2.0 + 3.0 * orders + 0.5 * recency, 0.0) + popular
    else:
        scores = popular.copy()
    scores[:, ~p.catalog.is_launched] = -np.inf
    scores[(p.orders.toarray() > 0) & ~rebuy] = -np.inf
    return scores


@pytest.mark.parametrize("method", METHODS)
def test_the_shortlists_top_k_equals_ranking_every_product_bit_for_bit(shop, method, monkeypatch):
    cutoff = shop["windows"]["cutoff_date"].max()
    customers = shop["customers"][shop["customers"]["as_of_date"] == cutoff]
    catalog = build_catalog(shop["catalogue"][shop["catalogue"]["as_of_date"] == cutoff])
    redone = []
    every_product = shortlist._every_product
    monkeypatch.setattr(
        shortlist, "_every_product",
        lambda p, rows, redo, config: redone.append(len(redo)) or every_product(
            p, rows, redo, config),
    )
    for k, per_group in [(3, 0), (3, 1), (3, 6), (10, 20), (10, 1000)]:
        # A heavy popularity prior makes co-purchase customers need more than their shortlist.
        config = RecommenderConfig(method=method, k=k, chunk_size=16, repeat_weight=0.07,
                                   basket_weight=0.3, next_order_weight=0.2,
                                   popularity_weight=20.0 if per_group < k else 1.0)
        prepared = prepare(customers, order_lines_as_of(shop["lines"], cutoff), catalog,
                           as_of=cutoff, config=config)
        scores = dense_scores(prepared, config)
        expected = reference_top_k(scores, k)
        lead = shortlist.leaders(prepared, per_group)
        for rows in chunks(prepared):
            (top,) = shortlist.block_top_k(prepared, rows, [config], lead)
            block_scores = scores[rows]
            assert as_lists(top.rows, top.columns, len(block_scores)) == expected[rows]
            assert np.array_equal(top.scores, block_scores[top.rows, top.columns])
    # Both paths ran: customers whose shortlist was not enough were scored on every product.
    assert sum(redone) > 0


def test_locate_by_lookup_table_equals_a_binary_search():
    rng = np.random.default_rng(4)
    sorted_ids = np.unique(rng.integers(100, 5_000, size=800))
    ids = np.r_[rng.choice(sorted_ids, 2_000), rng.integers(0, 6_000, size=500), -3, 10**12]
    rows, found = locate(sorted_ids, ids)
    expected_rows = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
    assert np.array_equal(rows, expected_rows)
    assert np.array_equal(found, sorted_ids[expected_rows] == ids)
    # Ids too spread for a table (xl's tiled ranges): the hash lookup, same answers.
    spread = np.unique(np.r_[rng.integers(0, 5_000, 800), rng.integers(0, 5_000, 800) + 10**12])
    ids = np.r_[rng.choice(spread, 2_000), rng.integers(0, 6_000, 500), 10**12 + 7_000, -3]
    rows, found = locate(spread, ids)
    expected_rows = np.clip(np.searchsorted(spread, ids), 0, len(spread) - 1)
    assert np.array_equal(rows, expected_rows)
    assert np.array_equal(found, spread[expected_rows] == ids) and not found.all()


def test_uniqueness_by_integer_key_finds_what_pandas_finds():
    frame = pd.DataFrame({"order_id": [1, 1, 2, 3, 3], "product_id": [7, 8, 7, 9, 9]})
    with pytest.raises(ValueError, match="duplicate"):
        require_unique(frame, ["order_id", "product_id"], "lines")
    require_unique(frame.iloc[:4], ["order_id", "product_id"], "lines")
    # (1, 12) and (2, 2) share a naive key a * 10 + b: the key is exact, no false duplicate.
    require_unique(pd.DataFrame({"a": [1, 2], "b": [12, 2]}), ["a", "b"], "frame")
    with pytest.raises(ValueError, match="duplicate"):
        require_unique(pd.DataFrame({"a": ["x", "x"], "b": [1, 1]}), ["a", "b"], "frame")


def test_inputs_cut_in_sql_give_the_recommendations_of_the_whole_tables(shop):
    """Lines known later or retracted by then, other days' catalogue and other methods'
    metrics are left in DuckDB: the recommendations are those of the whole tables."""
    serving_day = shop["windows"]["evaluation_end_date"].max()
    serving = shop["customers"].drop_duplicates("customer_id").assign(as_of_date=serving_day)
    lines = shop["lines"].copy()
    lines.loc[lines.index[::9], "retracted_date"] = serving_day - timedelta(days=20)
    lines.loc[lines.index[1::9], "retracted_date"] = serving_day + timedelta(days=2)
    catalogue = pd.concat(
        [shop["catalogue"],
         shop["catalogue"].drop_duplicates("product_id").assign(as_of_date=serving_day)],
        ignore_index=True,
    )
    parameters = '{"k": 10, "method": "blend", "basket_weight": 0.2}'
    metrics = pd.DataFrame({"method": [SERVED_METHOD, SERVED_METHOD, "buy_again"],
                            "metric": ["hit_rate_at_10", "recall_at_10", "hit_rate_at_10"],
                            "parameters_json": [parameters, parameters, '{"k": 3}']})
    con = duckdb.connect()
    with con:
        relations = {}
        for name, frame in [("serving", serving), ("lines", lines), ("catalogue", catalogue),
                            ("metrics", metrics)]:
            source = frame.copy().reset_index(drop=True)  # noqa: F841 - read by DuckDB
            con.execute(f"create table {name} as select * from source")  # noqa: S608
            relations[name] = con.table(name)
        for column in ["order_date", "known_date", "retracted_date"]:
            con.execute(f"alter table lines alter {column} type date")
        fast = recommendations_from_warehouse(ServingRelations(**relations))
    whole = recommend_for_serving(serving, lines, catalogue, metrics)
    assert set(fast["customer_id"]) == set(serving["customer_id"])
    pd.testing.assert_frame_equal(fast, whole, check_exact=True)


def _fresh_relations(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> dict:
    relations = {}
    for name, frame in frames.items():
        source = frame.copy().reset_index(drop=True)  # noqa: F841 - read by DuckDB
        con.execute(f"create table {name} as select * from source")  # noqa: S608
        relations[name] = con.table(name)
    for table in ("lines", "fresh_lines"):
        for column in ["order_date", "known_date", "retracted_date"]:
            con.execute(f"alter table {table} alter {column} type date")
    return relations


def test_fresh_recommendations_read_the_fresh_customers_lines_in_place_of_theirs(shop):
    """ml_product_recommendations_fresh: the fresh customers as of the open day, every served
    customer as population, the closed day's lines with the fresh customers' replaced by their
    recomputed ones (a line of today included), the closed day's catalogue. Equal to
    recommending on those inputs directly; fails if the closed lines of a fresh customer leak."""
    closed_day = shop["windows"]["evaluation_end_date"].max()
    open_day = closed_day + timedelta(days=1)
    population = shop["customers"].drop_duplicates("customer_id").reset_index(drop=True)
    fresh_ids = population["customer_id"].iloc[::7].to_numpy()
    lines = shop["lines"].copy()
    ours = lines[lines["customer_id"].isin(fresh_ids)]
    # Recomputed: one old line gone (its closed copy must not count), one bought today.
    fresh_lines = pd.concat(
        [ours.iloc[1:], ours.iloc[:1].assign(order_id=-1, order_date=open_day,
                                             known_date=open_day, retracted_date=pd.NaT)],
        ignore_index=True,
    )
    catalogue = shop["catalogue"].drop_duplicates("product_id").assign(as_of_date=closed_day)
    parameters = '{"k": 10, "method": "blend", "basket_weight": 0.2}'
    metrics = pd.DataFrame({"method": [SERVED_METHOD], "parameters_json": [parameters]})
    fresh = pd.DataFrame({"customer_id": fresh_ids, "as_of_date": open_day})
    with duckdb.connect() as con:
        relations = _fresh_relations(con, {
            "fresh": fresh, "population": population.assign(as_of_date=closed_day),
            "lines": lines, "fresh_lines": fresh_lines, "catalogue": catalogue,
            "metrics": metrics})
        got = fresh_recommendations_from_warehouse(FreshRelations(**relations)).to_pandas()
    current = pd.concat([lines[~lines["customer_id"].isin(fresh_ids)], fresh_lines],
                        ignore_index=True)
    expected = recommend_from_lines(
        population, order_lines_as_of(current, open_day), build_catalog(catalogue),
        as_of=open_day, config=RecommenderConfig.from_mapping(json.loads(parameters)),
        for_customers=fresh_ids)
    assert set(got["customer_id"]) == set(fresh_ids)
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    # The one line bought today is the fresh customer's latest order: it changes their list.
    stale = recommend_from_lines(
        population, order_lines_as_of(lines, open_day), build_catalog(catalogue),
        as_of=open_day, config=RecommenderConfig.from_mapping(json.loads(parameters)),
        for_customers=fresh_ids)
    assert not got.equals(stale)


def test_fresh_recommendations_of_nobody_are_an_empty_typed_table(shop):
    closed_day = shop["windows"]["evaluation_end_date"].max()
    with duckdb.connect() as con:
        relations = _fresh_relations(con, {
            "fresh": pd.DataFrame({"customer_id": pd.Series(dtype="int64"),
                                   "as_of_date": pd.Series(dtype="datetime64[s]")}),
            "population": shop["customers"].drop_duplicates("customer_id"),
            "lines": shop["lines"], "fresh_lines": shop["lines"].iloc[:0],
            "catalogue": shop["catalogue"].assign(as_of_date=closed_day),
            "metrics": pd.DataFrame({"method": [SERVED_METHOD], "parameters_json": ["{}"]})})
        got = fresh_recommendations_from_warehouse(FreshRelations(**relations))
    assert got.num_rows == 0
    assert got.schema == RECOMMENDATION_SCHEMA
