"""Item-item co-purchase similarity from the customer × product purchase matrix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from retail_ml.recommend.inputs import Catalog
from retail_ml.recommend.ranking import kth_best_per_row, top_k_of_pairs

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
    block_rows: int | None = None,
) -> sparse.csr_matrix:
    """Product × product co-purchase similarity, pruned to each product's neighbours.

    Two products are similar when the same customers bought both (anywhere in their history,
    not only in one basket). ``cosine`` divides the co-buyer count by the geometric mean of the
    two products' buyer counts, so a best-seller is not similar to everything; ``counts`` keeps
    the raw co-buyer counts (what a SQL self-join on customer would give).

    Row ``i`` keeps only the ``neighbours`` largest off-diagonal values (ties to the lower
    product id): the classic item-kNN pruning, which drops the long tail of one-off
    co-purchases. The diagonal, a product's similarity to itself (1 for cosine), is kept only
    for repurchase-typical products, times ``repurchase_weight``, so that buying one again can
    be recommended.

    The co-buyer counts are made a block of products at a time and only their stored
    (non-zero) entries are ranked (:func:`top_per_row`): memory and work grow with the
    co-purchases, not products² (20k products: 3.2 GB per dense copy, and a sort of 400M
    entries per matrix).

    Args:
        purchases: One row per (customer, product) bought.
        catalog: Products in matrix order, with their repurchase flag.
        method: ``cosine`` or ``counts``.
        neighbours: Neighbours kept per product (>= 1).
        repurchase_weight: Multiplier of the diagonal of repurchase-typical products (>= 0).
        block_rows: Products per block (default: :func:`default_block_rows`).

    Returns:
        A ``(catalog.size, catalog.size)`` CSR matrix ``S`` (sorted indices, no stored zeros);
        ``S[i, j]`` is how much having bought ``i`` recommends ``j``.
    """
    if method not in ("cosine", "counts"):
        raise ValueError(f"unknown similarity method {method!r}: use 'cosine' or 'counts'")
    if neighbours < 1:
        raise ValueError(f"neighbours must be at least 1, got {neighbours}")
    if repurchase_weight < 0:
        raise ValueError(f"repurchase_weight must be >= 0, got {repurchase_weight}")
    _, bought = purchase_matrix(purchases, catalog)
    bought.data[:] = 1.0  # bought or not, however often
    by_product = bought.T.tocsr()
    buyers = np.asarray(bought.sum(axis=0), dtype=np.float64).ravel()
    norms = np.sqrt(buyers)

    def similarity_rows(block: slice) -> sparse.coo_matrix:
        co_buyers = (by_product[block] @ bought).tocoo()
        values = co_buyers.data.astype(np.float64)
        if method == "cosine":
            # Entry by entry what the dense ``co_buyers / np.outer(norms, norms)`` computes.
            with np.errstate(divide="ignore", invalid="ignore"):
                values = values / (norms[block][co_buyers.row] * norms[co_buyers.col])
            values[~np.isfinite(values)] = 0.0
        return off_diagonal(co_buyers.row, co_buyers.col, values, block, catalog.size)

    pruned = top_per_row(similarity_rows, catalog.size, neighbours, block_rows=block_rows)
    if method == "cosine":
        with np.errstate(divide="ignore", invalid="ignore"):
            self_similarity = buyers / (norms * norms)  # the same float as the block's entry
        self_similarity[~np.isfinite(self_similarity)] = 0.0
    else:
        self_similarity = buyers
    diagonal = np.where(catalog.is_repurchase_typical, repurchase_weight * self_similarity, 0.0)
    return canonical(pruned + sparse.diags(diagonal, format="csr"))


def default_block_rows(columns: int) -> int:
    """Rows of a block of ``columns`` columns that hold at most about 4M entries."""
    return max(1, BLOCK_CELLS // max(columns, 1))


#: Entries at most in one block of :func:`top_per_row` (a sparse product's block: ~100 MB).
BLOCK_CELLS = 4_000_000


def top_per_row(
    rows_of: Callable[[slice], sparse.coo_matrix],
    size: int,
    k: int,
    *,
    block_rows: int | None = None,
    dense_share: float = 0.25,
) -> sparse.csr_matrix:
    """The ``k`` largest positive entries of each row of a ``size`` × ``size`` matrix given a
    block of rows at a time (ties to the lower column: the ranking rule,
    :func:`~retail_ml.recommend.ranking.top_k_of_pairs`), as CSR.

    Only stored entries are ranked (every entry not stored is 0, never kept), unless a block
    stores more than ``dense_share`` of its entries: it is then ranked as a dense array, row
    by row. Both give the same entries.

    Args:
        rows_of: The rows of a block (a slice of rows), block-local, each entry stored once.
        size: Rows and columns of the matrix.
        k: Entries kept per row (>= 1).
        block_rows: Rows per block (default: :func:`default_block_rows`).
        dense_share: Share of stored entries above which a block is ranked densely.
    """
    block_rows = block_rows or default_block_rows(size)
    blocks = []
    for start in range(0, size, block_rows):
        block = _block(start, block_rows, size)
        entries = rows_of(block)
        n_rows = block.stop - block.start
        if entries.nnz > dense_share * n_rows * size:
            # Mostly filled (e.g. co-buyers over years at 2k products): one sort per row of
            # the dense block is cheaper than sorting the entries by three keys.
            blocks.append(sparse.csr_matrix(_keep_top_per_row(entries.toarray(), k)))
            continue
        positive = entries.data > 0
        rows = entries.row[positive].astype(np.int64)
        values = entries.data[positive]
        top = top_k_of_pairs(
            rows,
            entries.col[positive].astype(np.int64),
            values,
            k,
            floor=kth_best_per_row(
                rows, values, n_rows, k, max_cells=FLOOR_CELLS_PER_ENTRY * len(rows)
            ),
        )
        blocks.append(
            sparse.csr_matrix((top.scores, (top.rows, top.columns)), shape=(n_rows, size))
        )
    if not blocks:
        return sparse.csr_matrix((size, size), dtype=np.float64)
    return canonical(sparse.vstack(blocks, format="csr"))


#: The rows' k-th best is a floor for their top k when the rows side by side fill at most
#: this many cells per entry (rows of similar length, as the co-buyers of a tiled catalogue:
#: then only the entries at or above it are sorted, a few per row instead of thousands);
#: rows of very different lengths (the basket shares) are sorted whole.
FLOOR_CELLS_PER_ENTRY = 2


def _block(start: int, rows: int, size: int) -> slice:
    return slice(start, min(start + rows, size))


def off_diagonal(
    rows: np.ndarray, columns: np.ndarray, values: np.ndarray, block: slice, size: int
) -> sparse.coo_matrix:
    """The block-local entries of the rows ``block`` of a square matrix, diagonal dropped."""
    keep = rows.astype(np.int64) + block.start != columns
    return sparse.coo_matrix(
        (values[keep], (rows[keep], columns[keep])), shape=(block.stop - block.start, size)
    )


def canonical(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    """``matrix`` as CSR with one stored entry per position (duplicates summed), no stored
    zeros and sorted indices: what lookups and in-place sums need. Changes a CSR ``matrix``
    in place: pass a fresh one."""
    matrix = matrix.tocsr()
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


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
