"""The recommender's fast paths give exactly what the plain computations give.

ml_product_recommendations must not change a row when it gets faster: each shortcut is
compared, bit for bit, with the computation it replaces (kept here as the reference): the
top k of each customer's shortlist with the ranking of every product's dense score, the
floor-bounded pair ranking with a full sort, the lookup-table ``locate`` with a binary search,
the integer-key uniqueness check with pandas', the packed-key purchase history and order
matrix with pandas' groupby and sort, the latest orders by scatter-max with the order matrix's,
the history matrices built in CSR order with the COO-built ones, the inputs cut in SQL (and the
order lines typed from Arrow) with the whole tables.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from retail_ml.recommend import (
    FreshRelations,
    RecommenderConfig,
    ServingRelations,
    StatisticsRelations,
    build_catalog,
    fresh_recommendations_from_warehouse,
    learn,
    order_lines_as_of,
    recommend_for_serving,
    recommend_from_lines,
    recommend_with_statistics,
    recommendations_from_warehouse,
    shortlist,
    statistics_from_warehouse,
    top_k_of_pairs,
)
from retail_ml.recommend._checks import id_blocks, pack_columns, require_unique
from retail_ml.recommend.evaluation import SERVED_METHOD
from retail_ml.recommend.inputs import (
    Catalog,
    known_order_lines,
    locate,
    purchase_history,
    warehouse_frame,
)
from retail_ml.recommend.jobs import RECOMMENDATION_SCHEMA
from retail_ml.recommend.ranking import offsets_in_runs
from retail_ml.recommend.recommender import (
    BLOCK_CELLS,
    METHODS,
    ReasonTexts,
    _history_matrices,
    _history_matrix,
    _ranked_with_reasons,
    block_workers,
    chunks,
    map_blocks,
    prepare,
    recommendations_of,
)
from retail_ml.recommend.signals import (
    _later_orders,
    _recent_orders_by_lines,
    order_matrix,
    recent_orders,
)
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


@pytest.mark.parametrize("off_sale", [False, True])  # every product on sale, or not
@pytest.mark.parametrize("mask_cells", [shortlist.MASK_CELLS, 0])  # 0: eligible pairs by sort
@pytest.mark.parametrize("method", METHODS)
def test_the_shortlists_top_k_equals_ranking_every_product_bit_for_bit(
    shop, method, mask_cells, off_sale, monkeypatch
):
    monkeypatch.setattr(shortlist, "MASK_CELLS", mask_cells)
    cutoff = shop["windows"]["cutoff_date"].max()
    customers = shop["customers"][shop["customers"]["as_of_date"] == cutoff]
    catalogue = shop["catalogue"][shop["catalogue"]["as_of_date"] == cutoff].copy()
    catalogue["is_launched"] = (
        (catalogue["product_id"] % 5 != 0) if off_sale else True
    )
    catalog = build_catalog(catalogue)
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


@pytest.mark.parametrize("case", ["sorted", "unsorted", "empty", "no_entries"])
def test_part_values_with_the_pairs_keys_given_equal_the_sparse_lookup(case):
    """_value_at with the pairs' keys computed once per block (pair_values) is ``part[r, c]``,
    as it is when it computes them itself."""
    rng = np.random.default_rng(23)
    part = sparse.random(40, 30, density=0.0 if case == "no_entries" else 0.2, format="csr",
                         random_state=1)
    part.sum_duplicates()
    cells = np.unique(rng.integers(0, 40 * 30, 500))
    if case == "unsorted":
        cells = rng.permutation(cells)
    if case == "empty":
        cells = cells[:0]
    r, c = cells // 30, cells % 30
    expected = np.asarray(part[r, c], dtype=np.float64).ravel() if len(r) else np.zeros(0)
    keys = shortlist._pair_keys(r, c, 30)
    ordered = bool(len(keys) == 0 or (keys[1:] > keys[:-1]).all())
    for got in (shortlist._value_at(part, r, c), shortlist._value_at(part, r, c, (keys, ordered))):
        assert np.array_equal(got.view(np.int64), expected.view(np.int64))


@pytest.mark.parametrize("threads", ["1", "2", "3"])
@pytest.mark.parametrize("method", METHODS)
def test_recommendations_joined_as_columns_equal_the_blocks_frames_concatenated(
    shop, method, threads, monkeypatch
):
    """recommendations_of joins the blocks' columns into one frame, scored on RETAIL_ML_THREADS
    threads: the frame of the blocks' frames concatenated in a serial loop (the reference),
    column types and float bits included."""
    monkeypatch.setenv("RETAIL_ML_THREADS", threads)
    cutoff = shop["windows"]["cutoff_date"].max()
    customers = shop["customers"][shop["customers"]["as_of_date"] == cutoff]
    catalog = build_catalog(shop["catalogue"][shop["catalogue"]["as_of_date"] == cutoff])
    config = RecommenderConfig(method=method, chunk_size=7)  # several blocks, a short last one
    prepared = prepare(customers, order_lines_as_of(shop["lines"], cutoff), catalog,
                       as_of=cutoff, config=config)
    got = recommendations_of(prepared, as_of=cutoff)
    lead = shortlist.leaders(prepared)
    texts = ReasonTexts.of(prepared)
    frames = []
    for rows in chunks(prepared):
        (top,) = shortlist.block_top_k(prepared, rows, [config], lead)
        frames.append(_ranked_with_reasons(prepared, rows, top, texts))
    expected = pd.concat(frames, ignore_index=True)
    expected["as_of_date"] = pd.Timestamp(cutoff).date()
    expected = expected[list(got.columns)]
    assert len(frames) > 1
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert np.array_equal(got["score"].to_numpy().view(np.int64),
                          expected["score"].to_numpy().view(np.int64))


def test_locate_by_lookup_table_equals_a_binary_search():
    rng = np.random.default_rng(4)
    sorted_ids = np.unique(rng.integers(100, 5_000, size=800))
    ids = np.r_[rng.choice(sorted_ids, 2_000), rng.integers(0, 6_000, size=500), -3, 10**12]
    rows, found = locate(sorted_ids, ids)
    expected_rows = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
    assert np.array_equal(rows, expected_rows)
    assert np.array_equal(found, sorted_ids[expected_rows] == ids)
    # Ids too spread for a table (xl's tiled shops, or wider): the hash lookup, same answers.
    tiles = np.unique(np.r_[rng.integers(0, 5_000, 800), rng.integers(0, 5_000, 800) + 10**12])
    wide = np.unique(rng.integers(0, 5_000, 800) * 2**40)
    for spread in (tiles, wide):
        ids = np.r_[rng.choice(spread, 2_000), rng.integers(0, 6_000, 500), 10**12 + 7_000,
                    5 * 10**11, -3, 2**62]
        rows, found = locate(spread, ids)
        expected_rows = np.clip(np.searchsorted(spread, ids), 0, len(spread) - 1)
        assert np.array_equal(rows, expected_rows)
        assert np.array_equal(found, spread[expected_rows] == ids) and not found.all()


def test_id_blocks_codes_sort_as_the_ids_and_pack_keys_that_fit():
    rng = np.random.default_rng(5)
    ids = np.r_[tiled(rng.integers(-3_000_000, 3_000_000, 5_000), rng), -(2**40), 2**40]
    blocks = id_blocks(ids)
    codes = blocks.encode(ids)
    assert np.array_equal(blocks.decode(codes), ids)
    assert np.array_equal(np.argsort(codes, kind="stable"), np.argsort(ids, kind="stable"))
    assert blocks.span == len(np.unique(ids >> 20)) * 2**20  # the occupied blocks' ids
    assert id_blocks(ids * 2**20) is None  # more blocks than MAX_ID_BLOCKS: not coded
    # Two tiled id columns (42 bits each) and a date (10 bits) do not fit one int64; with the
    # ids coded (22 bits each) they do.
    columns = [tiled(rng.integers(0, 200_000, 1_000), rng),
               tiled(rng.integers(0, 5_000, 1_000), rng), rng.integers(0, 730, 1_000)]
    packed = pack_columns(columns)
    assert packed is not None and packed.blocks[2] is None
    order = np.argsort(packed.key, kind="stable")
    assert np.array_equal(order, np.lexsort(columns[::-1]))
    for index, values in enumerate(columns):
        assert np.array_equal(packed.column(index, packed.key[order]), values[order])


def test_uniqueness_by_integer_key_finds_what_pandas_finds():
    frame = pd.DataFrame({"order_id": [1, 1, 2, 3, 3], "product_id": [7, 8, 7, 9, 9]})
    with pytest.raises(ValueError, match="duplicate"):
        require_unique(frame, ["order_id", "product_id"], "lines")
    require_unique(frame.iloc[:4], ["order_id", "product_id"], "lines")
    # (1, 12) and (2, 2) share a naive key a * 10 + b: the key is exact, no false duplicate.
    require_unique(pd.DataFrame({"a": [1, 2], "b": [12, 2]}), ["a", "b"], "frame")
    # Tiled ids (packed from IdBlocks codes): (7, 10**12 + 7) and (10**12 + 7, 7) differ.
    tiles = pd.DataFrame({"a": [7, 10**12 + 7, 3 * 10**12], "b": [10**12 + 7, 7, 7]})
    require_unique(tiles, ["a", "b"], "frame")
    with pytest.raises(ValueError, match="duplicate"):
        require_unique(pd.concat([tiles, tiles.iloc[[1]]]), ["a", "b"], "frame")
    with pytest.raises(ValueError, match="duplicate"):
        require_unique(pd.DataFrame({"a": ["x", "x"], "b": [1, 1]}), ["a", "b"], "frame")


def reference_purchase_history(lines: pd.DataFrame) -> pd.DataFrame:
    """purchase_history as a pandas groupby (what the packed-key sort replaced)."""
    grouped = lines.groupby(["customer_id", "product_id"], sort=True).agg(
        last_order_date=("order_date", "max"), orders=("order_id", "size")
    ).reset_index()
    return pd.DataFrame(
        {
            "customer_id": grouped["customer_id"].to_numpy(dtype=np.int64),
            "product_id": grouped["product_id"].to_numpy(dtype=np.int64),
            "last_order_date": grouped["last_order_date"].to_numpy(dtype="datetime64[D]"),
            "orders": grouped["orders"].to_numpy(dtype=np.int64),
        }
    )


def tiled(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``values`` spread over four shops 10**12 ids apart (as the xl scale's tiles)."""
    return values + rng.integers(0, 4, len(values)) * 10**12


