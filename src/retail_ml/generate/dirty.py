"""Dirty rows exactly as the raw data contract lists them.

Every dirty row is an extra row derived from a distinct clean row (never in-place edits), so the
clean part stays internally consistent and each dirty row breaks exactly one rule: the one its
kind names. Rows carry no marker; only the broken rule gives them away.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import DIRTY_RATE, MIN_DIRTY_PER_KIND
from .world import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, World, epoch_us

KINDS: dict[str, tuple[str, ...]] = {
    "customers": ("duplicate", "null_key", "malformed_email"),
    "products": ("duplicate", "null_key", "negative_money"),
    "orders": ("duplicate", "null_key", "unknown_foreign_key", "future_timestamp",
               "unknown_currency"),
    "order_items": ("duplicate", "null_key", "unknown_foreign_key", "non_positive_quantity",
                    "negative_money"),
    "returns": ("duplicate", "null_key", "unknown_foreign_key", "non_positive_quantity",
                "negative_money"),
    "reviews": ("duplicate", "null_key", "unknown_foreign_key", "future_timestamp",
                "rating_out_of_range"),
    "web_sessions": ("duplicate", "null_key", "unknown_foreign_key", "future_timestamp"),
}
FOREIGN_KEYS = {
    "orders": ("customer_id",),
    "order_items": ("order_id", "product_id"),
    "returns": ("order_id", "product_id"),
    "reviews": ("customer_id", "product_id"),
    "web_sessions": ("customer_id",),
}
MONEY = {"products": "list_price", "order_items": "unit_price", "returns": "refund_amount"}
EVENT = {"orders": "ordered_at", "reviews": "created_at", "web_sessions": "started_at"}
# Far above any real id at any scale, so an "unknown" id can never exist in the parent.
UNKNOWN_ID_BASE = 9_000_000_000_000
BAD_CURRENCIES = ("XXX", "EURO", "EU", "ZZZ")
BAD_RATINGS = (0, 6, -1)
BAD_QUANTITIES = (0, -1, -2)


def dirty_count(n_rows: int, n_kinds: int) -> int:
    return max(MIN_DIRTY_PER_KIND, int(round(DIRTY_RATE * n_rows / n_kinds)))


def _np(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Numeric column (timestamps as int64 us) to numpy, nulls as 0."""
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    return pc.fill_null(col, 0).to_numpy()


