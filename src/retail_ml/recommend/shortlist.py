"""The exact top-k products of a block of customers, scored on a shortlist per customer.

Every method's score of product ``j`` for customer ``u`` is a dense *base*, which depends on the
customer only through a few numbers, plus sparse parts that are zero outside the customer's
own few products (repeat, basket, next order, buy again, co-purchase):

* ``blend``: base = ``pref[u, cat(j)] · share[j]`` (category affinity);
* ``popularity``, ``buy_again``: base = ``popularity[segment(u), j]``;
* ``copurchase``: base = ``popularity_weight · popularity[segment(u), j]``.

All parts are >= 0. So a customer's shortlist is the ``leaders`` (the ``2k`` launched products
with the best base in each category, or of the customer's segment) plus the columns of their
sparse parts; a product off the shortlist scores its base only, at most the customer's
``bound`` (the base of the first product after the leaders). When the k-th best shortlisted
score is above the bound, the shortlist's top k is the top k of all products. The few
customers for whom it is not are scored on every launched product. Either way the result is
the one of scoring the whole customer × product matrix (tests/python/test_recommend_fast_paths),
for a cost that grows with customers × shortlist rather than customers × products.

Scores are computed per (customer, product) pair with the same float operations, in the same
order, as the sum of the dense parts would use, so every score is the same float.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from retail_ml.recommend.ranking import RankedPairs, kth_best_per_row, top_k_of_pairs
from retail_ml.recommend.similarity import canonical

if TYPE_CHECKING:  # the recommender imports this module
    from retail_ml.recommend.recommender import Prepared, RecommenderConfig

#: A block of customers' rows: a slice (serving, backtest) or row numbers (fallback).
Rows = slice | np.ndarray
#: Pairs scored at once when customers are scored on every product (memory: ~10 floats each).
FULL_PAIRS = 4_000_000
#: A block's eligible pairs are found with a boolean mask of its rows × products when it has
#: at most this many cells (64 MB; the serving run's 2048 × 5k products: 10 MB), else by sorting.
MASK_CELLS = 64_000_000


@dataclass(frozen=True)
class TopK:
    """The top k of a block: ``rows`` (block-local), ``columns``, 1-based ``ranks`` and the
    ``values`` of every score part at those pairs (for the reasons), sorted by row and rank."""

    rows: np.ndarray
    columns: np.ndarray
    ranks: np.ndarray
    scores: np.ndarray
    values: dict[str, np.ndarray]


def sparse_parts(prepared: Prepared, rows: Rows) -> dict[str, sparse.csr_matrix]:
    """The sparse score parts of a block (block rows × products), by method."""
    p = prepared
    method = p.config.method
    rebuy = p.catalog.is_repurchase_typical
    if method == "blend":
        return {
            "repeat": _keep_columns(p.recency[rows], rebuy),
            "basket": canonical(p.recent[rows] @ p.basket),
            "next_order": canonical(p.recent[rows] @ p.next_order),
        }
    if method == "copurchase":
        return {"copurchase": canonical(p.recency[rows] @ p.similarity)}
    if method == "buy_again":
        return {
            "buy_again": _keep_columns(p.orders[rows], rebuy),
            "repeat": _keep_columns(p.recency[rows], rebuy),
        }
    return {}


def pair_values(
    prepared: Prepared,
    rows: Rows,
    parts: dict[str, sparse.csr_matrix],
    r: np.ndarray,
    c: np.ndarray,
) -> dict[str, np.ndarray]:
    """Every score part at the pairs ``(r[i], c[i])`` (``r`` block-local), 0 where a sparse
    part stores nothing."""
    p = prepared
    # The pairs' keys and whether they are sorted and distinct, once for all parts.
    pairs = _pair_keys(r, c, p.catalog.size)
    ordered = bool(len(pairs) == 0 or (pairs[1:] > pairs[:-1]).all())
    values = {name: _value_at(part, r, c, (pairs, ordered)) for name, part in parts.items()}
    if p.config.method == "blend":
        values["category"] = p.preference[rows][r, p.category_codes[c]] * p.share[c]
    else:
        values["popularity"] = p.prior.scores[p.segments[rows][r], c]
    return values


def combine_values(values: dict[str, np.ndarray], config: RecommenderConfig) -> np.ndarray:
    """The score of each pair from its part values: the one scoring formula of the methods."""
    if config.method == "popularity":
        return values["popularity"].copy()
    if config.method == "copurchase":
        return values["copurchase"] + config.popularity_weight * values["popularity"]
    if config.method == "buy_again":
        # Most-ordered first, then the most recent, then popularity (always < 1): the ordering
        # of the baseline, as one score. 3 per order outweighs recency (< 0.5) + popularity.
        bought = values["buy_again"] > 0
        return (
            np.where(bought, 2.0 + 3.0 * values["buy_again"] + 0.5 * values["repeat"], 0.0)
            + values["popularity"]
        )
    # Added in this order, left to right: a pair without a sparse entry adds +0.0 (no change).
    return (
        values["category"]
        + config.repeat_weight * values["repeat"]
        + config.basket_weight * values["basket"]
        + config.next_order_weight * values["next_order"]
    )


@dataclass(frozen=True)
class Leaders:
    """The ``per_group`` launched products with the best base in each group, and the base of
    the next one (``-inf`` when the group has no more), per group.

    Groups are categories (``blend``) or popularity segments (the other methods)."""

    columns: list[np.ndarray]  # per group, sorted
    next_base: np.ndarray  # per group
    is_leader: np.ndarray  # groups × products

    def of_pairs(self, prepared: Prepared, rows: Rows, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Whether each pair's product is one of its customer's leaders."""
        if prepared.config.method == "blend":
            return self.is_leader.any(axis=0)[c]
        return self.is_leader[prepared.segments[rows][r], c]


