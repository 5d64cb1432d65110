"""Money: unit prices in the order currency, discount codes, shipping and tax."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import timeline
from .baskets import Lines
from .customers import Customers
from .orders import Orders
from .products import Products
from .world import US_PER_DAY, World

# VAT (sales tax for the US) on the net goods value; unknown seed countries get 20 %.
VAT = {
    "DE": 0.19, "AT": 0.20, "CH": 0.081, "FR": 0.20, "NL": 0.21, "BE": 0.21, "ES": 0.21,
    "IT": 0.22, "GB": 0.20, "IE": 0.23, "SE": 0.25, "DK": 0.25, "PL": 0.23, "US": 0.07,
}  # fmt: skip
DEFAULT_VAT = 0.20
SHIPPING_FEE_EUR = 4.95
FREE_SHIPPING_FROM_EUR = 49.0

CODES = ("WELCOME10", "SAVE10", "SPRING15", "SUMMER15", "VIP20", "FREESHIP", "NEWSLETTER5",
         "BLACKFRIDAY25")
CODE_PCT = np.array([0.10, 0.10, 0.15, 0.15, 0.20, 0.0, 0.05, 0.25])
NO_CODE = -1
P_CODE = 0.14  # a regular order
P_CODE_FIRST = 0.35  # welcome codes on first orders
P_CODE_BLACK_FRIDAY = 0.45  # Black Friday to Cyber Monday


@dataclass
class Money:
    unit_price: np.ndarray  # per line, order currency
    discount: np.ndarray  # per line, whole-line discount
    discount_code: np.ndarray  # per order, index into CODES or NO_CODE
    shipping: np.ndarray  # per order
    tax: np.ndarray  # per order


def _codes(rng: np.random.Generator, world: World, cust: Customers, orders: Orders):
    days = np.datetime64(world.start_date.isoformat(), "D") + (
        (orders.ordered_at - world.start_us) // US_PER_DAY
    )
    bf = timeline.black_friday_offset(days)
    black_friday = (bf >= 0) & (bf <= 3)
    first = orders.rank == 0
    p = np.where(black_friday, P_CODE_BLACK_FRIDAY, np.where(first, P_CODE_FIRST, P_CODE))
    has = rng.random(orders.n) < p

    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    generic = rng.choice(5, orders.n, p=[0.35, 0.20, 0.15, 0.20, 0.10])
    seasonal = np.select([(month >= 3) & (month <= 5), (month >= 6) & (month <= 8)],
                         [CODES.index("SPRING15"), CODES.index("SUMMER15")],
                         CODES.index("SAVE10"))
    save10 = CODES.index("SAVE10")
    code = np.select(
        [generic == 1, generic == 2, generic == 3, generic == 4],
        [CODES.index("FREESHIP"),
         np.where(cust.opt_in[orders.customer], CODES.index("NEWSLETTER5"), save10),
         seasonal,
         np.where(orders.rank >= 10, CODES.index("VIP20"), save10)],
        save10,
    )
    code = np.where(first, CODES.index("WELCOME10"), code)
    code = np.where(black_friday, CODES.index("BLACKFRIDAY25"), code)
    return np.where(has, code, NO_CODE)


def price(world: World, cust: Customers, orders: Orders, lines: Lines,
          products: Products) -> Money:
    rng = world.rng("pricing")
    rate = world.seeds.eur_per_unit[orders.currency]  # EUR per unit of the order currency
    unit = np.round(products.list_price[lines.product] / rate[lines.order], 2)

    code = _codes(rng, world, cust, orders)
    pct = np.where(code >= 0, CODE_PCT[np.maximum(code, 0)], 0.0)
    gross = lines.quantity * unit
    discount = np.round(gross * pct[lines.order], 2)
    net = np.bincount(lines.order, weights=gross - discount, minlength=orders.n)

    free = (net >= FREE_SHIPPING_FROM_EUR / rate) | (code == CODES.index("FREESHIP"))
    shipping = np.where(free, 0.0, np.round(SHIPPING_FEE_EUR / rate, 2))
    vat = np.array([VAT.get(c, DEFAULT_VAT) for c in world.seeds.countries])
    tax = np.round(vat[orders.country] * net, 2)
    return Money(unit_price=unit, discount=discount, discount_code=code, shipping=shipping,
                 tax=tax)