# "tiled": packed from IdBlocks codes; "spread" (2**40 apart): too wide even so, np.lexsort.
@pytest.mark.parametrize("ids", ["plain", "tiled", "spread"])
@pytest.mark.parametrize("null_dates", [False, True])
def test_purchase_history_by_sorting_equals_the_pandas_groupby(ids, null_dates):
    rng = np.random.default_rng(7)
    n = 4000
    customers, products = rng.integers(0, 60, n), rng.integers(0, 40, n)
    if ids == "tiled":
        customers, products = tiled(customers, rng), tiled(products, rng)
    if ids == "spread":
        customers, products = customers * 2**40, products * 2**40
    lines = pd.DataFrame(
        {
            "customer_id": customers,
            "order_id": np.arange(n, dtype=np.int64),
            "product_id": products,
            "order_date": (
                np.datetime64("2025-01-01") + rng.integers(0, 400, n).astype("timedelta64[D]")
            ).astype("datetime64[s]"),
        }
    )
    if null_dates:  # some groups with a null date, a few with nothing but null dates
        lines.loc[rng.random(n) < 0.4, "order_date"] = pd.NaT
    expected = reference_purchase_history(lines)
    pd.testing.assert_frame_equal(purchase_history(lines), expected, check_exact=True)
    pd.testing.assert_frame_equal(
        purchase_history(lines.iloc[:0]), reference_purchase_history(lines.iloc[:0])
    )


