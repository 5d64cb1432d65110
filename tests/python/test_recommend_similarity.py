"""Tests for retail_ml.recommend.similarity on hand-checkable purchase matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from retail_ml.recommend.inputs import Catalog
from retail_ml.recommend.similarity import item_similarity, purchase_matrix, top_per_row


def catalog(n: int, repurchase: tuple[int, ...] = ()) -> Catalog:
    ids = np.arange(1, n + 1, dtype=np.int64)
    return Catalog(
        product_ids=ids,
        product_names=np.array([f"P{p}" for p in ids], dtype=object),
        categories=np.array(["c"] * n, dtype=object),
        is_repurchase_typical=np.isin(ids, repurchase),
        is_launched=np.ones(n, dtype=bool),
    )


def purchases(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["customer_id", "product_id"])


def dense_similarity(*args, **kwargs) -> np.ndarray:
    return item_similarity(*args, **kwargs).toarray()


# Buyers: product 1 = {a, b, c, d}, 2 = {a, b}, 3 = {c}, 4 = {} ; customers a..d = 1..4.
PAIRS = [(1, 1), (2, 1), (3, 1), (4, 1), (1, 2), (2, 2), (3, 3)]


def test_cosine_is_co_buyers_over_geometric_mean_of_buyers():
    similarity = dense_similarity(purchases(PAIRS), catalog(4), method="cosine", neighbours=10)
    assert similarity[0, 1] == pytest.approx(2 / np.sqrt(4 * 2))
    assert similarity[0, 2] == pytest.approx(1 / np.sqrt(4 * 1))
    assert similarity[1, 2] == 0.0
    assert (similarity[:, 3] == 0).all() and (similarity[3] == 0).all()
    np.testing.assert_allclose(similarity, similarity.T)


def test_counts_are_raw_co_buyers():
    similarity = dense_similarity(purchases(PAIRS), catalog(4), method="counts", neighbours=10)
    assert similarity[0, 1] == 2.0 and similarity[0, 2] == 1.0


def test_diagonal_only_for_repurchase_typical_products():
    similarity = dense_similarity(
        purchases(PAIRS), catalog(4, repurchase=(2,)), method="cosine", neighbours=10
    )
    np.testing.assert_allclose(np.diag(similarity), [0.0, 1.0, 0.0, 0.0])


def test_pruning_keeps_the_strongest_neighbours_ties_to_the_lower_id():
    # Product 1 is bought with 2, 3 and 4 by one customer each: a three-way tie.
    pairs = [(1, 1), (1, 2), (2, 1), (2, 3), (3, 1), (3, 4)]
    similarity = dense_similarity(purchases(pairs), catalog(4), method="counts", neighbours=2)
    assert similarity[0].tolist() == [0.0, 1.0, 1.0, 0.0]


def test_duplicate_purchases_count_once_and_unknown_products_are_dropped():
    pairs = [*PAIRS, (1, 2), (1, 99)]
    ids, matrix = purchase_matrix(purchases(pairs), catalog(4))
    assert ids.tolist() == [1, 2, 3, 4]
    assert matrix.shape == (4, 4)
    binary = dense_similarity(purchases(pairs), catalog(4), method="counts", neighbours=10)
    assert binary[0, 1] == 2.0


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="unknown similarity"):
        item_similarity(purchases(PAIRS), catalog(4), method="jaccard")
    with pytest.raises(ValueError, match="neighbours"):
        item_similarity(purchases(PAIRS), catalog(4), neighbours=0)


def test_repurchase_weight_scales_the_diagonal():
    similarity = dense_similarity(
        purchases(PAIRS),
        catalog(4, repurchase=(1, 2)),
        method="cosine",
        neighbours=10,
        repurchase_weight=2.5,
    )
    np.testing.assert_allclose(np.diag(similarity), [2.5, 2.5, 0.0, 0.0])
    off_diagonal = dense_similarity(purchases(PAIRS), catalog(4), neighbours=10)
    assert similarity[0, 1] == off_diagonal[0, 1]


def test_blocks_give_the_matrix_of_one_block():
    # 30 products, 200 customers with random baskets: ties and empty rows included.
    rng = np.random.default_rng(7)
    pairs = [(c, int(p)) for c in range(200) for p in rng.choice(30, rng.integers(0, 6)) + 1]
    for method in ("cosine", "counts"):
        whole = item_similarity(
            purchases(pairs),
            catalog(30, repurchase=(1, 2)),
            method=method,
            neighbours=4,
            block_rows=30,
        )
        for block_rows in (1, 7):
            blocked = item_similarity(
                purchases(pairs),
                catalog(30, repurchase=(1, 2)),
                method=method,
                neighbours=4,
                block_rows=block_rows,
            )
            assert np.array_equal(blocked.toarray(), whole.toarray())
        assert whole.has_sorted_indices and (whole.data != 0).all()


def test_top_per_row_keeps_the_largest_positive_entries_per_row():
    matrix = np.array(
        [[0.0, 3.0, 1.0, 3.0], [-1.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 5.0], [1.0, 0, 0, 0]]
    )
    for dense_share in (0.0, 1.0):  # ranked as a dense block, or entry by entry
        kept = top_per_row(
            lambda block: sparse.coo_matrix(matrix[block]), 4, 2, block_rows=3,
            dense_share=dense_share,
        ).toarray()
        assert kept.tolist() == [[0, 3, 0, 3], [0, 0, 0, 0], [2, 0, 0, 5], [1, 0, 0, 0]]


def test_dense_and_entrywise_ranking_agree_on_random_sparse_rows():
    rng = np.random.default_rng(3)
    matrix = np.where(rng.random((60, 60)) < 0.3, rng.integers(1, 5, (60, 60)) / 2, 0.0)
    results = [
        top_per_row(
            lambda block: sparse.coo_matrix(matrix[block]), 60, 5, block_rows=7,
            dense_share=dense_share,
        ).toarray()
        for dense_share in (0.0, 1.0)
    ]
    # Entries not by row (a block's entries in any order): the same entries kept.
    shuffled = rng.permutation(np.count_nonzero(matrix))

    def unordered(block: slice) -> sparse.coo_matrix:
        entries = sparse.coo_matrix(matrix[block])
        keep = shuffled[shuffled < entries.nnz]
        return sparse.coo_matrix(
            (entries.data[keep], (entries.row[keep], entries.col[keep])), shape=entries.shape
        )

    results.append(top_per_row(unordered, 60, 5, block_rows=7, dense_share=0.0).toarray())
    assert all(np.array_equal(results[0], result) for result in results[1:])
    assert (results[0] > 0).sum() == 60 * 5
