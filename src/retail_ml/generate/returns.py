"""Returns of delivered order lines: apparel comes back most, groceries hardly ever."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .baskets import Lines
from .customers import Customers
from .orders import STATUSES, Orders
from .pricing import Money
from .products import Products
from .world import US_PER_DAY, US_PER_HOUR, World

RETURN_RATE = {
    "apparel": 0.20, "beauty": 0.04, "electronics": 0.09, "grocery": 0.01, "home": 0.06,
    "sports": 0.08, "toys": 0.05, "books": 0.02,
}  # fmt: skip
DEFAULT_RETURN_RATE = 0.06
TARGET_RETURN_RATE = 0.085  # of non-cancelled lines; recent ones cannot be returned yet -> ~8%
MIN_DAYS, MAX_DAYS = 3.0, 40.0


@dataclass
class Returns:
    """Clean returns sorted by time (index = id - 1)."""

    line: np.ndarray  # index into Lines
    returned_at: np.ndarray
    quantity: np.ndarray
    refund: np.ndarray

    @property
    def n(self) -> int:
        return len(self.line)


def make_returns(world: World, cust: Customers, orders: Orders, lines: Lines,
                 products: Products, money: Money) -> Returns:
    rng = world.rng("returns")
    cats = world.seeds.categories
    category_rate = np.array([RETURN_RATE.get(c, DEFAULT_RETURN_RATE) for c in cats])
    # Serial returners exist: the customer's propensity multiplies the category's rate.
    p = category_rate[products.category[lines.product]] * cust.returner[
        orders.customer[lines.order]]
    status = orders.status[lines.order]
    live = status != STATUSES.index("cancelled")
    p = np.minimum(p * TARGET_RETURN_RATE / p[live].mean(), 0.9)
    days = MIN_DAYS + np.minimum(rng.gamma(2.0, 4.0, lines.n), MAX_DAYS - MIN_DAYS)
    returned_at = orders.ordered_at[lines.order] + (days * US_PER_DAY).astype(np.int64)
    # Nothing comes back before it was delivered.
    returned_at = np.maximum(returned_at, orders.delivered_at[lines.order] + US_PER_HOUR)
    chosen = (
        (rng.random(lines.n) < p)
        & (status == STATUSES.index("delivered"))
        & (returned_at <= world.end_max_us)
    )
    line = np.flatnonzero(chosen)
    returned_at = returned_at[line]
    qty = lines.quantity[line]
    partial = (qty > 1) & (rng.random(len(line)) < 0.3)
    ret_qty = np.where(partial, rng.integers(1, np.maximum(qty, 2)), qty).astype(np.int32)

    unit, disc = money.unit_price[line], money.discount[line]
    line_net = qty * unit - disc
    # Prorate the line discount; round down to cents so a refund never exceeds what was paid.
    refund = np.floor(ret_qty * (unit - disc / qty) * 100 + 1e-6) / 100
    refund = np.maximum(np.minimum(refund, line_net), 0.0)

    order = np.lexsort((line, returned_at))
    return Returns(line=line[order], returned_at=returned_at[order], quantity=ret_qty[order],
                   refund=refund[order])