def reference_order_matrix(
    lines: pd.DataFrame, catalog: Catalog
) -> tuple[pd.DataFrame, sparse.csr_matrix]:
    """order_matrix by pandas' drop_duplicates and three-key sort (what the packed sort and
    the order lookup table replaced)."""
    columns = catalog.positions(lines["product_id"])
    known = columns >= 0
    orders = (
        lines.loc[known, ["customer_id", "order_id", "order_date"]]
        .drop_duplicates("order_id")
        .sort_values(["customer_id", "order_date", "order_id"], kind="mergesort")
        .reset_index(drop=True)
    )
    order_ids = orders["order_id"].to_numpy(dtype=np.int64)
    by_id = np.argsort(order_ids, kind="stable")
    line_orders = lines["order_id"].to_numpy(dtype=np.int64)[known]
    rows = by_id[locate(order_ids[by_id], line_orders)[0]]
    matrix = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, columns[known])), shape=(len(orders), catalog.size)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return orders, matrix


def random_order_lines(*, seed: int, days: int, spread_ids: bool) -> pd.DataFrame:
    """~3,000 lines of 700 orders of 80 customers over `days` days, one line per order and
    product; order ids 2**40 apart when `spread_ids`."""
    rng = np.random.default_rng(seed)
    n_orders, n = 700, 3000
    order_of_line = rng.integers(0, n_orders, n)
    customer_of_order = rng.integers(0, 80, n_orders)
    day_of_order = rng.integers(0, days, n_orders)
    return pd.DataFrame(
        {
            "customer_id": customer_of_order[order_of_line],
            "order_id": order_of_line * (2**40 if spread_ids else 3) + 5,
            "product_id": rng.integers(0, 60, n),
            "order_date": (
                np.datetime64("2025-01-01") + day_of_order[order_of_line].astype("timedelta64[D]")
            ).astype("datetime64[s]"),
        }
    ).drop_duplicates(["order_id", "product_id"], ignore_index=True)


