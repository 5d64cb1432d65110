"""The recommender's inputs, as the warehouse computes them, ready for the matrices.

Nothing here decides when a row became known: the SQL models do, once
(``models/intermediate/recommendations/``):

* ``int_recommender_order_lines``: customer × order × product, with the day the line became
  known (pit_known_date) and the day its cancellation became known (``retracted_date``); the
  history as of a date is the lines known and not retracted by its end
  (:func:`order_lines_as_of`);
* ``int_product_catalogue_requested``: product × as-of date (the serving day and the backtest
  cutoffs), every staged product known that day (its row landed by its end), with its
  repurchase flag and whether it is on sale that day;
* ``int_recommender_backtest_windows``, ``int_recommender_evaluation_customers`` and
  ``int_recommender_evaluation_purchases``: the backtest's windows, who is evaluated at each
  cutoff and what they bought after it.

These helpers pick the rows of one as-of date, check the columns, and build the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from retail_ml.recommend._checks import (
    pack_columns,
    require_columns,
    require_rows,
    require_unique,
)

#: Columns read from the catalogue (int_product_catalogue_requested, one as-of date).
CATALOGUE_COLUMNS: tuple[str, ...] = (
    "product_id",
    "product_name",
    "category",
    "is_repurchase_typical",
    "is_launched",
    "launched_date",
)
#: Columns read from the order lines (int_recommender_order_lines).
ORDER_LINE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "order_id",
    "product_id",
    "order_date",
    "known_date",
    "retracted_date",
)
#: Columns of the customers to recommend for (feat_customer_serving or a dated version).
CUSTOMER_COLUMNS: tuple[str, ...] = ("customer_id", "country_code", "signup_channel")


def warehouse_frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A relation as pandas, typed as :func:`retail_ml.ml.arrow_to_model_frame` types it
    (BOOLEAN and DECIMAL as float64), except dates: ``datetime64`` rather than Python
    ``date`` objects, which cost seconds per million rows to make and to convert back."""
    table = relation.to_arrow_table()
    columns = [
        column.cast(pa.float64())
        if pa.types.is_decimal(column.type) or pa.types.is_boolean(column.type)
        else column
        for column in table.columns
    ]
    # split_blocks: one block per column, not the int64 columns copied into one 2-D block (the
    # same frame; the 8.5M order lines of the large scale convert in about half the time).
    return pa.table(columns, names=table.column_names).to_pandas(
        date_as_object=False, split_blocks=True
    )


def as_day(value: date | str | pd.Timestamp | np.datetime64) -> np.datetime64:
    """One day as ``numpy.datetime64[D]``."""
    return pd.Timestamp(value).to_datetime64().astype("datetime64[D]")


def as_days(values: pd.Series) -> np.ndarray:
    """A column of dates or timestamps as ``datetime64[D]`` (the UTC date of a timestamp)."""
    return pd.to_datetime(values).to_numpy(dtype="datetime64[D]")


def single_day(frame: pd.DataFrame, column: str, what: str) -> np.datetime64:
    """The one date ``frame[column]`` holds; ``ValueError`` when it holds none or several."""
    require_columns(frame, [column], what)
    values = pd.to_datetime(frame[column]).dropna().unique()
    if len(values) != 1:
        raise ValueError(f"{what} must hold exactly one {column}, found {len(values)}")
    return as_day(values[0])


#: ``locate`` uses a lookup table when the ids span at most this many slots per id (+ 1M):
#: one gather per id instead of a binary search with a cache miss per step (millions of lines
#: looked up among 50k-200k customers).
LOOKUP_SLOTS_PER_ID = 8


