"""The purchase signals of the blended recommender, all learned from the order lines as of a date.

Why these (the backtest in ml_recommendation_metrics measures each; see the
``recommender_backtest`` docs block): a customer's next orders are mostly

* products of their favourite categories, in proportion to how well each sells there
  (:func:`category_preference`: the customer's category mix, shrunk towards their country's
  :func:`category_taste`, times the product's :func:`category_share` of its category's sales
  rate since launch);
* what went into the same basket as, or into the order after, a product of their latest orders
  (:func:`sequence_signals`, applied to :func:`recent_orders`): complements and follow-ups;
* the repurchase-typical products they bought recently again (the recency weights of
  :mod:`~retail_ml.recommend.recommender`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from retail_ml.recommend._checks import pack_columns
from retail_ml.recommend.inputs import (
    LOOKUP_SLOTS_PER_ID,
    Catalog,
    as_day,
    last_of_groups,
    locate,
)
from retail_ml.recommend.popularity import UNKNOWN as UNKNOWN_KEY
from retail_ml.recommend.similarity import off_diagonal, top_per_row


@dataclass(frozen=True)
class SequenceSignals:
    """Product × product conditional purchase shares, each row pruned to its neighbours.

    ``basket[i, j]``: share of the orders with ``i`` that also hold ``j``;
    ``next_order[i, j]``: share of the orders with ``i`` (followed by another order of the same
    customer) whose next order holds ``j``.
    """

    basket: sparse.csr_matrix
    next_order: sparse.csr_matrix


def order_matrix(
    lines: pd.DataFrame, catalog: Catalog
) -> tuple[pd.DataFrame, sparse.csr_matrix]:
    """Orders (sorted by customer, date, id) and the order × product 0/1 matrix."""
    columns = catalog.positions(lines["product_id"])
    known = columns >= 0
    line_orders = _kept(lines["order_id"].to_numpy(dtype=np.int64), known)
    orders = _orders_by_packed_sort(lines, known)
    rows = _row_of_order(orders["order_id"].to_numpy(dtype=np.int64), line_orders)
    if rows is None:
        # An order id with several customers or dates (never in the warehouse): the first
        # line's, as the pandas reference keeps it.
        orders = _orders_by_pandas(lines, known)
        rows = _row_of_order(orders["order_id"].to_numpy(dtype=np.int64), line_orders)
    matrix = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, _kept(columns, known))), shape=(len(orders), catalog.size)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return orders, matrix


def _kept(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``values[known]``, without copying them all when every line is known (the usual case:
    8.5M lines, 68 MB a column, at the large scale)."""
    return values if known.all() else values[known]


def _row_of_order(order_ids: np.ndarray, line_orders: np.ndarray) -> np.ndarray | None:
    """The row of ``order_ids`` holding each of ``line_orders`` (all there); None when an id
    is there twice. A lookup table over the id range when it is dense (one gather per line,
    no sort of the orders), a hash lookup otherwise."""
    n = len(order_ids)
    if n == 0:
        return np.zeros(len(line_orders), dtype=np.int64)
    low, high = int(order_ids.min()), int(order_ids.max())
    if high - low + 1 <= LOOKUP_SLOTS_PER_ID * n + 1_000_000:
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[order_ids - low] = np.arange(n, dtype=np.int64)
        if np.count_nonzero(table >= 0) < n:
            return None
        return table[line_orders - low]
    index = pd.Index(order_ids)
    if not index.is_unique:
        return None
    return index.get_indexer(line_orders).astype(np.int64)


def _orders_by_pandas(lines: pd.DataFrame, known: np.ndarray) -> pd.DataFrame:
    """The orders of the ``known`` lines, each with its first line's customer and date, sorted
    by customer, date (nulls last) and order id: the reference of :func:`order_matrix`."""
    return (
        lines.loc[known, ["customer_id", "order_id", "order_date"]]
        .drop_duplicates("order_id")
        .sort_values(["customer_id", "order_date", "order_id"], kind="mergesort")
        .reset_index(drop=True)
    )