def half_catalog() -> Catalog:
    """Every other product of random_order_lines' 60: the lines of the others are unknown and
    dropped."""
    return build_catalog(
        pd.DataFrame(
            {
                "product_id": np.arange(0, 60, 2),
                "product_name": "p",
                "category": "c",
                "is_repurchase_typical": False,
                "is_launched": True,
                "launched_date": pd.NaT,
            }
        )
    )


@pytest.mark.parametrize("case", ["plain", "null_dates", "spread_ids", "inconsistent_orders"])
def test_order_matrix_by_packed_sort_equals_the_pandas_sort(case):
    lines = random_order_lines(seed=11, days=200, spread_ids=case == "spread_ids")
    if case == "null_dates":
        lines.loc[np.isin(lines["order_id"], lines["order_id"].iloc[::7]), "order_date"] = pd.NaT
    if case == "inconsistent_orders":  # an order's lines disagree: the first line's is kept
        lines.loc[::50, "customer_id"] += 1
    catalog = half_catalog()
    orders, matrix = order_matrix(lines, catalog)
    expected_orders, expected = reference_order_matrix(lines, catalog)
    pd.testing.assert_frame_equal(orders, expected_orders, check_exact=True)
    for attribute in ("data", "indices", "indptr"):
        got, want = getattr(matrix, attribute), getattr(expected, attribute)
        assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize(
    "case",
    ["plain", "empty", "null_dates", "all_null_dates", "same_day_orders", "spread_ids",
     "inconsistent_orders", "inconsistent_dates", "targets_subset"],
)
def test_recent_orders_by_scatter_max_equal_the_order_matrix(case):
    """The latest orders found without the order matrix (the served lists) are the order
    matrix's, matrix for matrix; the cases it does not handle go the order matrix's way."""
    # Few days: many customers have several orders on their latest day (ties by order id).
    lines = random_order_lines(seed=13, days=3 if case == "same_day_orders" else 200,
                               spread_ids=case == "spread_ids")
    if case == "empty":
        lines = lines.iloc[:0]
    if case == "null_dates":  # a null date sorts last: such an order is its customer's latest
        lines.loc[np.isin(lines["order_id"], lines["order_id"].iloc[::7]), "order_date"] = pd.NaT
    if case == "all_null_dates":
        lines["order_date"] = pd.NaT
    if case == "inconsistent_orders":
        lines.loc[::50, "customer_id"] += 1
    if case == "inconsistent_dates":
        lines.loc[::50, "order_date"] += pd.Timedelta(days=1)
    catalog = half_catalog()
    # Targets with and without lines, one unknown, in id order as prepare_targets passes them.
    target_ids = np.arange(-1, 85, 2 if case == "targets_subset" else 1, dtype=np.int64)
    expected = recent_orders(lines, target_ids, catalog, count=3,
                             orders=order_matrix(lines, catalog))
    got = recent_orders(lines, target_ids, catalog, count=3)
    fast = _recent_orders_by_lines(lines, target_ids, catalog, count=3)
    assert (fast is None) == (case in ("spread_ids", "inconsistent_orders", "inconsistent_dates"))
    for matrix, reference in zip(got, expected, strict=True):
        if fast is not None:  # canonical as it comes; the order matrix's product may not be
            assert matrix.has_canonical_format
        matrix, reference = matrix.tocsr(), reference.tocsr()
        matrix.sort_indices()
        reference.sort_indices()
        assert matrix.shape == reference.shape
        for attribute in ("data", "indices", "indptr"):
            assert np.array_equal(getattr(matrix, attribute), getattr(reference, attribute))


