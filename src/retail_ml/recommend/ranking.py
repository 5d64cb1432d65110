"""The k best entries of each row of a score matrix, ties to the lower column: the one ranking
rule of the recommendations and of the backtest."""

from __future__ import annotations

import numpy as np


def top_k_per_row(
    scores: np.ndarray, k: int, candidates: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best finite entries of each row: highest score first, ties to the lower column.

    Every entry at least a row's k-th best value is ranked, by descending score then column,
    and the first ``k`` kept. The k-th best value comes from a partition of each row; with
    ``candidates`` (columns likely to hold each row's best), from a partition of those columns
    only: the k-th best of a subset is at most the row's, so the entries ranked are a superset
    of the k best and the result is the same, for a fraction of the work.

    Returns:
        ``rows``, ``columns`` and 1-based ``ranks`` of the kept entries, sorted by row and rank.
        A row with fewer than ``k`` finite entries keeps all of them.
    """
    n_rows, n_columns = scores.shape
    if n_rows == 0 or n_columns == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    kept = min(k, n_columns)
    if candidates is not None and len(candidates) >= kept:
        subset = scores[:, candidates]
        bound = np.partition(subset, len(candidates) - kept, axis=1)[:, len(candidates) - kept]
    else:
        bound = np.partition(scores, n_columns - kept, axis=1)[:, n_columns - kept]
    rows, columns = np.nonzero(scores >= bound[:, None])
    # Only finite entries are ranked (-inf marks an excluded product): checked on the few
    # entries selected rather than on the whole matrix.
    finite = np.isfinite(scores[rows, columns])
    rows, columns = rows[finite], columns[finite]
    order = np.lexsort((columns, -scores[rows, columns], rows))
    rows, columns = rows[order], columns[order]
    ranks = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") + 1
    best = ranks <= k
    return rows[best], columns[best], ranks[best]