def _orders_by_packed_sort(lines: pd.DataFrame, known: np.ndarray) -> pd.DataFrame:
    """The distinct (customer, date, order id) of the ``known`` lines sorted as
    :func:`_orders_by_pandas` sorts them: one sort of packed keys with the dates as ranks
    (nulls last), several times faster than drop_duplicates and a three-key sort of millions
    of lines. Equal to the reference when every order has one customer and date (the caller
    checks that the order ids are distinct)."""
    dates = lines["order_date"].to_numpy()
    if dates.dtype.kind != "M":  # e.g. Python dates: the reference types them
        return _orders_by_pandas(lines, known)
    dates = _kept(dates, known)
    ranks, days = pd.factorize(dates, sort=True)
    if (ranks < 0).any():
        ranks = np.where(ranks < 0, len(days), ranks)  # NaT sorts last
    (customers, date_ranks, order_ids), _ = last_of_groups(
        [
            _kept(lines["customer_id"].to_numpy(dtype=np.int64), known),
            ranks.astype(np.int64, copy=False),
            _kept(lines["order_id"].to_numpy(dtype=np.int64), known),
        ],
        by=3,
    )
    order_days = np.append(np.asarray(days, dtype=dates.dtype), np.array(["NaT"], dates.dtype))
    return pd.DataFrame(
        {
            "customer_id": customers,
            "order_id": order_ids,
            "order_date": order_days[date_ranks],
        }
    )


def _conditional(
    pairs: sparse.csr_matrix, totals: np.ndarray, neighbours: int
) -> sparse.csr_matrix:
    """``pairs[i, j] / totals[i]`` with each row cut to its ``neighbours`` largest values
    (ties to the lower product id) and the diagonal removed; a block of rows at a time, only
    the stored entries ranked."""

    def share_rows(block: slice) -> sparse.coo_matrix:
        entries = pairs[block].tocoo()
        row_totals = totals[block][entries.row]
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(row_totals > 0, entries.data / row_totals, 0.0)
        return off_diagonal(entries.row, entries.col, values, block, pairs.shape[1])

    return top_per_row(share_rows, pairs.shape[0], neighbours)


def sequence_signals(
    lines: pd.DataFrame,
    catalog: Catalog,
    *,
    neighbours: int,
    orders: tuple[pd.DataFrame, sparse.csr_matrix] | None = None,
) -> SequenceSignals:
    """Basket and next-order co-purchase shares from the order lines known at a date.

    Args:
        lines: :func:`~retail_ml.recommend.inputs.order_lines_as_of`.
        catalog: Products in matrix order.
        neighbours: Products kept per row (>= 1).
        orders: ``order_matrix(lines, catalog)`` when the caller already has it.
    """
    if neighbours < 1:
        raise ValueError(f"sequence neighbours must be at least 1, got {neighbours}")
    orders, matrix = orders or order_matrix(lines, catalog)
    in_orders = np.asarray(matrix.sum(axis=0)).ravel()
    basket = _conditional((matrix.T @ matrix).tocsr(), in_orders, neighbours)
    customers = orders["customer_id"].to_numpy(dtype=np.int64)
    followed = np.flatnonzero(customers[1:] == customers[:-1])  # order k and k+1 of one customer
    before, after = matrix[followed], matrix[followed + 1]
    followed_totals = np.asarray(before.sum(axis=0)).ravel()
    next_order = _conditional((before.T @ after).tocsr(), followed_totals, neighbours)
    return SequenceSignals(basket=basket, next_order=next_order)


def recent_orders(
    lines: pd.DataFrame,
    target_ids: np.ndarray,
    catalog: Catalog,
    *,
    count: int,
    orders: tuple[pd.DataFrame, sparse.csr_matrix] | None = None,
) -> list[sparse.csr_matrix]:
    """Target × product 0/1 matrices of each customer's latest ``count`` orders
    (``[0]`` = the latest order, ``[1]`` = the one before, ...; rows in ``target_ids`` order;
    ``orders`` as in :func:`sequence_signals`)."""
    if orders is None:
        fast = _recent_orders_by_lines(lines, target_ids, catalog, count=count)
        if fast is not None:
            return fast
    orders, matrix = orders or order_matrix(lines, catalog)
    customers = orders["customer_id"].to_numpy(dtype=np.int64)
    recency = _later_orders(customers)
    rows, is_target = locate(target_ids, customers)
    result = []
    for back in range(count):
        picked = np.flatnonzero(is_target & (recency == back))
        selector = sparse.csr_matrix(
            (np.ones(len(picked)), (rows[picked], picked)), shape=(len(target_ids), len(orders))
        )
        result.append((selector @ matrix).tocsr())
    return result


