"""The raw data contract's Arrow schemas, keys, and conversion of clean entities to tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .cdc import CustomerVersions, names_and_emails
from .customers import SIGNUP_CHANNELS, Customers
from .orders import ORDER_CHANNELS, STATUSES, Orders, status_versions
from .products import Products
from .reviews import Reviews, review_texts
from .sessions import Sessions
from .world import World

TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema([
        ("id", pa.int64()), ("email", pa.string()), ("full_name", pa.string()),
        ("country", pa.string()), ("signup_channel", pa.string()), ("signup_at", TS),
        ("marketing_opt_in", pa.bool_()), ("updated_at", TS), ("_loaded_at", TS),
    ]),
    "products": pa.schema([
        ("id", pa.int64()), ("name", pa.string()), ("category", pa.string()),
        ("subcategory", pa.string()), ("brand", pa.string()), ("list_price", pa.float64()),
        ("launched_at", TS), ("_loaded_at", TS),
    ]),
    "orders": pa.schema([
        ("id", pa.int64()), ("customer_id", pa.int64()), ("ordered_at", TS),
        ("channel", pa.string()), ("status", pa.string()), ("currency", pa.string()),
        ("shipping_amount", pa.float64()), ("tax_amount", pa.float64()),
        ("discount_code", pa.string()), ("updated_at", TS), ("_loaded_at", TS),
    ]),
    "order_items": pa.schema([
        ("order_id", pa.int64()), ("line_number", pa.int32()), ("product_id", pa.int64()),
        ("quantity", pa.int32()), ("unit_price", pa.float64()),
        ("discount_amount", pa.float64()), ("_loaded_at", TS),
    ]),
    "returns": pa.schema([
        ("id", pa.int64()), ("order_id", pa.int64()), ("product_id", pa.int64()),
        ("returned_at", TS), ("quantity", pa.int32()), ("refund_amount", pa.float64()),
        ("_loaded_at", TS),
    ]),
    "reviews": pa.schema([
        ("id", pa.int64()), ("customer_id", pa.int64()), ("product_id", pa.int64()),
        ("rating", pa.int32()), ("review_text", pa.string()), ("created_at", TS),
        ("_loaded_at", TS),
    ]),
    "web_sessions": pa.schema([
        ("id", pa.int64()), ("customer_id", pa.int64()), ("started_at", TS),
        ("pages_viewed", pa.int32()), ("viewed_product_ids", pa.list_(pa.int64())),
        ("_loaded_at", TS),
    ]),
}  # fmt: skip

KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("id", "updated_at"),
    "products": ("id",),
    "orders": ("id", "updated_at"),
    "order_items": ("order_id", "line_number"),
    "returns": ("id",),
    "reviews": ("id",),
    "web_sessions": ("id",),
}


def labels(idx: np.ndarray, values: tuple[str, ...] | list[str]) -> pa.Array:
    """Strings from indices into `values`; negative indices become nulls."""
    idx = np.asarray(idx)
    indices = pa.array(np.maximum(idx, 0).astype(np.int32), mask=idx < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), pa.string())).cast(
        pa.string()
    )


def ts(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), type=TS)


def _table(name: str, columns: dict[str, pa.Array | np.ndarray]) -> pa.Table:
    schema = SCHEMAS[name]
    arrays = [pa.array(columns[f.name], type=f.type) if isinstance(columns[f.name], np.ndarray)
              else columns[f.name].cast(f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def customers_table(world: World, cust: Customers, ver: CustomerVersions,
                    loaded: np.ndarray) -> pa.Table:
    full_name, email = names_and_emails(cust, ver)
    return _table("customers", {
        "id": cust.id[ver.customer], "email": email, "full_name": full_name,
        "country": labels(ver.country, world.seeds.countries),
        "signup_channel": labels(cust.channel[ver.customer], SIGNUP_CHANNELS),
        "signup_at": ts(cust.signup_at[ver.customer]), "marketing_opt_in": ver.opt_in,
        "updated_at": ts(ver.updated_at), "_loaded_at": ts(loaded),
    })  # fmt: skip


def products_table(world: World, products: Products) -> pa.Table:
    seeds = world.seeds
    return _table("products", {
        "id": products.id, "name": pa.array(products.name),
        "category": labels(products.category, seeds.categories),
        "subcategory": labels(products.pair, seeds.subcategories),
        "brand": pa.array(products.brand), "list_price": products.list_price,
        "launched_at": ts(products.launched_at), "_loaded_at": ts(products.loaded_at),
    })  # fmt: skip


def orders_table(world: World, cust: Customers, orders: Orders, shipping: np.ndarray,
                 tax: np.ndarray, code: np.ndarray, codes: tuple[str, ...],
                 placed_loaded: np.ndarray, changes_loaded: np.ndarray) -> pa.Table:
    """The order feed as a change stream: one row per status an order reached (the placement,
    then each change), every row the whole header with that status and its `updated_at`.
    `placed_loaded` lands the placements, `changes_loaded` the later versions (in the order of
    `status_versions`)."""
    order, status, updated_at = status_versions(orders)
    return _table("orders", {
        "id": order + 1,
        "customer_id": cust.id[orders.customer[order]], "ordered_at": ts(orders.ordered_at[order]),
        "channel": labels(orders.channel[order], ORDER_CHANNELS),
        "status": labels(status, STATUSES),
        "currency": labels(orders.currency[order], world.seeds.currencies),
        "shipping_amount": shipping[order], "tax_amount": tax[order],
        "discount_code": labels(code[order], codes), "updated_at": ts(updated_at),
        "_loaded_at": ts(np.concatenate([placed_loaded, changes_loaded])),
    })  # fmt: skip


def order_items_table(order: np.ndarray, line_number: np.ndarray, product_id: np.ndarray,
                      quantity: np.ndarray, unit_price: np.ndarray, discount: np.ndarray,
                      loaded: np.ndarray) -> pa.Table:
    return _table("order_items", {
        "order_id": order + 1, "line_number": line_number, "product_id": product_id,
        "quantity": quantity, "unit_price": unit_price, "discount_amount": discount,
        "_loaded_at": ts(loaded),
    })  # fmt: skip


def returns_table(order_id: np.ndarray, product_id: np.ndarray, returned_at: np.ndarray,
                  quantity: np.ndarray, refund: np.ndarray, loaded: np.ndarray) -> pa.Table:
    return _table("returns", {
        "id": np.arange(1, len(order_id) + 1, dtype=np.int64), "order_id": order_id,
        "product_id": product_id, "returned_at": ts(returned_at), "quantity": quantity,
        "refund_amount": refund, "_loaded_at": ts(loaded),
    })  # fmt: skip


def reviews_table(cust: Customers, products: Products, reviews: Reviews,
                  loaded: np.ndarray) -> pa.Table:
    return _table("reviews", {
        "id": np.arange(1, reviews.n + 1, dtype=np.int64),
        "customer_id": cust.id[reviews.customer], "product_id": products.id[reviews.product],
        "rating": reviews.rating, "review_text": labels(reviews.text, review_texts()),
        "created_at": ts(reviews.created_at), "_loaded_at": ts(loaded),
    })  # fmt: skip


def sessions_table(cust: Customers, products: Products, sessions: Sessions,
                   loaded: np.ndarray) -> pa.Table:
    anonymous = sessions.customer < 0
    customer_id = pa.array(cust.id[np.maximum(sessions.customer, 0)], mask=anonymous)
    viewed = pa.ListArray.from_arrays(
        pa.array(sessions.view_offsets, pa.int32()),
        pa.array(products.id[sessions.view_products], pa.int64()),
    )
    return _table("web_sessions", {
        "id": np.arange(1, sessions.n + 1, dtype=np.int64), "customer_id": customer_id,
        "started_at": ts(sessions.started_at), "pages_viewed": sessions.pages_viewed,
        "viewed_product_ids": viewed, "_loaded_at": ts(loaded),
    })  # fmt: skip
