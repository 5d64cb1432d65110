"""Top-k product recommendations per customer: co-purchase similarity plus a popularity prior.

The score of product ``j`` for a customer is

    score(j) = sum over products i the customer bought of  w_i · S[i, j]  +  λ · pop(j)

where ``S`` is the item-item co-purchase similarity (:mod:`~retail_ml.recommend.similarity`;
its diagonal, ``repurchase_weight`` for repurchase-typical products, is what says "buy again"),
``w_i`` halves every ``recency_half_life_days`` since the customer last bought ``i``, ``pop`` is
the popularity of ``j`` in the customer's (country, signup channel) segment, shrunk towards the
country and the shop (:mod:`~retail_ml.recommend.popularity`), and ``λ`` is
``popularity_weight``. A customer with no purchases has only the prior: that is the cold start.

Eligible products: on sale on the as-of date (``is_launched`` of the catalogue: launched and
known by then), and not bought by the customer before unless their subcategory is
repurchase-typical. Ties are broken by ``product_id``, so the output is a
deterministic function of the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from retail_ml.recommend._checks import require_columns, require_rows, require_unique
from retail_ml.recommend.inputs import (
    CUSTOMER_COLUMNS,
    Catalog,
    as_day,
    build_catalog,
    purchase_history,
)
from retail_ml.recommend.popularity import POPULARITY_LEVELS, Popularity, popularity
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


@dataclass(frozen=True)
class RecommenderConfig:
    """Parameters of the recommender (defaults chosen on the offline evaluation).

    Attributes:
        k: Recommendations per customer.
        similarity: ``cosine``, ``counts`` or ``None`` (popularity only: the baselines).
        neighbours: Similar products kept per product.
        repurchase_weight: Weight of a repurchase-typical product's similarity to itself: how
            strongly having bought it recommends buying it again.
        recency_half_life_days: Half-life of a past purchase's weight; ``None`` = all equal.
        popularity_level: ``segment`` (country and signup channel, falling back to country and
            then the shop), ``country`` or ``global``.
        popularity_window_days: Purchases in this many days up to the as-of date make popularity.
        popularity_weight: ``λ``, the weight of the popularity prior.
        popularity_shrinkage: Pseudo-count pulling small segments to their country and small
            countries to the shop.
        chunk_size: Customers scored at once (memory: about 5 × chunk × products floats).
    """

    k: int = 10
    similarity: str | None = "cosine"
    neighbours: int = 10
    repurchase_weight: float = 2.0
    recency_half_life_days: float | None = 60.0
    popularity_level: str = "segment"
    popularity_window_days: int = 90
    popularity_weight: float = 1.0
    popularity_shrinkage: float = 50.0
    chunk_size: int = 2048

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.similarity not in ("cosine", "counts", None):
            raise ValueError(f"similarity must be 'cosine', 'counts' or None: {self.similarity!r}")
        if self.popularity_level not in POPULARITY_LEVELS:
            raise ValueError(f"popularity_level must be one of {POPULARITY_LEVELS}")
        if self.popularity_window_days < 1 or self.chunk_size < 1:
            raise ValueError("popularity_window_days and chunk_size must be at least 1")
        if self.recency_half_life_days is not None and self.recency_half_life_days <= 0:
            raise ValueError("recency_half_life_days must be positive or None")
        if self.popularity_weight < 0 or self.repurchase_weight < 0:
            raise ValueError("popularity_weight and repurchase_weight must be >= 0")

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
    purchases: pd.DataFrame,
    catalogue: pd.DataFrame,
    *,
    as_of: date,
    config: RecommenderConfig | None = None,
) -> pd.DataFrame:
    """The top ``config.k`` products for every customer as of the end of ``as_of``.

    Every input is already as of ``as_of`` (the warehouse decides what was known then).

    Args:
        customers: One row per customer to recommend for (``customer_id``, ``country_code``,
            ``signup_channel``), e.g. feat_customer_serving. Also the population whose recent
            purchases make segment popularity.
        purchases: int_customer_products_purchased at ``as_of`` (``customer_id``,
            ``product_id``, ``last_order_date``). May be empty (everyone is then a cold start).
        catalogue: int_product_catalogue_requested at ``as_of`` (``product_id``,
            ``product_name``, ``category``, ``is_repurchase_typical``, ``is_launched``).
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
    history = purchase_history(purchases)
    return recommend_from_history(customers, history, catalog, as_of=as_of, config=config)