def _recent_orders_by_lines(
    lines: pd.DataFrame, target_ids: np.ndarray, catalog: Catalog, *, count: int
) -> list[sparse.csr_matrix] | None:
    """:func:`recent_orders` without the order matrix: each target's latest order is the one
    with its greatest (date, order id) key, found by a scatter-max over the lines, then the
    latest of the rest, and so on (one pass over the lines per order back, no sort of all the
    orders: the serving run needs two orders back of 200k customers, not 5M sorted orders).

    None when that key does not order them as :func:`order_matrix` does: dates not
    ``datetime64``, an order id with several customers or dates (the reference then keeps its
    first line's), ids too spread for a lookup table or a key wider than 62 bits."""
    dates = lines["order_date"].to_numpy()
    if dates.dtype.kind != "M":
        return None
    columns = catalog.positions(lines["product_id"])
    known = columns >= 0
    customers = _kept(lines["customer_id"].to_numpy(dtype=np.int64), known)
    order_ids = _kept(lines["order_id"].to_numpy(dtype=np.int64), known)
    days = _kept(dates.astype("datetime64[D]").view(np.int64), known)
    columns = _kept(columns, known)
    n_targets = len(target_ids)
    if len(order_ids) == 0:
        return [sparse.csr_matrix((n_targets, catalog.size)) for _ in range(count)]
    missing = np.isnat(days.view("datetime64[D]"))
    if missing.any():
        # NaT sorts after every date (the order matrix ranks it last).
        latest = int(days[~missing].max()) + 1 if (~missing).any() else 0
        days = np.where(missing, latest, days)
    low, high = int(order_ids.min()), int(order_ids.max())
    if high - low + 1 > LOOKUP_SLOTS_PER_ID * len(order_ids) + 1_000_000:
        return None
    offsets = order_ids - low
    day_low = int(days.min())
    day_bits = (int(days.max()) - day_low).bit_length()
    order_bits = (high - low).bit_length()
    packed = pack_columns([customers, days])
    # One customer and one date per order id: the last write of each id is then the one
    # value of all its lines (customer and date packed into one value when they fit, so one
    # scatter and one gather of the lines check both).
    for values in [customers, days] if packed is None else [packed.key]:
        table = np.zeros(high - low + 1, dtype=np.int64)
        table[offsets] = values
        if not np.array_equal(table[offsets], values):
            return None
    if day_bits + order_bits > 62:
        return None
    rows, is_target = locate(target_ids, customers)
    rows, columns = rows[is_target], columns[is_target]
    keys = ((days[is_target] - day_low) << order_bits) | offsets[is_target]
    left = np.ones(len(keys), dtype=bool)
    result = []
    for _ in range(count):
        best = np.full(n_targets, -1, dtype=np.int64)
        np.maximum.at(best, rows[left], keys[left])
        picked = left & (keys == best[rows])
        left &= ~picked
        matrix = sparse.csr_matrix(
            (np.ones(int(picked.sum())), (rows[picked], columns[picked])),
            shape=(n_targets, catalog.size),
        )
        # As the order matrix's entries: 1 per product of the order, however many lines.
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        result.append(matrix)
    return result


def _later_orders(customers: np.ndarray) -> np.ndarray:
    """Per order, how many later orders its customer has (0: their latest), for orders
    sorted by customer (:func:`order_matrix`): the distance to the end of its customer's run,
    what a pandas groupby cumcount (kept for unsorted orders) gives without hashing them."""
    if len(customers) == 0:
        return np.zeros(0, dtype=np.int64)
    if (customers[1:] < customers[:-1]).any():
        series = pd.Series(customers)
        return series.groupby(series, sort=False).cumcount(ascending=False).to_numpy()
    last = np.flatnonzero(np.r_[customers[1:] != customers[:-1], True])
    return np.repeat(last, np.diff(np.r_[-1, last])) - np.arange(len(customers))


@dataclass(frozen=True)
class CategoryTaste:
    """The category mix of all lines bought by each country's customers.

    ``taste[c]`` is country ``countries[c]``'s mix; the last row is the shop's mix, what an
    unknown or unseen country (or one whose customers bought nothing) gets."""

    countries: np.ndarray  # sorted country codes of the population
    taste: np.ndarray  # (countries + 1) × categories

    def of(self, country_codes: pd.Series) -> np.ndarray:
        """Each customer's row of ``taste``, by their country code."""
        keys = country_codes.astype(object).fillna(UNKNOWN_KEY).astype(str)
        rows = pd.Index(self.countries).get_indexer(keys)
        return self.taste[np.where(rows >= 0, rows, len(self.countries))]