# The null id case: pandas' cast of a null id to int64, as the old path always made it.
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_known_order_lines_equal_the_pandas_cut_of_the_whole_table():
    """known_order_lines: the lines known and not retracted by the day, cut in SQL and typed
    from Arrow, are order_lines_as_of of the whole table, in the same order; a duplicated
    (order, product) among them is the same error, one among the cut lines only is not."""
    rng = np.random.default_rng(5)
    n = 3000
    day = np.datetime64("2025-06-01")
    order_date = np.datetime64("2025-01-01") + rng.integers(0, 200, n).astype("timedelta64[D]")
    known_date = order_date + rng.integers(0, 5, n).astype("timedelta64[D]")
    retracted = known_date + rng.integers(0, 30, n).astype("timedelta64[D]")
    lines = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 90, n),
            "order_id": rng.permutation(n),  # not in table order
            "product_id": rng.integers(0, 50, n),
            "order_date": order_date,
            "known_date": known_date,
            "retracted_date": np.where(rng.random(n) < 0.2, retracted, np.datetime64("NaT")),
        }
    )
    lines.loc[lines.index[::11], "known_date"] = pd.NaT  # never known
    lines.loc[lines.index[::13], "order_date"] = pd.NaT
    late = lines[lines["known_date"] > pd.Timestamp(day)].head(1)

    def both(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        with duckdb.connect() as con:
            source = frame.reset_index(drop=True)  # noqa: F841 - read by DuckDB
            con.execute("create table lines as select * from source")
            for column in ["order_date", "known_date", "retracted_date"]:
                con.execute(f"alter table lines alter {column} type date")
            relation = con.table("lines")
            whole = warehouse_frame(relation)
            return known_order_lines(relation, day), order_lines_as_of(whole, day)

    for frame in (lines, lines.iloc[:0], lines[lines["known_date"] > pd.Timestamp(day)]):
        fast, reference = both(frame)
        pd.testing.assert_frame_equal(fast, reference, check_exact=True)
    # A copy of a line known only later is no duplicate as of the day; one known by then is.
    fast, reference = both(pd.concat([lines, late.assign(product_id=late["product_id"])]))
    pd.testing.assert_frame_equal(fast, reference, check_exact=True)
    known = lines[lines["known_date"] <= pd.Timestamp(day)].head(1)
    with pytest.raises(ValueError, match="order lines has duplicate"):
        both(pd.concat([lines, known]))
    # A null id: the pandas path, whatever it makes of it (here: the same error).
    nulls = lines.astype({"customer_id": "Int64"})
    nulls.loc[known.index, "customer_id"] = pd.NA
    outcomes = []
    for read in (lambda: both(nulls)[0], lambda: both(nulls)[1]):
        try:
            outcomes.append(read())
        except (ValueError, TypeError) as error:
            outcomes.append(type(error))
    if isinstance(outcomes[0], pd.DataFrame):
        pd.testing.assert_frame_equal(outcomes[0], outcomes[1], check_exact=True)
    else:
        assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("case", ["sorted", "shuffled", "empty", "no_targets_bought"])
@pytest.mark.parametrize("half_life", [60.0, None])
def test_history_matrices_in_csr_order_equal_the_coo_built_ones(case, half_life):
    """The recency and order-count matrices built from a history already in CSR order (and,
    when it is not, through COO) are the reference's, array for array and dtype for dtype."""
    rng = np.random.default_rng(17)
    n = 4000
    lines = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 100, n),
            "order_id": np.arange(n, dtype=np.int64),
            "product_id": rng.integers(0, 60, n),
            "order_date": (
                np.datetime64("2025-01-01") + rng.integers(0, 300, n).astype("timedelta64[D]")
            ).astype("datetime64[s]"),
        }
    )
    history = purchase_history(lines)
    if case == "shuffled":
        history = history.sample(frac=1.0, random_state=3).reset_index(drop=True)
    if case == "empty":
        history = history.iloc[:0]
    # Every other customer a target, some targets without history, unknown products dropped.
    target_ids = np.arange(1000, 1100) if case == "no_targets_bought" else np.arange(-3, 100, 2)
    catalog = build_catalog(
        pd.DataFrame(
            {
                "product_id": np.arange(0, 60, 2),
                "product_name": "p",
                "category": "c",
                "is_repurchase_typical": False,
                "is_launched": True,
                "launched_date": pd.NaT,
            }
        )
    )
    day = np.datetime64("2025-12-01")
    got = _history_matrices(history, target_ids, catalog, day, half_life)
    expected = (
        _history_matrix(history, target_ids, catalog, day, half_life),
        _history_matrix(history, target_ids, catalog, day, None, values="orders"),
    )
    for matrix, reference in zip(got, expected, strict=True):
        assert matrix.shape == reference.shape and matrix.has_canonical_format
        for attribute in ("data", "indices", "indptr"):
            got_values, want = getattr(matrix, attribute), getattr(reference, attribute)
            assert got_values.dtype == want.dtype
            if attribute == "data":  # floats by their bits
                got_values, want = got_values.view(np.int64), want.view(np.int64)
            assert np.array_equal(got_values, want)