def recommend_from_history(
    customers: pd.DataFrame,
    history: pd.DataFrame,
    catalog: Catalog,
    *,
    as_of: date,
    config: RecommenderConfig,
    for_customers: np.ndarray | None = None,
) -> pd.DataFrame:
    """:func:`recommend` on prepared inputs (shared by the offline evaluation's methods).

    Args:
        customers: The population (see :func:`recommend`).
        history: :func:`~retail_ml.recommend.inputs.purchase_history` at ``as_of``.
        catalog: :func:`~retail_ml.recommend.inputs.build_catalog` at ``as_of``.
        as_of: The as-of date.
        config: Parameters.
        for_customers: Recommend only for these customer ids (default: all of ``customers``).
    """
    require_columns(customers, CUSTOMER_COLUMNS, "customers")
    require_rows(customers, "customers")
    require_unique(customers, ["customer_id"], "customers")
    day = as_day(as_of)

    window_start = day - np.timedelta64(config.popularity_window_days, "D")
    recent = history[history["last_order_date"] > window_start]
    prior = popularity(
        recent,
        customers,
        catalog,
        level=config.popularity_level,
        shrinkage=config.popularity_shrinkage,
    )
    similarity = (
        item_similarity(
            history,
            catalog,
            method=config.similarity,
            neighbours=config.neighbours,
            repurchase_weight=config.repurchase_weight,
        )
        if config.similarity is not None
        else None
    )
    similarity_sparse = sparse.csr_matrix(similarity) if similarity is not None else None
    # Popularity alone (the baselines) ranks by popularity whatever the weight.
    prior_weight = config.popularity_weight if similarity is not None else 1.0

    targets = customers.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    if for_customers is not None:
        wanted = np.asarray(for_customers, dtype=np.int64)
        targets = targets[targets["customer_id"].isin(wanted)].reset_index(drop=True)
    target_ids = targets["customer_id"].to_numpy(dtype=np.int64)
    if len(target_ids) == 0:
        return _empty_output().assign(as_of_date=pd.Series(dtype=object))
    segments = prior.segment_of(targets)
    weights = _history_weights(history, target_ids, catalog, day, config.recency_half_life_days)

    frames = [
        _recommend_chunk(
            weights[start : start + config.chunk_size],
            segments[start : start + config.chunk_size],
            target_ids[start : start + config.chunk_size],
            catalog=catalog,
            prior=prior,
            prior_weight=prior_weight,
            similarity=similarity,
            similarity_sparse=similarity_sparse,
            k=config.k,
        )
        for start in range(0, len(target_ids), config.chunk_size)
    ]
    result = pd.concat(frames, ignore_index=True) if frames else _empty_output()
    result["as_of_date"] = pd.Timestamp(day).date()
    return result[list(OUTPUT_COLUMNS)]


def _empty_output() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype=np.int64),
            "product_id": pd.Series(dtype=np.int64),
            "rank": pd.Series(dtype=np.int64),
            "score": pd.Series(dtype=np.float64),
            "reason": pd.Series(dtype=object),
        }
    )


def _history_weights(
    history: pd.DataFrame,
    target_ids: np.ndarray,
    catalog: Catalog,
    day: np.datetime64,
    half_life_days: float | None,
) -> sparse.csr_matrix:
    """Target customer × product matrix of purchase weights (rows in ``target_ids`` order)."""
    rows = np.searchsorted(target_ids, history["customer_id"].to_numpy(dtype=np.int64))
    rows = np.clip(rows, 0, max(len(target_ids) - 1, 0))
    columns = catalog.positions(history["product_id"])
    keep = (
        (len(target_ids) > 0)
        & (target_ids[rows] == history["customer_id"].to_numpy(dtype=np.int64))
        & (columns >= 0)
    )
    if half_life_days is None:
        values = np.ones(keep.sum())
    else:
        age_days = (day - history["last_order_date"].to_numpy()[keep]).astype("timedelta64[D]")
        values = 0.5 ** (age_days.astype(np.float64) / half_life_days)
    matrix = sparse.csr_matrix(
        (values, (rows[keep], columns[keep])), shape=(len(target_ids), catalog.size)
    )
    matrix.sort_indices()
    return matrix