def category_taste(
    lines: pd.DataFrame, customers: pd.DataFrame, catalog: Catalog
) -> CategoryTaste:
    """The countries' category mixes (:class:`CategoryTaste`) from everyone's order lines.

    Args:
        lines: :func:`~retail_ml.recommend.inputs.order_lines_as_of`.
        customers: The population, ``customer_id`` and ``country_code``: a line of a customer
            outside it counts for the shop's mix only.
        catalog: Products in matrix order.
    """
    names, codes = catalog.category_codes
    columns = catalog.positions(lines["product_id"])
    known = columns >= 0
    line_categories = codes[columns[known]]
    line_customers = lines["customer_id"].to_numpy(dtype=np.int64)[known]

    # Country of every known customer as a small integer (the last code = unknown country);
    # integer lookups, not string merges: there are millions of lines.
    population = customers[["customer_id", "country_code"]].drop_duplicates("customer_id")
    population = population.sort_values("customer_id", kind="mergesort")
    population_ids = population["customer_id"].to_numpy(dtype=np.int64)
    codes_of, country_names = pd.factorize(
        population["country_code"].astype(object).fillna(UNKNOWN_KEY).astype(str), sort=True
    )
    unknown = len(country_names)
    rows, found = locate(population_ids, line_customers)
    line_countries = np.where(found, codes_of[rows] if len(codes_of) else unknown, unknown)
    counts = np.bincount(
        line_countries * len(names) + line_categories, minlength=(unknown + 1) * len(names)
    ).reshape(unknown + 1, len(names)).astype(np.float64)
    shop_mix = counts.sum(axis=0)
    if shop_mix.sum() > 0:
        shop_mix = shop_mix / shop_mix.sum()
    else:
        shop_mix = np.full(len(names), 1.0 / len(names))
    totals = counts.sum(axis=1, keepdims=True)
    taste = np.where(totals > 0, counts / np.maximum(totals, 1.0), shop_mix)
    # Customers of an unknown country get the shop's mix, not the mix of the unknown few.
    taste[unknown] = shop_mix
    if (country_names == UNKNOWN_KEY).any():
        taste[int(np.flatnonzero(country_names == UNKNOWN_KEY)[0])] = shop_mix
    return CategoryTaste(countries=np.asarray(country_names, dtype=object), taste=taste)


def category_preference(
    taste: CategoryTaste,
    lines: pd.DataFrame,
    targets: pd.DataFrame,
    catalog: Catalog,
    *,
    prior_strength: float,
) -> np.ndarray:
    """Each target's category preference (targets × categories, rows in ``customer_id``
    order): ``(a · taste[country(u), c] + n[u, c]) / (a + n[u])``, ``n`` the customer's order
    lines per category, ``a`` the prior strength: a customer without purchases gets their
    country's mix (the cold start).

    Args:
        taste: :func:`category_taste`.
        lines: :func:`~retail_ml.recommend.inputs.order_lines_as_of`: at least the targets'.
        targets: The customers to score, sorted by ``customer_id`` (with ``country_code``).
        catalog: Products in matrix order.
        prior_strength: ``a`` (> 0).
    """
    if prior_strength <= 0:
        raise ValueError(f"category_prior_strength must be positive, got {prior_strength}")
    names, codes = catalog.category_codes
    target_ids = targets["customer_id"].to_numpy(dtype=np.int64)
    prior = taste.of(targets["country_code"])
    columns = catalog.positions(lines["product_id"])
    known = columns >= 0
    rows, mine = locate(target_ids, lines["customer_id"].to_numpy(dtype=np.int64)[known])
    line_categories = codes[columns[known]]
    own = np.bincount(
        rows[mine] * len(names) + line_categories[mine], minlength=len(target_ids) * len(names)
    ).reshape(len(target_ids), len(names)).astype(np.float64)
    return (prior_strength * prior + own) / (prior_strength + own.sum(axis=1, keepdims=True))


def category_share(lines: pd.DataFrame, catalog: Catalog, *, as_of: np.datetime64) -> np.ndarray:
    """Each product's orders per day on sale (since launch, or since the first order of
    the history when it launched before) over the same sum for its category, so a product
    launched last week is not out-sold by one that has sold for two years; 0 when not on sale.

    Args:
        lines: :func:`~retail_ml.recommend.inputs.order_lines_as_of`: everyone's.
        catalog: Products in matrix order (categories, launch dates, on sale).
        as_of: The as-of date.
    """
    day = as_day(as_of)
    names, codes = catalog.category_codes
    columns = catalog.positions(lines["product_id"])
    known = columns >= 0
    sold = np.bincount(columns[known], minlength=catalog.size).astype(np.float64)
    first_day = lines["order_date"].to_numpy(dtype="datetime64[D]").min() if len(lines) else day
    launched = (
        np.full(catalog.size, np.datetime64("NaT"), dtype="datetime64[D]")
        if catalog.launched_dates is None
        else catalog.launched_dates
    )
    since = np.where(np.isnat(launched), first_day, np.maximum(launched, first_day))
    days_on_sale = np.maximum((day - since).astype("timedelta64[D]").astype(np.float64) + 1, 1.0)
    rate = np.where(catalog.is_launched, sold / days_on_sale, 0.0)
    category_rate = np.bincount(codes, weights=rate, minlength=len(names))
    return np.where(category_rate[codes] > 0, rate / np.maximum(category_rate[codes], 1e-300), 0.0)
