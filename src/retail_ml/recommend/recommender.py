"""Top-k product recommendations per customer, by one of four methods sharing one set of rules.

``blend`` (served; chosen on the rolling backtest, see ml_recommendation_metrics): the score of
product ``j`` for a customer is

    pref(cat(j)) · share(j)                      category affinity (signals.category_preference
                                                  and category_share)
  + repeat_weight · r(j) · [j repurchase-typical] buying it again (r halves every
                                                  recency_half_life_days since the last order)
  + basket_weight · Σ_i o(i) · B[i, j]          bought in one basket with a product of the
  + next_order_weight · Σ_i o(i) · N[i, j]      latest orders, or in the order after it
                                                  (signals.sequence_signals)

with ``o(i)`` = 1 for the products of the customer's latest order and ``previous_order_decay``
for those of the order before. A customer with no purchases has only their country's category
mix times each product's share of its category: that is the cold start.

The other methods are the comparisons of the backtest: ``copurchase`` (item-item similarity
over whole histories, :mod:`~retail_ml.recommend.similarity`, plus a popularity prior),
``popularity`` (segment, country or shop level, :mod:`~retail_ml.recommend.popularity`) and
``buy_again`` (the customer's most-ordered repurchase-typical products, then popularity).

Eligible products, whatever the method: on sale on the as-of date (``is_launched`` of the
catalogue: launched and known by then), and not bought by the customer before unless their
subcategory is repurchase-typical. Ties are broken by ``product_id``, so the output is a
deterministic function of the inputs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import sparse

from retail_ml.recommend._checks import require_columns, require_rows, require_unique
from retail_ml.recommend.inputs import (
    CUSTOMER_COLUMNS,
    Catalog,
    as_day,
    build_catalog,
    locate,
    order_lines_as_of,
    purchase_history,
    recent_purchases,
)
from retail_ml.recommend.popularity import POPULARITY_LEVELS, Popularity, popularity
from retail_ml.recommend.shortlist import TopK, block_top_k, leaders
from retail_ml.recommend.signals import (
    CategoryTaste,
    category_preference,
    category_share,
    category_taste,
    order_matrix,
    recent_orders,
    sequence_signals,
)
from retail_ml.recommend.similarity import item_similarity

#: Columns of a recommendations frame, in order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "product_id",
    "rank",
    "score",
    "reason",
    "as_of_date",
)
BUY_AGAIN = "buy again"
#: The scoring methods (see the module docstring).
METHODS: tuple[str, ...] = ("blend", "copurchase", "popularity", "buy_again")
#: The blend's tuned weights (evaluation.TUNING_GRID searches them on the tuning window).
BLEND_WEIGHTS: tuple[str, ...] = ("repeat_weight", "basket_weight", "next_order_weight")


@dataclass(frozen=True)
class RecommenderConfig:
    """Parameters of the recommender.

    Attributes:
        k: Recommendations per customer.
        method: ``blend``, ``copurchase``, ``popularity`` or ``buy_again``.
        similarity: ``cosine`` or ``counts`` (``copurchase`` only).
        neighbours: Similar products kept per product (``copurchase`` only).
        repurchase_weight: ``copurchase``: weight of a repurchase-typical product's
            similarity to itself.
        recency_half_life_days: Half-life of a past purchase's weight; ``None`` = all equal.
        popularity_level: ``segment`` (country and signup channel, falling back to country and
            then the shop), ``country`` or ``global``.
        popularity_window_days: Purchases in this many days up to the as-of date make popularity.
        popularity_weight: Weight of the popularity prior (``copurchase``).
        popularity_shrinkage: Pseudo-count pulling small segments to their country and small
            countries to the shop.
        category_prior_strength: ``blend``: pseudo-count of the country's category mix in a
            customer's category preference.
        repeat_weight, basket_weight, next_order_weight: ``blend`` weights (tuned).
        previous_order_decay: ``blend``: weight of the second-latest order's products relative
            to the latest order's.
        sequence_neighbours: ``blend``: products kept per row of the basket and next-order
            shares.
        chunk_size: Customers scored at once, at most (fewer for a wide catalogue: ``BLOCK_CELLS``).
    """

    k: int = 10
    method: str = "blend"
    similarity: str = "cosine"
    neighbours: int = 10
    repurchase_weight: float = 2.0
    recency_half_life_days: float | None = 60.0
    popularity_level: str = "segment"
    popularity_window_days: int = 90
    popularity_weight: float = 1.0
    popularity_shrinkage: float = 50.0
    category_prior_strength: float = 3.0
    repeat_weight: float = 0.05
    basket_weight: float = 0.3
    next_order_weight: float = 0.3
    previous_order_decay: float = 0.5
    sequence_neighbours: int = 50
    chunk_size: int = 2048

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}: {self.method!r}")
        if self.similarity not in ("cosine", "counts"):
            raise ValueError(f"similarity must be 'cosine' or 'counts': {self.similarity!r}")
        if self.popularity_level not in POPULARITY_LEVELS:
            raise ValueError(f"popularity_level must be one of {POPULARITY_LEVELS}")
        if self.popularity_window_days < 1 or self.chunk_size < 1:
            raise ValueError("popularity_window_days and chunk_size must be at least 1")
        if self.recency_half_life_days is not None and self.recency_half_life_days <= 0:
            raise ValueError("recency_half_life_days must be positive or None")
        weights = [
            self.popularity_weight,
            self.repurchase_weight,
            self.repeat_weight,
            self.basket_weight,
            self.next_order_weight,
            self.previous_order_decay,
        ]
        if min(weights) < 0:
            raise ValueError("weights and previous_order_decay must be >= 0")
        if self.category_prior_strength <= 0:
            raise ValueError("category_prior_strength must be positive")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> RecommenderConfig:
        """A config from a mapping (e.g. the model's dbt config); unknown keys are an error."""
        values = dict(values or {})
        unknown = sorted(set(values) - {field.name for field in fields(cls)})
        if unknown:
            raise ValueError(f"unknown recommender parameters: {unknown}")
        return cls(**values)


def recommend(
    customers: pd.DataFrame,
    lines: pd.DataFrame,
    catalogue: pd.DataFrame,
    *,
    as_of: date,
    config: RecommenderConfig | None = None,
) -> pd.DataFrame:
    """The top ``config.k`` products for every customer as of the end of ``as_of``.

    Args:
        customers: One row per customer to recommend for (``customer_id``, ``country_code``,
            ``signup_channel``), e.g. feat_customer_serving. Also the population whose recent
            purchases make segment popularity and whose countries make the category mixes.
        lines: int_recommender_order_lines (any dates: only lines known by ``as_of`` are
            used). May be empty (everyone is then a cold start).
        catalogue: int_product_catalogue_requested at ``as_of`` (``product_id``,
            ``product_name``, ``category``, ``is_repurchase_typical``, ``is_launched``,
            ``launched_date``).
        as_of: The as-of date.
        config: Parameters; the defaults when omitted.

    Returns:
        ``OUTPUT_COLUMNS``: ``min(k, eligible products)`` rows per customer, ``rank`` 1..k by
        descending score (ties by product id), ``reason`` the main contribution, sorted by
        customer and rank.

    Raises:
        ValueError: On empty customers or catalogue, missing columns or duplicate ids.
    """
    config = config or RecommenderConfig()
    catalog = build_catalog(catalogue)
    known = order_lines_as_of(lines, as_of)
    return recommend_from_lines(customers, known, catalog, as_of=as_of, config=config)


@dataclass(frozen=True)
class Prepared:
    """What a method needs as of one date, computed once for a set of target customers."""

    config: RecommenderConfig
    catalog: Catalog
    target_ids: np.ndarray
    has_history: np.ndarray  # per target
    segments: np.ndarray  # per target: row of prior.scores
    prior: Popularity
    recency: sparse.csr_matrix  # targets × products: recency weight of past purchases
    orders: sparse.csr_matrix  # targets × products: distinct orders with the product
    similarity: sparse.csr_matrix | None
    recent: sparse.csr_matrix | None  # latest order + decay × the one before
    sequence: sparse.csr_matrix | None  # basket_weight · B + next_order_weight · N
    basket: sparse.csr_matrix | None
    next_order: sparse.csr_matrix | None
    preference: np.ndarray | None  # targets × categories
    share: np.ndarray | None
    category_codes: np.ndarray
    category_names: np.ndarray


@dataclass(frozen=True)
class ShopStatistics:
    """What ``config.method`` learns from every customer's order lines as of one day: the part
    of :class:`Prepared` shared by all customers (the rest is each customer's own history).

    Learned on the last closed day, it is also what a fresh customer is scored with during the
    open day (ml_recommender_statistics; docs: intraday_freshness)."""

    as_of: np.datetime64
    prior: Popularity
    similarity: sparse.csr_matrix | None = None  # copurchase
    basket: sparse.csr_matrix | None = None  # blend
    next_order: sparse.csr_matrix | None = None  # blend
    taste: CategoryTaste | None = None  # blend
    share: np.ndarray | None = None  # blend: per product


def learn(
    customers: pd.DataFrame,
    lines: pd.DataFrame,
    catalog: Catalog,
    *,
    as_of: date,
    config: RecommenderConfig,
    history: pd.DataFrame | None = None,
    orders: tuple[pd.DataFrame, sparse.csr_matrix] | None = None,
) -> ShopStatistics:
    """The shop-wide statistics of ``config.method`` as of ``as_of``.

    Args:
        customers: The population (see :func:`recommend`).
        lines: :func:`~retail_ml.recommend.inputs.order_lines_as_of` at ``as_of``: everyone's.
        catalog: :func:`~retail_ml.recommend.inputs.build_catalog` at ``as_of``.
        as_of: The as-of date.
        config: Parameters.
        history: ``purchase_history(lines)``, when already computed.
        orders: ``order_matrix(lines, catalog)``, when already computed.
    """
    require_columns(customers, CUSTOMER_COLUMNS, "customers")
    require_rows(customers, "customers")
    require_unique(customers, ["customer_id"], "customers")
    day = as_day(as_of)
    window_start = day - np.timedelta64(config.popularity_window_days, "D")
    if history is None and config.method != "copurchase":
        # Only the popularity reads the history then, and only who bought what in its window:
        # the window's lines give those (customer, product) rows (a pair's last order is in
        # the window exactly when one of its lines is), from a fraction of the lines.
        recent = recent_purchases(lines, window_start)
    else:
        history = purchase_history(lines) if history is None else history
        recent = history[history["last_order_date"] > window_start]
    prior = popularity(
        recent,
        customers,
        catalog,
        level=config.popularity_level,
        shrinkage=config.popularity_shrinkage,
    )
    if config.method == "copurchase":
        similarity = item_similarity(
            history,
            catalog,
            method=config.similarity,
            neighbours=config.neighbours,
            repurchase_weight=config.repurchase_weight,
        )
        return ShopStatistics(as_of=day, prior=prior, similarity=similarity)
    if config.method == "blend":
        signals = sequence_signals(
            lines, catalog, neighbours=config.sequence_neighbours,
            orders=orders or order_matrix(lines, catalog),
        )
        return ShopStatistics(
            as_of=day,
            prior=prior,
            basket=signals.basket,
            next_order=signals.next_order,
            taste=category_taste(lines, customers, catalog),
            share=category_share(lines, catalog, as_of=day),
        )
    return ShopStatistics(as_of=day, prior=prior)


def prepare_targets(
    statistics: ShopStatistics,
    targets: pd.DataFrame,
    lines: pd.DataFrame,
    catalog: Catalog,
    *,
    as_of: date,
    config: RecommenderConfig,
    history: pd.DataFrame | None = None,
    orders: tuple[pd.DataFrame, sparse.csr_matrix] | None = None,
) -> Prepared:
    """:class:`Prepared` for ``targets`` from shop-wide ``statistics`` and the targets' own
    order lines as of ``as_of`` (which may be after ``statistics.as_of``: a fresh customer's
    purchases of today count for them, not yet for the shop).

    Args:
        statistics: :func:`learn` with the same ``config`` and catalogue.
        targets: The customers to score (``CUSTOMER_COLUMNS``); their segments need not be
            in the statistics' population (:meth:`Popularity.covering`).
        lines: :func:`~retail_ml.recommend.inputs.order_lines_as_of` at ``as_of``: at least
            the targets' lines (other customers' lines are ignored).
        catalog: The catalogue the statistics were learned with.
        as_of: The as-of date of the targets' histories.
        config: Parameters.
        history: ``purchase_history(lines)``, when already computed.
        orders: ``order_matrix(lines, catalog)``, when already computed.
    """
    require_columns(targets, CUSTOMER_COLUMNS, "targets")
    require_unique(targets, ["customer_id"], "targets")
    day = as_day(as_of)
    history = purchase_history(lines) if history is None else history
    targets = targets.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    target_ids = targets["customer_id"].to_numpy(dtype=np.int64)
    prior = statistics.prior.covering(targets) if len(targets) else statistics.prior
    recency, ordered = _history_matrices(
        history, target_ids, catalog, day, config.recency_half_life_days
    )
    names, codes = catalog.category_codes

    recent = sequence = preference = None
    if config.method == "blend":
        if statistics.basket is None or statistics.next_order is None or statistics.taste is None:
            raise ValueError("the statistics were not learned for the blend")
        sequence = (
            config.basket_weight * statistics.basket
            + config.next_order_weight * statistics.next_order
        ).tocsr()
        sequence.sort_indices()
        # Without ``orders`` the latest two are found without the order matrix (the served
        # lists' run), with the same matrices.
        latest, before = recent_orders(lines, target_ids, catalog, count=2, orders=orders)
        recent = (latest + config.previous_order_decay * before).tocsr()
        recent.sort_indices()
        preference = category_preference(
            statistics.taste, lines, targets, catalog, prior_strength=config.category_prior_strength
        )
    return Prepared(
        config=config,
        catalog=catalog,
        target_ids=target_ids,
        has_history=np.diff(ordered.indptr) > 0,
        segments=prior.segment_of(targets) if len(targets) else np.zeros(0, dtype=np.int64),
        prior=prior,
        recency=recency,
        orders=ordered,
        similarity=statistics.similarity,
        recent=recent,
        sequence=sequence,
        basket=statistics.basket,
        next_order=statistics.next_order,
        preference=preference,
        share=statistics.share,
        category_codes=codes,
        category_names=names,
    )


def prepare(
    customers: pd.DataFrame,
    lines: pd.DataFrame,
    catalog: Catalog,
    *,
    as_of: date,
    config: RecommenderConfig,
    for_customers: np.ndarray | None = None,
    history: pd.DataFrame | None = None,
) -> Prepared:
    """The matrices ``config.method`` scores with, as of ``as_of``: :func:`learn` on everyone,
    then :func:`prepare_targets`.

    Args:
        customers: The population (see :func:`recommend`).
        lines: :func:`~retail_ml.recommend.inputs.order_lines_as_of` at ``as_of``.
        catalog: :func:`~retail_ml.recommend.inputs.build_catalog` at ``as_of``.
        as_of: The as-of date.
        config: Parameters.
        for_customers: Score only these customer ids (default: all of ``customers``).
        history: ``purchase_history(lines)`` when the caller already has it (the backtest
            scores several methods on one date).
    """
    history = purchase_history(lines) if history is None else history
    orders = order_matrix(lines, catalog) if config.method == "blend" else None
    statistics = learn(
        customers, lines, catalog, as_of=as_of, config=config, history=history, orders=orders
    )
    targets = customers[list(CUSTOMER_COLUMNS)]
    if for_customers is not None:
        targets = targets[targets["customer_id"].isin(np.asarray(for_customers, dtype=np.int64))]
    return prepare_targets(
        statistics, targets, lines, catalog, as_of=as_of, config=config, history=history,
        orders=orders,
    )


#: Customer × product cells of a block at most (the large scale's 2048 × 5k products fit;
#: the xl scale's 20k products give blocks of 597 customers), so that a block's dense
#: customer × product arrays (the eligibility mask: one byte per cell) stay under glibc's
#: 32 MB mmap threshold and are reused instead of mapped afresh, page by page, for every
#: block (the xl scale's 2048 × 20k: 8x the time per pair).
BLOCK_CELLS = 12_000_000


def chunks(prepared: Prepared) -> Iterator[slice]:
    """The blocks of target rows scored at once: ``config.chunk_size`` rows, fewer when the
    catalogue is wide (``BLOCK_CELLS``). Every row's result is its own, whatever the block."""
    size = min(
        prepared.config.chunk_size, max(1, BLOCK_CELLS // max(prepared.catalog.size, 1))
    )
    for start in range(0, len(prepared.target_ids), size):
        yield slice(start, start + size)


Block = TypeVar("Block")


def block_workers() -> int:
    """How many blocks are scored at once: ``RETAIL_ML_THREADS``, the profile's thread count
    (default 2, as profiles.yml); 1 scores them one after the other."""
    return max(1, int(os.environ.get("RETAIL_ML_THREADS", "2")))


def map_blocks(prepared: Prepared, score: Callable[[slice], Block]) -> list[Block]:
    """``score(rows)`` of every block of :func:`chunks`, in block order, on
    :func:`block_workers` threads. The heavy steps of a block (numpy sorts and searches, scipy's
    sparse products) release the GIL, so two threads score about twice the blocks per second
    on two cores; each block reads ``prepared`` only and the results keep the blocks' order,
    so the output is the serial loop's, whatever the thread count."""
    workers = block_workers()
    if workers == 1:
        return [score(rows) for rows in chunks(prepared)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recommend-block") as pool:
        return list(pool.map(score, chunks(prepared)))


def recommend_from_lines(
    customers: pd.DataFrame,
    lines: pd.DataFrame,
    catalog: Catalog,
    *,
    as_of: date,
    config: RecommenderConfig,
    for_customers: np.ndarray | None = None,
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`recommend` on prepared inputs (shared by the backtest's methods).

    Args:
        customers: The population (see :func:`recommend`).
        lines: :func:`~retail_ml.recommend.inputs.order_lines_as_of` at ``as_of``.
        catalog: :func:`~retail_ml.recommend.inputs.build_catalog` at ``as_of``.
        as_of: The as-of date.
        config: Parameters.
        for_customers: Recommend only for these customer ids (default: all of ``customers``).
        history: ``purchase_history(lines)``, when already computed.
    """
    prepared = prepare(
        customers, lines, catalog, as_of=as_of, config=config, for_customers=for_customers,
        history=history,
    )
    return recommendations_of(prepared, as_of=as_of)


def recommend_with_statistics(
    statistics: ShopStatistics,
    targets: pd.DataFrame,
    lines: pd.DataFrame,
    catalog: Catalog,
    *,
    as_of: date,
    config: RecommenderConfig,
) -> pd.DataFrame:
    """The top ``config.k`` products of every customer of ``targets`` as of ``as_of``, scored
    with shop-wide ``statistics`` learned before (see :func:`prepare_targets`): the
    recommendations of the served table and of the fresh customers.

    Returns:
        As :func:`recommend`.
    """
    if targets.empty:
        return empty_output()
    prepared = prepare_targets(statistics, targets, lines, catalog, as_of=as_of, config=config)
    return recommendations_of(prepared, as_of=as_of)


def recommendations_of(prepared: Prepared, *, as_of: date) -> pd.DataFrame:
    """The top k of every target of ``prepared``, with reasons, as ``OUTPUT_COLUMNS``."""
    if len(prepared.target_ids) == 0:
        return empty_output()
    config = prepared.config
    lead = leaders(prepared)
    texts = ReasonTexts.of(prepared)

    def ranked(rows: slice) -> dict[str, np.ndarray]:
        (top,) = block_top_k(prepared, rows, [config], lead)
        return _ranked_columns(prepared, rows, top, texts)

    blocks = map_blocks(prepared, ranked)
    # One frame of the blocks' columns joined, not a frame per block concatenated (98 at the
    # large scale): the same frame, without converting and stacking each block's columns.
    result = pd.DataFrame(
        {name: np.concatenate([block[name] for block in blocks]) for name in blocks[0]}
    )
    result["as_of_date"] = pd.Timestamp(as_day(as_of)).date()
    return result[list(OUTPUT_COLUMNS)]


def empty_output() -> pd.DataFrame:
    """No recommendations, in ``OUTPUT_COLUMNS`` with their types."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype=np.int64),
            "product_id": pd.Series(dtype=np.int64),
            "rank": pd.Series(dtype=np.int64),
            "score": pd.Series(dtype=np.float64),
            "reason": pd.Series(dtype=object),
            "as_of_date": pd.Series(dtype=object),
        }
    )


def _history_matrix(
    history: pd.DataFrame,
    target_ids: np.ndarray,
    catalog: Catalog,
    day: np.datetime64,
    half_life_days: float | None,
    values: str = "recency",
) -> sparse.csr_matrix:
    """Target customer × product matrix of the history (rows in ``target_ids`` order): the
    recency weight of the last purchase (1 when ``half_life_days`` is None), or the number of
    orders with the product (``values="orders"``). The reference of :func:`_history_matrices`."""
    rows, found = locate(target_ids, history["customer_id"].to_numpy(dtype=np.int64))
    columns = catalog.positions(history["product_id"])
    keep = found & (columns >= 0)
    data = _history_values(history, keep, day, half_life_days, values)
    matrix = sparse.csr_matrix(
        (data, (rows[keep], columns[keep])), shape=(len(target_ids), catalog.size)
    )
    matrix.sort_indices()
    return matrix


def _history_values(
    history: pd.DataFrame,
    keep: np.ndarray,
    day: np.datetime64,
    half_life_days: float | None,
    values: str,
) -> np.ndarray:
    """The stored values of :func:`_history_matrix`, for the ``keep`` rows of ``history``."""
    if values == "orders":
        return history["orders"].to_numpy(dtype=np.float64)[keep]
    if half_life_days is None:
        return np.ones(keep.sum())
    age_days = (day - history["last_order_date"].to_numpy()[keep]).astype("timedelta64[D]")
    return 0.5 ** (age_days.astype(np.float64) / half_life_days)


def _history_matrices(
    history: pd.DataFrame,
    target_ids: np.ndarray,
    catalog: Catalog,
    day: np.datetime64,
    half_life_days: float | None,
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """``_history_matrix`` of the recency weights and of the orders, the targets and products
    located once for both. A history sorted by customer and product (purchase_history's) is
    already in CSR order: its rows are the CSR entries as they are, with no COO conversion and
    sort (5.7M pairs at the large scale); otherwise the reference builds them."""
    rows, found = locate(target_ids, history["customer_id"].to_numpy(dtype=np.int64))
    columns = catalog.positions(history["product_id"])
    keep = found & (columns >= 0)
    rows, columns = rows[keep], columns[keep]
    shape = (len(target_ids), catalog.size)
    cells = rows * catalog.size + columns
    in_order = bool((cells[1:] > cells[:-1]).all()) if len(cells) else True
    matrices = []
    for values in ("recency", "orders"):
        data = _history_values(history, keep, day, half_life_days, values)
        if in_order:
            indptr = np.zeros(shape[0] + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
            matrix = sparse.csr_matrix((data, columns, indptr), shape=shape)
        else:
            matrix = sparse.csr_matrix((data, (rows, columns)), shape=shape)
        matrix.sort_indices()
        matrices.append(matrix)
    return matrices[0], matrices[1]


@dataclass(frozen=True)
class ReasonTexts:
    """The texts of the reasons, made once for all blocks of customers (not per block)."""

    popular: np.ndarray  # segments × levels (Popularity.reason_texts)
    bought_with: np.ndarray  # per product
    category: np.ndarray  # per category

    @classmethod
    def of(cls, prepared: Prepared) -> ReasonTexts:
        return cls(
            popular=prepared.prior.reason_texts(),
            bought_with=np.array(
                [f"bought with {name}" for name in prepared.catalog.product_names], dtype=object
            ),
            category=np.array(
                [f"popular in {name}" for name in prepared.category_names], dtype=object
            ),
        )


def _ranked_with_reasons(
    prepared: Prepared, rows: slice, top: TopK, texts: ReasonTexts | None = None
) -> pd.DataFrame:
    """The top k of one block of customers with the main reason of each recommendation."""
    return pd.DataFrame(_ranked_columns(prepared, rows, top, texts))


def _ranked_columns(
    prepared: Prepared, rows: slice, top: TopK, texts: ReasonTexts | None = None
) -> dict[str, np.ndarray]:
    """The columns of :func:`_ranked_with_reasons`, as arrays."""
    p, config = prepared, prepared.config
    texts = texts or ReasonTexts.of(p)
    customer_ids = p.target_ids[rows]
    segments = p.segments[rows]
    r, c, values = top.rows, top.columns, top.values
    popular_texts = texts.popular[segments[r], p.prior.levels[segments[r], c]]
    bought_with = texts.bought_with
    if config.method == "popularity":
        reasons = popular_texts
    elif config.method == "buy_again":
        reasons = np.where(values["buy_again"] > 0, BUY_AGAIN, popular_texts)
    elif config.method == "copurchase":
        copurchase = values["copurchase"]
        sources = _top_sources(p.recency[rows], r, c, p.similarity)
        texts = np.where(sources == c, BUY_AGAIN, bought_with[np.maximum(sources, 0)])
        chosen = (sources >= 0) & (copurchase > 0) & (
            copurchase >= config.popularity_weight * values["popularity"]
        )
        reasons = np.where(chosen, texts, popular_texts)
    else:
        category = values["category"]
        repeat = config.repeat_weight * values["repeat"]
        sequence = (
            config.basket_weight * values["basket"]
            + config.next_order_weight * values["next_order"]
        )
        sources = _top_sources(p.recent[rows], r, c, p.sequence)
        # A customer with history sees their favourite category; a new one their country's.
        country_texts = texts.popular[segments[r], 1]
        category_texts = texts.category[p.category_codes[c]]
        reasons = np.where(p.has_history[rows][r], category_texts, country_texts)
        reasons = np.where((repeat > category) & (repeat >= sequence), BUY_AGAIN, reasons)
        by_sequence = (sources >= 0) & (sequence > category) & (sequence > repeat)
        reasons = np.where(by_sequence, bought_with[np.maximum(sources, 0)], reasons)
    return {
        "customer_id": customer_ids[r],
        "product_id": p.catalog.product_ids[c],
        "rank": top.ranks,
        "score": top.scores,
        "reason": reasons,
    }


def _top_sources(
    weights: sparse.csr_matrix,
    rows: np.ndarray,
    columns: np.ndarray,
    similarity: sparse.csr_matrix,
) -> np.ndarray:
    """For each (customer row, product column) pair, the bought product contributing most to
    its co-purchase score (ties to the lower product id); -1 when nothing contributes."""
    per_pair = np.diff(weights.indptr)[rows]
    pair = np.repeat(np.arange(len(rows)), per_pair)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    position = np.repeat(weights.indptr[rows], per_pair) + offset
    source = weights.indices[position]
    sources = np.full(len(rows), -1, dtype=np.int64)
    if len(pair) == 0:
        return sources
    linked = np.asarray(similarity[source, columns[pair]], dtype=np.float64).ravel()
    contribution = weights.data[position] * linked
    # A pair's entries are contiguous and in ascending source order (CSR rows are sorted), so
    # the first entry equal to the pair's maximum is the best source with the lowest id.
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    best_value = np.maximum.reduceat(contribution, starts)
    best = np.flatnonzero(contribution == np.repeat(best_value, np.diff(np.r_[starts, len(pair)])))
    first_best = best[np.r_[True, pair[best][1:] != pair[best][:-1]]]  # one per pair, in order
    positive = best_value > 0
    sources[pair[starts][positive]] = source[first_best][positive]
    return sources