def _recommend_chunk(
    weights: sparse.csr_matrix,
    segments: np.ndarray,
    customer_ids: np.ndarray,
    *,
    catalog: Catalog,
    prior: Popularity,
    prior_weight: float,
    similarity: np.ndarray | None,
    similarity_sparse: sparse.csr_matrix | None,
    k: int,
) -> pd.DataFrame:
    """Scores, exclusions, top-k and reasons for one block of customers."""
    n_customers = len(customer_ids)
    if similarity_sparse is not None:
        copurchase = (weights @ similarity_sparse).toarray()
    else:
        copurchase = np.zeros((n_customers, catalog.size))
    popular = prior_weight * prior.scores[segments]
    scores = copurchase + popular

    scores[:, ~catalog.is_launched] = -np.inf
    bought_rows = np.repeat(np.arange(n_customers), np.diff(weights.indptr))
    bought_columns = weights.indices
    not_again = ~catalog.is_repurchase_typical[bought_columns]
    scores[bought_rows[not_again], bought_columns[not_again]] = -np.inf

    rows, columns, ranks = top_k_per_row(scores, k)
    pair_copurchase = copurchase[rows, columns]
    sources = (
        _top_sources(weights, rows, columns, similarity)
        if similarity is not None
        else np.full(len(rows), -1)
    )
    by_copurchase = (sources >= 0) & (pair_copurchase > 0) & (
        pair_copurchase >= popular[rows, columns]
    )
    popularity_texts = prior.reason_texts()[segments[rows], prior.levels[segments[rows], columns]]
    bought_with = np.array(
        [f"bought with {name}" for name in catalog.product_names], dtype=object
    )
    copurchase_texts = np.where(
        sources == columns, BUY_AGAIN, bought_with[np.maximum(sources, 0)]
    )
    return pd.DataFrame(
        {
            "customer_id": customer_ids[rows],
            "product_id": catalog.product_ids[columns],
            "rank": ranks.astype(np.int64),
            "score": scores[rows, columns],
            "reason": np.where(by_copurchase, copurchase_texts, popularity_texts),
        }
    )


def top_k_per_row(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best finite entries of each row: highest score first, ties to the lower column.

    Returns:
        ``rows``, ``columns`` and 1-based ``ranks`` of the kept entries, sorted by row and rank.
        A row with fewer than ``k`` finite entries keeps all of them.
    """
    n_rows, n_columns = scores.shape
    if n_rows == 0 or n_columns == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    kept = min(k, n_columns)
    kth_best = np.partition(scores, n_columns - kept, axis=1)[:, n_columns - kept]
    rows, columns = np.nonzero((scores >= kth_best[:, None]) & np.isfinite(scores))
    order = np.lexsort((columns, -scores[rows, columns], rows))
    rows, columns = rows[order], columns[order]
    ranks = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") + 1
    best = ranks <= k
    return rows[best], columns[best], ranks[best]


def _top_sources(
    weights: sparse.csr_matrix, rows: np.ndarray, columns: np.ndarray, similarity: np.ndarray
) -> np.ndarray:
    """For each (customer row, product column) pair, the bought product contributing most to
    its co-purchase score (ties to the lower product id); -1 when nothing contributes."""
    per_pair = np.diff(weights.indptr)[rows]
    pair = np.repeat(np.arange(len(rows)), per_pair)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    position = np.repeat(weights.indptr[rows], per_pair) + offset
    source = weights.indices[position]
    contribution = weights.data[position] * similarity[source, columns[pair]]
    sources = np.full(len(rows), -1, dtype=np.int64)
    if len(pair) == 0:
        return sources
    # A pair's entries are contiguous and in ascending source order (CSR rows are sorted), so
    # the first entry equal to the pair's maximum is the best source with the lowest id.
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    best_value = np.maximum.reduceat(contribution, starts)
    best = np.flatnonzero(contribution == np.repeat(best_value, np.diff(np.r_[starts, len(pair)])))
    first_best = best[np.r_[True, pair[best][1:] != pair[best][:-1]]]  # one per pair, in order
    positive = best_value > 0
    sources[pair[starts][positive]] = source[first_best][positive]
    return sources