class _Injector:
    """Builds the dirty rows of one table from distinct clean source rows."""

    def __init__(self, world: World, name: str, table: pa.Table) -> None:
        self.name, self.table = name, table
        self.rng = world.rng(f"dirty/{name}")
        self.end = world.end_max_us
        self.end_day = epoch_us(world.end_date)
        self.loaded = _np(table["_loaded_at"])
        self.order = self.rng.permutation(table.num_rows)
        self.used = np.zeros(table.num_rows, dtype=bool)
        has_id = "id" in table.schema.names
        self.next_id = int(_np(table["id"]).max(initial=0)) + 1 if has_id else 0
        self.next_fake = UNKNOWN_ID_BASE
        if name == "order_items":
            order_id = _np(table["order_id"])
            self.lines_per_order = np.bincount(order_id)  # clean lines are 1..n per order
            self.appended = np.zeros_like(self.lines_per_order)

    # -- helpers ---------------------------------------------------------------------------
    def sources(self, k: int, eligible: np.ndarray | None = None) -> np.ndarray:
        ok = ~self.used[self.order]
        if eligible is not None:
            ok &= eligible[self.order]
        src = self.order[ok][:k]
        self.used[src] = True
        return np.sort(src)

    def put(self, rows: pa.Table, column: str, values: np.ndarray | pa.Array) -> pa.Table:
        field = rows.schema.field(column)
        arr = values if isinstance(values, pa.Array) else pa.array(values)
        return rows.set_column(rows.schema.get_field_index(column), field, arr.cast(field.type))

    def fake_ids(self, k: int) -> np.ndarray:
        ids = self.next_fake + np.arange(k) * 1_000 + self.rng.integers(0, 1_000, k)
        self.next_fake += k * 1_000
        return ids

    def new_key(self, rows: pa.Table) -> pa.Table:
        """Give derived rows a key no clean row has: the next id, or a further order line."""
        if "id" in rows.schema.names:
            ids = np.arange(self.next_id, self.next_id + rows.num_rows, dtype=np.int64)
            self.next_id += rows.num_rows
            return self.put(rows, "id", ids)
        order_id = _np(rows["order_id"])
        # Several derived rows may extend the same order: number them one after the other.
        by_order = np.argsort(order_id, kind="stable")
        sorted_ids = order_id[by_order]
        first = np.ones(len(sorted_ids), dtype=bool)
        first[1:] = sorted_ids[1:] != sorted_ids[:-1]
        run_start = np.maximum.accumulate(np.where(first, np.arange(len(sorted_ids)), 0))
        nth = np.empty(len(order_id), dtype=np.int64)
        nth[by_order] = np.arange(len(sorted_ids)) - run_start
        line = self.lines_per_order[order_id] + self.appended[order_id] + nth + 1
        np.add.at(self.appended, order_id, 1)
        return self.put(rows, "line_number", line)

    # -- kinds -----------------------------------------------------------------------------
    def duplicate(self, k: int) -> pa.Table:
        src = self.sources(k, self.loaded <= self.end - 2 * US_PER_HOUR)
        room = np.minimum(3 * US_PER_DAY, self.end - self.loaded[src])
        later = self.loaded[src] + US_PER_HOUR + (
            self.rng.random(len(src)) * (room - US_PER_HOUR)).astype(np.int64)
        return self.put(self.table.take(src), "_loaded_at", later)

    def null_key(self, k: int) -> pa.Table:
        rows = self.table.take(self.sources(k))
        if self.name != "order_items":
            return self.put(rows, "id", pa.nulls(rows.num_rows, pa.int64()))
        # Null order_id on half the rows, but only where (line_number, product_id) is unique
        # among them: two such rows could otherwise be identical and pass for a duplicate.
        half = np.arange(rows.num_rows) % 2 == 0
        pair = _np(rows["line_number"]).astype(np.int64) * (1 << 40) + _np(rows["product_id"])
        first_seen = np.zeros(rows.num_rows, dtype=bool)
        first_seen[np.unique(np.where(half, pair, -1 - np.arange(rows.num_rows)),
                             return_index=True)[1]] = True
        half &= first_seen
        rows = self.put(rows, "order_id", pa.array(_np(rows["order_id"]), mask=half))
        return self.put(rows, "line_number", pa.array(_np(rows["line_number"]), mask=~half))

    def unknown_foreign_key(self, k: int) -> pa.Table:
        rows = self.table.take(self.sources(k))
        columns = FOREIGN_KEYS[self.name]
        which = np.arange(rows.num_rows) % len(columns)
        for j, column in enumerate(columns):
            values = np.where(which == j, self.fake_ids(rows.num_rows), _np(rows[column]))
            mask = None
            if column == "customer_id" and self.name == "web_sessions":
                mask = (which != j) & pc.is_null(rows[column]).to_numpy(zero_copy_only=False)
            rows = self.put(rows, column, pa.array(values, mask=mask))
        if self.name == "order_items":
            # A fake order_id is a new key by itself; a fake product joins a real order.
            real_order = which != 0
            fixed = self.new_key(rows.filter(pa.array(real_order)))
            return pa.concat_tables([rows.filter(pa.array(~real_order)), fixed])
        return self.new_key(rows)

    def non_positive_quantity(self, k: int) -> pa.Table:
        rows = self.table.take(self.sources(k))
        bad = self.rng.choice(BAD_QUANTITIES, rows.num_rows)
        return self.new_key(self.put(rows, "quantity", bad))

    def negative_money(self, k: int) -> pa.Table:
        rows = self.table.take(self.sources(k))
        column = MONEY[self.name]
        negative = -np.maximum(np.abs(_np(rows[column])), 0.01)
        return self.new_key(self.put(rows, column, negative))

    def future_timestamp(self, k: int) -> pa.Table:
        rows = self.table.take(self.sources(k))
        n = rows.num_rows
        event = self.end + (self.rng.uniform(1.0, 60.0, n) * US_PER_DAY).astype(np.int64)
        landed = self.end_day + self.rng.integers(0, US_PER_DAY, n)
        rows = self.put(rows, EVENT[self.name], pa.array(event).cast(pa.timestamp("us", "UTC")))
        if self.name == "orders":  # an order "placed" in the future: its version time with it
            rows = self.put(rows, "updated_at", pa.array(event).cast(pa.timestamp("us", "UTC")))
        rows = self.put(rows, "_loaded_at", pa.array(landed).cast(pa.timestamp("us", "UTC")))
        return self.new_key(rows)

    def malformed_email(self, k: int) -> pa.Table:
        # A later CDC version of a real customer whose e-mail got mangled on the way in. It
        # copies the customer's latest version so nothing but the e-mail changes.
        updated = _np(self.table["updated_at"])
        customer = _np(self.table["id"])
        order = np.lexsort((updated, customer))
        latest = np.zeros(len(customer), dtype=bool)
        latest[order[np.r_[customer[order][1:] != customer[order][:-1], True]]] = True
        src = self.sources(k, latest & (updated <= self.end - 4 * US_PER_HOUR))
        rows = self.table.take(src)
        room = np.minimum(30 * US_PER_DAY, self.end - 2 * US_PER_HOUR - updated[src])
        when = updated[src] + US_PER_MINUTE + (self.rng.random(len(src)) * room).astype(np.int64)
        landed = when + self.rng.integers(1, 50, len(src)) * US_PER_MINUTE
        email = rows["email"].combine_chunks()
        variants = [
            pc.replace_substring(email, "@", ""),  # no @
            pc.replace_substring(email, ".", " ", max_replacements=1),  # a space
            pc.replace_substring(email, "@", "@@"),  # double @
        ]
        pick = pa.array(np.arange(len(src)) % len(variants))
        rows = self.put(rows, "email", pc.choose(pick, *variants))
        rows = self.put(rows, "updated_at", pa.array(when).cast(pa.timestamp("us", "UTC")))
        return self.put(rows, "_loaded_at", pa.array(landed).cast(pa.timestamp("us", "UTC")))

    def unknown_currency(self, k: int) -> pa.Table:
        rows = self.table.take(self.sources(k))
        bad = pa.array(list(BAD_CURRENCIES)).take(
            pa.array(np.arange(rows.num_rows) % len(BAD_CURRENCIES)))
        return self.new_key(self.put(rows, "currency", bad))

    def rating_out_of_range(self, k: int) -> pa.Table:
        rows = self.table.take(self.sources(k))
        bad = np.array(BAD_RATINGS)[np.arange(rows.num_rows) % len(BAD_RATINGS)]
        return self.new_key(self.put(rows, "rating", bad))


def inject(world: World, name: str, table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """Append the table's dirty rows; return the raw table and the exact count per kind."""
    injector = _Injector(world, name, table)
    parts, counts = [table], {}
    k = dirty_count(table.num_rows, len(KINDS[name]))
    for kind in KINDS[name]:
        make: Callable[[int], pa.Table] = getattr(injector, kind)
        rows = make(k)
        parts.append(rows.cast(table.schema))
        counts[kind] = rows.num_rows
    return pa.concat_tables(parts), counts
