"""The k best entries of each customer's scores, ties to the lower column: the one ranking rule
of the recommendations and of the backtest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RankedPairs:
    """The kept pairs: ``pairs`` indexes the input arrays; sorted by row, then rank."""

    pairs: np.ndarray
    rows: np.ndarray
    columns: np.ndarray
    ranks: np.ndarray
    scores: np.ndarray


def top_k_of_pairs(
    rows: np.ndarray,
    columns: np.ndarray,
    scores: np.ndarray,
    k: int,
    *,
    floor: np.ndarray | None = None,
) -> RankedPairs:
    """The ``k`` best finite scores of each row among (row, column, score) pairs: highest score
    first, ties to the lower column. A row with fewer than ``k`` finite pairs keeps all of
    them; pairs must be distinct.

    Args:
        rows, columns, scores: The pairs.
        k: Pairs kept per row.
        floor: Per row, a score no top-k pair is below (e.g. the k-th best of a subset of the
            row's pairs): the pairs below it are dropped before the sort. Speed only.

    Returns:
        The kept pairs with their 1-based ``ranks``, sorted by row and rank.
    """
    candidate = np.isfinite(scores)
    if floor is not None:
        candidate &= scores >= floor[rows]
    finite = np.flatnonzero(candidate)
    order = finite[np.lexsort((columns[finite], -scores[finite], rows[finite]))]
    ranks = offsets_in_runs(rows[order]) + 1
    best = ranks <= k
    kept = order[best]
    return RankedPairs(
        pairs=kept,
        rows=rows[kept],
        columns=columns[kept],
        ranks=ranks[best].astype(np.int64),
        scores=scores[kept],
    )


def kth_best_per_row(
    rows: np.ndarray, scores: np.ndarray, n_rows: int, k: int, *, max_cells: int | None = None
) -> np.ndarray | None:
    """Per row, the k-th best of its ``scores`` (-inf with fewer than k; rows not sorted give
    the k-th best of a subset of each row's scores, lower or equal): a ``floor`` for
    :func:`top_k_of_pairs` of these pairs or of a superset of them, found by
    one partition of the rows' scores side by side instead of a sort of every pair. None when
    the rows side by side would fill more than ``max_cells`` cells (rows of very different
    lengths: the partition would cost more than the sort it saves)."""
    width = int(np.bincount(rows, minlength=n_rows).max()) if len(rows) else 0
    if max_cells is not None and n_rows * width > max_cells:
        return None
    if width < k:
        return np.full(n_rows, -np.inf)
    dense = np.full((n_rows, width), -np.inf)
    dense[rows, offsets_in_runs(rows)] = scores
    return np.partition(dense, width - k, axis=1)[:, width - k]


def offsets_in_runs(values: np.ndarray) -> np.ndarray:
    """Each entry's position in its run of equal values (0 for the first) of a sorted array:
    ``arange - searchsorted(values, values)`` in one linear pass instead of a binary search
    per entry (millions of pairs per block of customers)."""
    positions = np.arange(len(values))
    if len(values) == 0:
        return positions
    starts = np.r_[True, values[1:] != values[:-1]]
    return positions - np.maximum.accumulate(np.where(starts, positions, 0))