@pytest.mark.parametrize("n", [0, 1, 7, 2000])
def test_run_offsets_and_later_orders_equal_searchsorted_and_cumcount(n):
    rng = np.random.default_rng(n)
    ordered = np.sort(rng.integers(-5, 40, n))
    expected_offsets = np.arange(n) - np.searchsorted(ordered, ordered)
    assert np.array_equal(offsets_in_runs(ordered), expected_offsets)
    for customers in (ordered, rng.integers(0, 40, n)):  # sorted (linear pass) and not (pandas)
        series = pd.Series(customers)
        expected = series.groupby(series, sort=False).cumcount(ascending=False).to_numpy()
        assert np.array_equal(_later_orders(customers), expected)


@pytest.mark.parametrize("window_days", [1, 30, 90, 10_000])
def test_popularity_from_the_windows_lines_equals_it_from_the_whole_history(shop, window_days):
    cutoff = shop["windows"]["cutoff_date"].max()
    customers = shop["customers"][shop["customers"]["as_of_date"] == cutoff]
    catalog = build_catalog(shop["catalogue"][shop["catalogue"]["as_of_date"] == cutoff])
    lines = order_lines_as_of(shop["lines"], cutoff)
    config = RecommenderConfig(popularity_window_days=window_days)
    fast = learn(customers, lines, catalog, as_of=cutoff, config=config)
    full = learn(customers, lines, catalog, as_of=cutoff, config=config,
                 history=purchase_history(lines))
    for name in ("scores", "levels", "fallback_scores", "fallback_levels"):
        assert np.array_equal(getattr(fast.prior, name), getattr(full.prior, name))
    pd.testing.assert_frame_equal(fast.prior.segments, full.prior.segments)


