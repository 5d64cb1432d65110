"""Item-item co-purchase similarity from the customer × product purchase matrix."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from retail_ml.recommend.inputs import Catalog

SimilarityMethod = Literal["cosine", "counts"]


def purchase_matrix(
    purchases: pd.DataFrame, catalog: Catalog, values: np.ndarray | None = None
) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Customer × product CSR matrix of ``purchases`` (one row per customer, catalogue columns).

    Args:
        purchases: One row per (customer, product), as from
            :func:`~retail_ml.recommend.inputs.purchase_history`. Products not in the
            catalogue are dropped.
        catalog: Gives the column of each product.
        values: The value of each purchase row (default 1).

    Returns:
        The sorted customer ids (the matrix rows) and the matrix.
    """
    columns = catalog.positions(purchases["product_id"])
    known = columns >= 0
    customer_ids, rows = np.unique(
        purchases["customer_id"].to_numpy(dtype=np.int64)[known], return_inverse=True
    )
    data = np.ones(known.sum()) if values is None else np.asarray(values, dtype=float)[known]
    matrix = sparse.csr_matrix(
        (data, (rows, columns[known])), shape=(len(customer_ids), catalog.size)
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    return customer_ids, matrix


def item_similarity(
    purchases: pd.DataFrame,
    catalog: Catalog,
    *,
    method: SimilarityMethod = "cosine",
    neighbours: int = 50,
    repurchase_weight: float = 1.0,
) -> np.ndarray:
    """Dense product × product co-purchase similarity, pruned to each product's neighbours.

    Two products are similar when the same customers bought both (anywhere in their history,
    not only in one basket). ``cosine`` divides the co-buyer count by the geometric mean of the
    two products' buyer counts, so a best-seller is not similar to everything; ``counts`` keeps
    the raw co-buyer counts (what a SQL self-join on customer would give).

    Row ``i`` keeps only the ``neighbours`` largest off-diagonal values (ties to the lower
    product id): the classic item-kNN pruning, which drops the long tail of one-off
    co-purchases. The diagonal, a product's similarity to itself (1 for cosine), is kept only
    for repurchase-typical products, times ``repurchase_weight``, so that buying one again can
    be recommended.

    Args:
        purchases: One row per (customer, product) bought.
        catalog: Products in matrix order, with their repurchase flag.
        method: ``cosine`` or ``counts``.
        neighbours: Neighbours kept per product (>= 1).
        repurchase_weight: Multiplier of the diagonal of repurchase-typical products (>= 0).

    Returns:
        A ``(catalog.size, catalog.size)`` float64 array ``S``; ``S[i, j]`` is how much having
        bought ``i`` recommends ``j``.
    """
    if method not in ("cosine", "counts"):
        raise ValueError(f"unknown similarity method {method!r}: use 'cosine' or 'counts'")
    if neighbours < 1:
        raise ValueError(f"neighbours must be at least 1, got {neighbours}")
    if repurchase_weight < 0:
        raise ValueError(f"repurchase_weight must be >= 0, got {repurchase_weight}")
    _, bought = purchase_matrix(purchases, catalog)
    bought.data[:] = 1.0  # bought or not, however often
    co_buyers = (bought.T @ bought).toarray().astype(np.float64)
    buyers = np.diag(co_buyers).copy()
    if method == "cosine":
        norms = np.sqrt(buyers)
        with np.errstate(divide="ignore", invalid="ignore"):
            similarity = co_buyers / np.outer(norms, norms)
        similarity[~np.isfinite(similarity)] = 0.0
    else:
        similarity = co_buyers
    self_similarity = np.diag(similarity).copy()
    np.fill_diagonal(similarity, 0.0)
    pruned = _keep_top_per_row(similarity, neighbours)
    np.fill_diagonal(
        pruned,
        np.where(catalog.is_repurchase_typical, repurchase_weight * self_similarity, 0.0),
    )
    return pruned


def _keep_top_per_row(matrix: np.ndarray, k: int) -> np.ndarray:
    """Zero all but the ``k`` largest positive values of each row (ties to the lower column)."""
    if matrix.shape[1] <= k:
        return np.where(matrix > 0, matrix, 0.0)
    # A stable sort of the negated values orders ties by column, i.e. by product id.
    order = np.argsort(-matrix, axis=1, kind="stable")[:, :k]
    kept = np.zeros_like(matrix)
    rows = np.arange(matrix.shape[0])[:, None]
    kept[rows, order] = matrix[rows, order]
    kept[kept < 0] = 0.0
    return kept
