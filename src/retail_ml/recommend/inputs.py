"""From warehouse frames to what the recommender works on, as of one day.

Everything here is point in time: a purchase counts as of day D only if the order was placed on
or before D and its line was known (landed) by the end of D; a product can be recommended on D
only if it launched on or before D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from retail_ml.recommend._checks import require_columns, require_rows, require_unique

#: Columns read from the order lines (int_order_lines_netted).
LINE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "product_id",
    "is_cancelled",
    "order_date",
    "known_at",
)
#: Columns read from the products (stg_shop__products).
PRODUCT_COLUMNS: tuple[str, ...] = (
    "product_id",
    "product_name",
    "category",
    "subcategory",
    "launched_at",
)
#: Columns read from the seed product_categories.
CATEGORY_COLUMNS: tuple[str, ...] = ("category", "subcategory", "is_repurchase_typical")
#: Columns of the customers to recommend for (feat_customer_serving or a dated version).
CUSTOMER_COLUMNS: tuple[str, ...] = ("customer_id", "country_code", "signup_channel")


def as_day(value: date | str | pd.Timestamp | np.datetime64) -> np.datetime64:
    """One day as ``numpy.datetime64[D]``."""
    return pd.Timestamp(value).to_datetime64().astype("datetime64[D]")


def as_days(values: pd.Series) -> np.ndarray:
    """A column of dates or timestamps as ``datetime64[D]`` (the UTC date of a timestamp)."""
    return pd.to_datetime(values).to_numpy(dtype="datetime64[D]")


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


def build_catalog(products: pd.DataFrame, categories: pd.DataFrame, as_of: date) -> Catalog:
    """The product catalogue as of ``as_of``, with each product's repurchase flag.

    Args:
        products: One row per product (stg_shop__products columns ``PRODUCT_COLUMNS``).
        categories: The seed ``product_categories``; a subcategory missing from it is treated as
            not repurchase-typical.
        as_of: The day recommendations are made for; products launched later are kept in the
            catalogue (they may have been announced) but marked as not launched.

    Raises:
        ValueError: On missing columns, no products, or a duplicated product id.
    """
    require_columns(products, PRODUCT_COLUMNS, "products")
    require_columns(categories, CATEGORY_COLUMNS, "product_categories")
    require_rows(products, "products")
    require_unique(products, ["product_id"], "products")
    flags = categories.drop_duplicates(["category", "subcategory"])[list(CATEGORY_COLUMNS)]
    merged = products[list(PRODUCT_COLUMNS)].merge(
        flags, on=["category", "subcategory"], how="left", validate="many_to_one"
    )
    merged = merged.sort_values("product_id", kind="mergesort").reset_index(drop=True)
    launched_on = as_days(merged["launched_at"])
    return Catalog(
        product_ids=merged["product_id"].to_numpy(dtype=np.int64),
        product_names=merged["product_name"].astype(object).to_numpy(),
        categories=merged["category"].astype(object).to_numpy(),
        is_repurchase_typical=merged["is_repurchase_typical"]
        .astype("boolean")
        .fillna(False)
        .to_numpy(dtype=bool),
        is_launched=~np.isnat(launched_on) & (launched_on <= as_day(as_of)),
    )


def purchases_as_of(lines: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Who had bought what by the end of ``as_of``: one row per (customer, product).

    Args:
        lines: Order lines (``LINE_COLUMNS`` of int_order_lines_netted).
        as_of: Last day seen. Lines of cancelled orders, lines of orders placed later and lines
            that landed after the end of the day are ignored.

    Returns:
        ``customer_id``, ``product_id``, ``last_order_date`` (``datetime64[D]``), sorted by
        customer and product.
    """
    require_columns(lines, LINE_COLUMNS, "order lines")
    day = as_day(as_of)
    order_days = as_days(lines["order_date"])
    known_days = as_days(lines["known_at"])
    visible = (
        ~lines["is_cancelled"].to_numpy(dtype=bool)
        & (order_days <= day)
        & (known_days <= day)
    )
    seen = pd.DataFrame(
        {
            "customer_id": lines["customer_id"].to_numpy(dtype=np.int64)[visible],
            "product_id": lines["product_id"].to_numpy(dtype=np.int64)[visible],
            "last_order_date": order_days[visible],
        }
    )
    return (
        seen.groupby(["customer_id", "product_id"], sort=True, as_index=False)["last_order_date"]
        .max()
        .reset_index(drop=True)
    )


def purchases_between(lines: pd.DataFrame, first_day: date, last_day: date) -> pd.DataFrame:
    """Distinct (customer, product) bought in non-cancelled orders placed ``first_day..last_day``.

    Used for the evaluation window, judged on everything now known.
    """
    require_columns(lines, LINE_COLUMNS, "order lines")
    order_days = as_days(lines["order_date"])
    inside = (
        ~lines["is_cancelled"].to_numpy(dtype=bool)
        & (order_days >= as_day(first_day))
        & (order_days <= as_day(last_day))
    )
    bought = pd.DataFrame(
        {
            "customer_id": lines["customer_id"].to_numpy(dtype=np.int64)[inside],
            "product_id": lines["product_id"].to_numpy(dtype=np.int64)[inside],
        }
    )
    return bought.drop_duplicates().sort_values(["customer_id", "product_id"]).reset_index(
        drop=True
    )


def customers_as_of(customer_versions: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Customers who existed on ``as_of``, with the attributes of their version valid that day.

    Args:
        customer_versions: int_customer_versions_dated (``customer_id``, ``country_code``,
            ``signup_channel``, ``valid_from_date``, ``valid_to_date``; the latter null for the
            current version).
        as_of: The day.
    """
    require_columns(
        customer_versions,
        [*CUSTOMER_COLUMNS, "valid_from_date", "valid_to_date"],
        "customer versions",
    )
    day = as_day(as_of)
    valid_from = as_days(customer_versions["valid_from_date"])
    valid_to = as_days(customer_versions["valid_to_date"])
    valid = (valid_from <= day) & (np.isnat(valid_to) | (day < valid_to))
    current = customer_versions.loc[valid, list(CUSTOMER_COLUMNS)]
    require_unique(current, ["customer_id"], f"customer versions valid on {as_of}")
    return current.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