def test_inputs_cut_in_sql_give_the_recommendations_of_the_whole_tables(shop):
    """Lines known later or retracted by then, other days' catalogue and other methods'
    metrics are left in DuckDB, and the shop-wide statistics go through their table
    (ml_recommender_statistics): the recommendations are those of the whole tables."""
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
        learned = statistics_from_warehouse(StatisticsRelations(**relations))  # noqa: F841
        relations["statistics"] = con.sql("select * from learned")
        fast = recommendations_from_warehouse(ServingRelations(**relations))
    # Learned, stored as rows, read back and applied: what learning and applying in one go give.
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
    learned = statistics_from_warehouse(StatisticsRelations(  # noqa: F841 - read by DuckDB
        serving=relations["population"], lines=relations.pop("lines"),
        catalogue=relations["catalogue"], metrics=relations["metrics"]))
    con.execute("create table statistics as select * from learned")
    relations["statistics"] = con.table("statistics")
    return relations


def _fresh_case(shop: dict[str, pd.DataFrame], fresh_day_offset: int = 1) -> dict:
    """A closed day's population (two countries, a customer without one), lines and catalogue;
    every 7th customer fresh, with one old line gone and one line bought on the open day."""
    closed_day = shop["windows"]["evaluation_end_date"].max()
    open_day = closed_day + timedelta(days=fresh_day_offset)
    population = shop["customers"].drop_duplicates("customer_id").reset_index(drop=True)
    population["country_code"] = np.where(population["customer_id"] % 3 == 0, "FR", "DE")
    population.loc[population.index[5], "country_code"] = None
    fresh_ids = population["customer_id"].iloc[::7].to_numpy()
    lines = shop["lines"].copy()
    ours = lines[lines["customer_id"].isin(fresh_ids)]
    fresh_lines = pd.concat(
        [ours.iloc[1:], ours.iloc[:1].assign(order_id=-1, order_date=open_day,
                                             known_date=open_day, retracted_date=pd.NaT)],
        ignore_index=True,
    )
    parameters = '{"k": 10, "method": "blend", "basket_weight": 0.2}'
    return {
        "closed_day": closed_day, "open_day": open_day, "population": population,
        "fresh_ids": fresh_ids, "lines": lines, "fresh_lines": fresh_lines,
        "catalogue": shop["catalogue"].drop_duplicates("product_id").assign(as_of_date=closed_day),
        "metrics": pd.DataFrame({"method": [SERVED_METHOD], "parameters_json": [parameters]}),
        "config": RecommenderConfig.from_mapping(json.loads(parameters)),
    }


def _fresh_recommendations(case: dict, fresh_lines: pd.DataFrame,
                           as_of_date=None) -> pd.DataFrame:
    fresh = pd.DataFrame({"customer_id": case["fresh_ids"],
                          "as_of_date": as_of_date or case["open_day"]})
    with duckdb.connect() as con:
        relations = _fresh_relations(con, {
            "fresh": fresh, "population": case["population"].assign(as_of_date=case["closed_day"]),
            "lines": case["lines"], "fresh_lines": fresh_lines, "catalogue": case["catalogue"],
            "metrics": case["metrics"]})
        return fresh_recommendations_from_warehouse(FreshRelations(**relations)).to_pandas()


def test_fresh_recommendations_score_the_fresh_lines_with_the_closed_days_statistics(shop):
    """ml_product_recommendations_fresh: each fresh customer's own lines known by the open day
    (a line of today included, an old one gone), scored with the statistics learned from
    everyone's lines on the closed day. Fails if a fresh customer's closed lines leak, or if
    today's line is ignored or enters the shop-wide statistics."""
    case = _fresh_case(shop)
    got = _fresh_recommendations(case, case["fresh_lines"])
    catalog = build_catalog(case["catalogue"])
    statistics = learn(case["population"], order_lines_as_of(case["lines"], case["closed_day"]),
                       catalog, as_of=case["closed_day"], config=case["config"])
    targets = case["population"][case["population"]["customer_id"].isin(case["fresh_ids"])]
    expected = recommend_with_statistics(
        statistics, targets, order_lines_as_of(case["fresh_lines"], case["open_day"]), catalog,
        as_of=case["open_day"], config=case["config"])
    assert set(got["customer_id"]) == set(case["fresh_ids"])
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    # The line bought today is the fresh customer's latest order: it changes their list...
    ours = case["lines"][case["lines"]["customer_id"].isin(case["fresh_ids"])]
    assert not got.equals(_fresh_recommendations(case, ours))
    # ...but not the shop's statistics: learned with today's lines, the lists differ.
    current = pd.concat([case["lines"][~case["lines"]["customer_id"].isin(case["fresh_ids"])],
                         case["fresh_lines"]], ignore_index=True)
    relearned = recommend_from_lines(
        case["population"], order_lines_as_of(current, case["open_day"]), catalog,
        as_of=case["open_day"], config=case["config"], for_customers=case["fresh_ids"])
    assert not got.equals(relearned.astype(got.dtypes.to_dict()))