def locate(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each of ``ids`` in ``sorted_ids`` (sorted, distinct) and whether it is there
    at all; an id not there gets the position a binary search would insert it at (clipped)."""
    ids = np.asarray(ids, dtype=np.int64)
    sorted_ids = np.asarray(sorted_ids, dtype=np.int64)
    n = len(sorted_ids)
    if n == 0:
        return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
    low, high = int(sorted_ids[0]), int(sorted_ids[-1])
    if high - low + 1 > LOOKUP_SLOTS_PER_ID * n + 1_000_000:
        # Ids too spread for a table (e.g. the xl scale's tiled id ranges): a hash lookup,
        # several times faster than a binary search of tens of millions of ids.
        rows = pd.Index(sorted_ids).get_indexer(ids).astype(np.int64)
    else:
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[sorted_ids - low] = np.arange(n, dtype=np.int64)
        inside = (ids >= low) & (ids <= high)
        rows = np.where(inside, table[np.where(inside, ids - low, 0)], -1)
    found = rows >= 0
    if not found.all():
        missing = ~found
        rows[missing] = np.clip(np.searchsorted(sorted_ids, ids[missing]), 0, n - 1)
    return rows, found


def rows_as_of(frame: pd.DataFrame, as_of: date, what: str) -> pd.DataFrame:
    """The rows of ``frame`` (a model with one block of rows per ``as_of_date``) for ``as_of``."""
    require_columns(frame, ["as_of_date"], what)
    picked = frame[as_days(frame["as_of_date"]) == as_day(as_of)]
    return picked.reset_index(drop=True)


@dataclass(frozen=True)
class Catalog:
    """Every known product, in ``product_id`` order (the column order of every matrix)."""

    product_ids: np.ndarray
    product_names: np.ndarray
    categories: np.ndarray
    is_repurchase_typical: np.ndarray
    is_launched: np.ndarray
    launched_dates: np.ndarray | None = None  # datetime64[D]; NaT or None when unknown

    @property
    def size(self) -> int:
        return len(self.product_ids)

    @property
    def category_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """The sorted distinct categories and each product's index into them."""
        names = pd.Series(self.categories, dtype=object).fillna("unknown").astype(str)
        codes, uniques = pd.factorize(names, sort=True)
        return np.asarray(uniques, dtype=object), codes.astype(np.int64)

    def positions(self, product_ids: pd.Series | np.ndarray) -> np.ndarray:
        """Matrix column of each product id; -1 for an id not in the catalogue."""
        rows, known = locate(self.product_ids, np.asarray(product_ids, dtype=np.int64))
        return np.where(known, rows, -1)


def _flag(values: pd.Series) -> np.ndarray:
    """A boolean column (or its 0.0/1.0 form from ``arrow_to_model_frame``); null = False."""
    return values.astype("boolean").fillna(False).to_numpy(dtype=bool)


def build_catalog(catalogue: pd.DataFrame) -> Catalog:
    """The catalogue of one as-of date as matrices' columns.

    Args:
        catalogue: int_product_catalogue_requested rows of one as-of date
            (``CATALOGUE_COLUMNS``): every product known that day, launched or not; only
            launched ones (``is_launched``) are ever recommended.

    Raises:
        ValueError: On missing columns, no products, or a duplicated product id.
    """
    require_columns(catalogue, CATALOGUE_COLUMNS, "catalogue")
    require_rows(catalogue, "catalogue")
    require_unique(catalogue, ["product_id"], "catalogue")
    ordered = catalogue.sort_values("product_id", kind="mergesort").reset_index(drop=True)
    return Catalog(
        product_ids=ordered["product_id"].to_numpy(dtype=np.int64),
        product_names=ordered["product_name"].astype(object).to_numpy(),
        categories=ordered["category"].astype(object).to_numpy(),
        is_repurchase_typical=_flag(ordered["is_repurchase_typical"]),
        is_launched=_flag(ordered["is_launched"]),
        launched_dates=as_days(ordered["launched_date"]),
    )


def order_lines_as_of(lines: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The order lines known by the end of ``as_of``, typed and sorted for the matrices.

    Args:
        lines: int_recommender_order_lines (``ORDER_LINE_COLUMNS``); may be empty.
        as_of: The as-of date: lines with ``known_date <= as_of`` are kept (``known_date`` is
            never before ``order_date``, so no later order is kept either), unless their
            order's cancellation was known by then (``retracted_date <= as_of``).

    Returns:
        ``customer_id``, ``order_id``, ``product_id``, ``order_date`` (``datetime64[D]``), in
        input order (every consumer aggregates or sorts what it needs; sorting 2M rows per
        as-of date would cost more than all of them).

    Raises:
        ValueError: On missing columns or a duplicated (order, product).
    """
    require_columns(lines, ORDER_LINE_COLUMNS, "order lines")
    day = as_day(as_of)
    retracted = as_days(lines["retracted_date"])
    # NaT (never cancelled) compares False: the line stays.
    known = (as_days(lines["known_date"]) <= day) & ~(retracted <= day)
    kept = lines.loc[known]
    require_unique(kept, ["order_id", "product_id"], "order lines")
    typed = pd.DataFrame(
        {
            "customer_id": kept["customer_id"].to_numpy(dtype=np.int64),
            "order_id": kept["order_id"].to_numpy(dtype=np.int64),
            "product_id": kept["product_id"].to_numpy(dtype=np.int64),
            "order_date": as_days(kept["order_date"]),
        }
    )
    return typed.reset_index(drop=True)


#: The columns of :func:`order_lines_as_of`'s result.
KNOWN_LINE_COLUMNS: tuple[str, ...] = ("customer_id", "order_id", "product_id", "order_date")


def known_order_lines(relation: duckdb.DuckDBPyRelation, as_of: date) -> pd.DataFrame:
    """``order_lines_as_of(warehouse_frame(relation), as_of)`` with the rule applied in SQL:
    only the lines known and not retracted by ``as_of`` leave DuckDB, and only the four
    columns the recommender reads, straight from Arrow into the result's types.

    The pandas frame of all six columns, its date conversions and the copy of the kept rows
    cost about as much as the copy itself (8.6M lines at the large scale); the rows and their
    order are the same (the filter keeps the table's order, as the pandas mask does).

    Args:
        relation: int_recommender_order_lines (``ORDER_LINE_COLUMNS``).
        as_of: The as-of date (see :func:`order_lines_as_of`).

    Raises:
        ValueError: On missing columns or a duplicated (order, product), as
            :func:`order_lines_as_of`.
    """
    missing = [column for column in ORDER_LINE_COLUMNS if column not in relation.columns]
    if missing:
        raise ValueError(f"order lines is missing required columns: {missing}")
    day = f"date '{pd.Timestamp(as_day(as_of)).date().isoformat()}'"
    # The rule of order_lines_as_of: a null known_date is never known, a null retracted_date
    # never retracted.
    kept = relation.filter(
        f"known_date <= {day} and (retracted_date is null or retracted_date > {day})"
    )
    table = kept.project(", ".join(f'"{name}"' for name in KNOWN_LINE_COLUMNS)).to_arrow_table()
    ids = [table.column(name) for name in KNOWN_LINE_COLUMNS[:3]]
    if any(column.null_count for column in ids) or not all(
        pa.types.is_integer(column.type) for column in ids
    ) or not pa.types.is_date32(table.column("order_date").type):
        # Null ids or other types: the pandas path, whatever it makes of them.
        whole = warehouse_frame(kept.project(", ".join(ORDER_LINE_COLUMNS)))
        return order_lines_as_of(whole, as_of)
    typed = pd.DataFrame(
        {
            **{
                name: column.to_numpy().astype(np.int64, copy=False)
                for name, column in zip(KNOWN_LINE_COLUMNS[:3], ids, strict=True)
            },
            # date32 as datetime64[D], nulls as NaT: what as_days makes of the pandas column.
            "order_date": table.column("order_date").to_numpy(),
        }
    )
    require_unique(typed, ["order_id", "product_id"], "order lines")
    return typed


def purchase_history(lines: pd.DataFrame) -> pd.DataFrame:
    """Customer × product summary of :func:`order_lines_as_of`'s lines.

    Returns:
        ``customer_id``, ``product_id``, ``last_order_date`` (``datetime64[D]``) and ``orders``
        (distinct orders with the product), one row per (customer, product), sorted by customer
        and product. Empty lines give an empty frame (everyone is then a cold start).
    """
    require_columns(lines, ["customer_id", "order_id", "product_id", "order_date"], "lines")
    (customers, products, dates), orders = last_of_groups(
        [
            lines["customer_id"].to_numpy(dtype=np.int64),
            lines["product_id"].to_numpy(dtype=np.int64),
            # NaT is the smallest int64: a group's last date only when all its dates are NaT,
            # as pandas' max (which skips NaT) gives.
            lines["order_date"].to_numpy(dtype="datetime64[D]").view(np.int64),
        ],
        by=2,
    )
    # A group's last line (sorted by date last) holds its latest date, and lines are unique
    # per (order, product), so a group's line count is its distinct orders.
    return pd.DataFrame(
        {
            "customer_id": customers,
            "product_id": products,
            "last_order_date": dates.view("datetime64[D]"),
            "orders": orders,
        }
    )


def recent_purchases(lines: pd.DataFrame, since: np.datetime64) -> pd.DataFrame:
    """Who bought what after ``since``: the rows of :func:`purchase_history` with a
    ``last_order_date`` after it (``customer_id``, ``product_id``, ``last_order_date``; not
    ``orders``, which would count the window's orders only), from those lines alone."""
    dates = lines["order_date"].to_numpy(dtype="datetime64[D]")
    history = purchase_history(lines.loc[dates > since])
    return history[["customer_id", "product_id", "last_order_date"]]


def last_of_groups(columns: list[np.ndarray], by: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The rows of the int64 ``columns`` (equal lengths) sorted by the first column, then the
    second, ...; for each group of rows equal in the first ``by`` columns, in that order, the
    values of its last row (the greatest) and its number of rows.

    One ``np.sort`` of the rows packed into one int64 when their ranges fit (every scale so
    far; unpacked only at the groups' last rows), else ``np.lexsort``: the same result, several
    times faster than a multi-key pandas groupby or sort of millions of order lines."""
    if len(columns[0]) == 0:
        return [values[:0].copy() for values in columns], np.zeros(0, dtype=np.int64)
    packed = pack_columns(columns)
    if packed is None:
        order = np.lexsort(columns[::-1])
        ordered = [values[order] for values in columns]
        changes = np.zeros(len(order) - 1, dtype=bool)
        for values in ordered[:by]:
            changes |= values[1:] != values[:-1]
        last = np.flatnonzero(np.r_[changes, True])
        return [values[last] for values in ordered], np.diff(np.r_[-1, last])
    key = packed.key
    key.sort()
    group = packed.prefix(by, key)
    last = np.flatnonzero(np.r_[group[1:] != group[:-1], True])
    key = key[last]
    values = [packed.column(index, key) for index in range(len(columns))]
    return values, np.diff(np.r_[-1, last])