def leaders(prepared: Prepared, per_group: int | None = None) -> Leaders:
    """The leaders of ``prepared``'s method (ties to the lower column, as in the ranking);
    ``per_group`` defaults to twice the config's k: room for a few products a customer may
    not be shown again."""
    p = prepared
    per_group = 2 * p.config.k if per_group is None else per_group
    launched = np.flatnonzero(p.catalog.is_launched)
    if p.config.method == "blend":
        codes = p.category_codes[launched]
        bases = [p.share[launched[codes == g]] for g in range(len(p.category_names))]
        members = [launched[codes == g] for g in range(len(p.category_names))]
    else:
        bases = [row[launched] for row in p.prior.scores]
        members = [launched] * len(p.prior.scores)
    columns, next_base = [], np.full(len(bases), -np.inf)
    for g, (base, member) in enumerate(zip(bases, members, strict=True)):
        order = np.lexsort((member, -base))
        columns.append(np.sort(member[order[:per_group]]))
        if len(order) > per_group:
            next_base[g] = base[order[per_group]]
    is_leader = np.zeros((len(columns), p.catalog.size), dtype=bool)
    for g, group_columns in enumerate(columns):
        is_leader[g, group_columns] = True
    return Leaders(columns=columns, next_base=next_base, is_leader=is_leader)


def bounds(
    prepared: Prepared, rows: Rows, lead: Leaders, config: RecommenderConfig
) -> np.ndarray:
    """Per block row, a score no product off its shortlist can exceed (``-inf``: none left)."""
    p = prepared
    if config.method == "blend":
        preference = p.preference[rows]
        present = np.isfinite(lead.next_base)
        if not present.any():
            return np.full(preference.shape[0], -np.inf)
        return (preference[:, present] * lead.next_base[present]).max(axis=1)
    per_segment = lead.next_base
    if config.method == "copurchase":
        # Off the shortlist a product has no co-purchase entry: 0.0 + weight · popularity.
        finite = np.isfinite(per_segment)
        weighted = 0.0 + config.popularity_weight * np.where(finite, per_segment, 0.0)
        per_segment = np.where(finite, weighted, -np.inf)
    return per_segment[p.segments[rows]]