def test_a_fresh_customer_with_nothing_new_gets_their_closed_day_list(shop):
    """As of the closed day and with their closed lines, the fresh path (statistics read back
    from their table, the customers' own lines only) gives exactly the lists of recommending
    for everyone from every line."""
    case = _fresh_case(shop)
    ours = case["lines"][case["lines"]["customer_id"].isin(case["fresh_ids"])]
    got = _fresh_recommendations(case, ours, as_of_date=case["closed_day"])
    expected = recommend_from_lines(
        case["population"], order_lines_as_of(case["lines"], case["closed_day"]),
        build_catalog(case["catalogue"]), as_of=case["closed_day"], config=case["config"],
        for_customers=case["fresh_ids"])
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)


def test_fresh_recommendations_of_nobody_are_an_empty_typed_table(shop):
    closed_day = shop["windows"]["evaluation_end_date"].max()
    with duckdb.connect() as con:
        relations = _fresh_relations(con, {
            "fresh": pd.DataFrame({"customer_id": pd.Series(dtype="int64"),
                                   "as_of_date": pd.Series(dtype="datetime64[s]")}),
            "population": shop["customers"].drop_duplicates("customer_id")
            .assign(as_of_date=closed_day),
            "lines": shop["lines"], "fresh_lines": shop["lines"].iloc[:0],
            "catalogue": shop["catalogue"].drop_duplicates("product_id")
            .assign(as_of_date=closed_day),
            "metrics": pd.DataFrame({"method": [SERVED_METHOD], "parameters_json": ["{}"]})})
        got = fresh_recommendations_from_warehouse(FreshRelations(**relations))
    assert got.num_rows == 0
    assert got.schema == RECOMMENDATION_SCHEMA


def test_blocks_of_a_wide_catalogue_hold_fewer_customers():
    """chunk_size customers per block up to BLOCK_CELLS cells, fewer for a wide catalogue;
    every row once, in order."""
    for products, rows_per_block in [(5_000, 2048), (20_096, BLOCK_CELLS // 20_096), (10**8, 1)]:
        prepared = SimpleNamespace(config=RecommenderConfig(chunk_size=2048),
                                   target_ids=np.arange(5_000),
                                   catalog=SimpleNamespace(size=products))
        blocks = list(chunks(prepared))
        assert {b.stop - b.start for b in blocks[:-1]} == {rows_per_block}
        rows = np.concatenate([prepared.target_ids[block] for block in blocks])
        assert np.array_equal(rows, np.arange(5_000))


def test_blocks_scored_on_threads_come_back_in_block_order(monkeypatch):
    """map_blocks keeps the blocks' order when later blocks finish first."""
    monkeypatch.setenv("RETAIL_ML_THREADS", "3")
    prepared = SimpleNamespace(config=RecommenderConfig(chunk_size=2), target_ids=np.arange(9),
                               catalog=SimpleNamespace(size=5))
    finished = []

    def score(rows: slice) -> int:
        time.sleep(0.02 * (9 - rows.start))  # the first block finishes last
        finished.append(rows.start)
        return rows.start

    assert map_blocks(prepared, score) == [0, 2, 4, 6, 8]
    assert finished != sorted(finished)  # they did run at once
    monkeypatch.setenv("RETAIL_ML_THREADS", "1")
    assert block_workers() == 1 and map_blocks(prepared, score) == [0, 2, 4, 6, 8]
