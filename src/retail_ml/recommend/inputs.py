"""The recommender's inputs, as the warehouse computes them, ready for the matrices.

Nothing here decides what was known when: the SQL models do, once, for the dates the
recommender needs (the serving day and the evaluation cutoff of int_feature_dates_requested):

* ``int_customer_products_purchased``: customer × product × as-of date, the last order date of
  the non-cancelled lines known by the end of that date;
* ``int_product_catalogue_requested``: product × as-of date, every staged product with its
  repurchase flag and whether it is on sale (launched and known) on that date;
* ``int_recommender_evaluation_customers`` / ``int_recommender_evaluation_purchases``: who is
  evaluated at the cutoff and what they bought after it.

These helpers pick the rows of one as-of date, check the columns, and build the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from retail_ml.recommend._checks import require_columns, require_rows, require_unique

#: Columns read from the catalogue (int_product_catalogue_requested, one as-of date).
CATALOGUE_COLUMNS: tuple[str, ...] = (
    "product_id",
    "product_name",
    "category",
    "is_repurchase_typical",
    "is_launched",
)
#: Columns read from the purchase history (int_customer_products_purchased, one as-of date).
PURCHASE_COLUMNS: tuple[str, ...] = ("customer_id", "product_id", "last_order_date")
#: Columns of the customers to recommend for (feat_customer_serving or a dated version).
CUSTOMER_COLUMNS: tuple[str, ...] = ("customer_id", "country_code", "signup_channel")


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

    @property
    def size(self) -> int:
        return len(self.product_ids)

    def positions(self, product_ids: pd.Series | np.ndarray) -> np.ndarray:
        """Matrix column of each product id; -1 for an id not in the catalogue."""
        ids = np.asarray(product_ids, dtype=np.int64)
        found = np.searchsorted(self.product_ids, ids)
        found = np.clip(found, 0, max(self.size - 1, 0))
        known = (self.size > 0) & (self.product_ids[found] == ids)
        return np.where(known, found, -1)


def _flag(values: pd.Series) -> np.ndarray:
    """A boolean column (or its 0.0/1.0 form from ``arrow_to_model_frame``); null = False."""
    return values.astype("boolean").fillna(False).to_numpy(dtype=bool)


def build_catalog(catalogue: pd.DataFrame) -> Catalog:
    """The catalogue of one as-of date as matrices' columns.

    Args:
        catalogue: int_product_catalogue_requested rows of one as-of date
            (``CATALOGUE_COLUMNS``): every product, launched or not; only launched ones
            (``is_launched``) are ever recommended.

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
    )


def purchase_history(purchases: pd.DataFrame) -> pd.DataFrame:
    """The purchase history of one as-of date, typed and sorted for the matrices.

    Args:
        purchases: int_customer_products_purchased rows of one as-of date
            (``PURCHASE_COLUMNS``); may be empty (everyone is then a cold start).

    Returns:
        ``customer_id``, ``product_id``, ``last_order_date`` (``datetime64``), one row per
        (customer, product), sorted by customer and product.

    Raises:
        ValueError: On missing columns or a duplicated (customer, product).
    """
    require_columns(purchases, PURCHASE_COLUMNS, "purchases")
    require_unique(purchases, ["customer_id", "product_id"], "purchases")
    history = pd.DataFrame(
        {
            "customer_id": purchases["customer_id"].to_numpy(dtype=np.int64),
            "product_id": purchases["product_id"].to_numpy(dtype=np.int64),
            "last_order_date": as_days(purchases["last_order_date"]),
        }
    )
    return history.sort_values(["customer_id", "product_id"], kind="mergesort").reset_index(
        drop=True
    )