def shortlist_pairs(
    prepared: Prepared, rows: Rows, parts: dict[str, sparse.csr_matrix], lead: Leaders
) -> tuple[np.ndarray, np.ndarray]:
    """The eligible (block row, product) pairs of the block's shortlists, sorted."""
    p = prepared
    n_rows = len(p.target_ids[rows])
    if p.config.method == "blend":
        common = np.concatenate(lead.columns) if lead.columns else np.zeros(0, np.int64)
        r = [np.repeat(np.arange(n_rows), len(common))]
        c = [np.tile(common, n_rows)]
    else:
        segments = p.segments[rows]
        sizes = np.array([len(columns) for columns in lead.columns], dtype=np.int64)
        r = [np.repeat(np.arange(n_rows), sizes[segments])]
        c = [np.concatenate([lead.columns[s] for s in segments]) if n_rows else r[0]]
    for part in parts.values():
        coo = part.tocoo()
        r.append(coo.row.astype(np.int64))
        c.append(coo.col.astype(np.int64))
    return _eligible_unique(p, rows, np.concatenate(r), np.concatenate(c))


def _eligible_unique(
    prepared: Prepared, rows: Rows, r: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs, sorted, without the products a customer may not be recommended:
    not on sale, or bought before and not repurchase-typical."""
    p = prepared
    size = p.catalog.size
    keys = r.astype(np.int64) * size + c
    bought = p.orders[rows].tocoo()
    once_only = ~p.catalog.is_repurchase_typical[bought.col]
    excluded = bought.row.astype(np.int64)[once_only] * size + bought.col[once_only]
    n_rows = bought.shape[0]
    if n_rows * size <= MASK_CELLS:
        # The block's pairs as a boolean mask: one scatter and one scan give the sorted
        # distinct eligible pairs, several times faster than sorting the candidates (2M per
        # block of the large serving run) and searching the excluded ones among them.
        mask = np.zeros((n_rows, size), dtype=bool)
        flat = mask.reshape(-1)  # a view
        flat[keys] = True
        flat[excluded] = False
        if not p.catalog.is_launched.all():  # a pass over the whole mask, when it matters
            mask &= p.catalog.is_launched
        keys = np.flatnonzero(flat)
    else:
        keys = np.sort(keys)
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
        keys = keys[p.catalog.is_launched[keys % size] & ~np.isin(keys, excluded)]
    return np.divmod(keys, size)


def block_top_k(
    prepared: Prepared, rows: slice, configs: list[RecommenderConfig], lead: Leaders
) -> list[TopK]:
    """The top ``config.k`` of every config for the block ``rows``: exactly what ranking every
    product would give (see the module docstring). ``lead``: :func:`leaders` of ``prepared``
    (computed once for all blocks), with at least ``k`` per group for the shortlist to pay."""
    p = prepared
    parts = sparse_parts(p, rows)
    r, c = shortlist_pairs(p, rows, parts, lead)
    values = pair_values(p, rows, parts, r, c)
    n_rows = len(p.target_ids[rows])
    is_leader = lead.of_pairs(p, rows, r, c)
    results = []
    for config in configs:
        scores = combine_values(values, config)
        floor = kth_best_per_row(r[is_leader], scores[is_leader], n_rows, config.k)
        top = top_k_of_pairs(r, c, scores, config.k, floor=floor)
        kth = np.full(n_rows, -np.inf)
        counts = np.bincount(top.rows, minlength=n_rows)
        full = counts >= config.k
        kth[top.rows[top.ranks == config.k]] = top.scores[top.ranks == config.k]
        bound = bounds(p, rows, lead, config)
        exact = (bound == -np.inf) | (full & (kth > bound))
        block = _select(top, np.flatnonzero(exact[top.rows]), values)
        redo = np.flatnonzero(~exact)
        if len(redo):
            block = _merge(block, _every_product(p, rows, redo, config))
        results.append(block)
    return results


def _every_product(
    prepared: Prepared, rows: slice, redo: np.ndarray, config: RecommenderConfig
) -> TopK:
    """The top k of the block rows ``redo``, scored on every launched product."""
    p = prepared
    absolute = np.arange(len(p.target_ids))[rows][redo]
    launched = np.flatnonzero(p.catalog.is_launched)
    step = max(1, FULL_PAIRS // max(len(launched), 1))
    pieces = []
    for start in range(0, len(absolute), step):
        chunk = absolute[start : start + step]
        parts = sparse_parts(p, chunk)
        r, c = _eligible_unique(
            p, chunk, np.repeat(np.arange(len(chunk)), len(launched)), np.tile(launched, len(chunk))
        )
        values = pair_values(p, chunk, parts, r, c)
        top = top_k_of_pairs(r, c, combine_values(values, config), config.k)
        top = _select(top, np.arange(len(top.rows)), values)
        pieces.append(
            TopK(redo[start + top.rows], top.columns, top.ranks, top.scores, top.values)
        )
    return _concat(pieces)


def _select(top: RankedPairs, keep: np.ndarray, values: dict[str, np.ndarray]) -> TopK:
    """The kept entries of a ranked pair list, with their part values."""
    return TopK(
        rows=top.rows[keep],
        columns=top.columns[keep],
        ranks=top.ranks[keep],
        scores=top.scores[keep],
        values={name: value[top.pairs[keep]] for name, value in values.items()},
    )


def _concat(pieces: list[TopK]) -> TopK:
    return TopK(
        rows=np.concatenate([piece.rows for piece in pieces]),
        columns=np.concatenate([piece.columns for piece in pieces]),
        ranks=np.concatenate([piece.ranks for piece in pieces]),
        scores=np.concatenate([piece.scores for piece in pieces]),
        values={
            name: np.concatenate([piece.values[name] for piece in pieces])
            for name in pieces[0].values
        },
    )


def _merge(first: TopK, second: TopK) -> TopK:
    """Two top-k lists of different rows, as one sorted by row and rank."""
    both = _concat([first, second])
    order = np.lexsort((both.ranks, both.rows))
    return TopK(
        rows=both.rows[order],
        columns=both.columns[order],
        ranks=both.ranks[order],
        scores=both.scores[order],
        values={name: value[order] for name, value in both.values.items()},
    )


def _keep_columns(matrix: sparse.csr_matrix, keep: np.ndarray) -> sparse.csr_matrix:
    """``matrix`` with the entries of the columns not in ``keep`` (a boolean mask) dropped."""
    coo = matrix.tocoo()
    kept = keep[coo.col]
    return canonical(
        sparse.csr_matrix((coo.data[kept], (coo.row[kept], coo.col[kept])), shape=matrix.shape)
    )


def _pair_keys(r: np.ndarray, c: np.ndarray, size: int) -> np.ndarray:
    """One int64 per (row, column) pair of a matrix of ``size`` columns, in the pairs' order."""
    return r.astype(np.int64) * size + c


def _value_at(
    part: sparse.csr_matrix,
    r: np.ndarray,
    c: np.ndarray,
    keys: tuple[np.ndarray, bool] | None = None,
) -> np.ndarray:
    """``part[r, c]`` (0 where nothing is stored). The pairs come sorted and distinct and the
    parts canonical: then each stored entry is looked up among the pairs (entries are far
    fewer than pairs) instead of each pair among the entries, with the same values.
    ``keys``: the pairs' :func:`_pair_keys` and whether they increase, when already known."""
    if len(r) == 0:
        return np.zeros(0)
    size = part.shape[1]
    if keys is None:
        pairs = _pair_keys(r, c, size)
        ordered = bool((pairs[1:] > pairs[:-1]).all())
    else:
        pairs, ordered = keys
    if not part.has_canonical_format or not ordered:
        return np.asarray(part[r, c], dtype=np.float64).ravel()
    entries = np.repeat(np.arange(part.shape[0], dtype=np.int64), np.diff(part.indptr))
    entries = entries * size + part.indices
    at = np.searchsorted(pairs, entries)
    found = at < len(pairs)
    found[found] = pairs[at[found]] == entries[found]
    values = np.zeros(len(pairs))
    values[at[found]] = part.data[found]
    return values
