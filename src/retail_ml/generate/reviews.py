"""Product reviews by buyers, some days after delivery; returns drag ratings down."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .baskets import Lines
from .customers import Customers
from .orders import STATUSES, Orders
from .products import Products
from .returns import Returns
from .world import US_PER_DAY, US_PER_HOUR, World

TEXTS = {
    1: ("Very disappointed.", "Broke after a week.", "Not as described, sent it back.",
        "Would not recommend."),
    2: ("Below expectations.", "Quality is poor for the price.", "Sizing was off.",
        "Meh, not great."),
    3: ("It's okay.", "Does the job.", "Average quality.", "Fine, nothing special."),
    4: ("Good value.", "Pretty happy with it.", "Nice quality, fast delivery.",
        "Works well."),
    5: ("Love it!", "Excellent quality, would buy again.", "Perfect, exactly as pictured.",
        "Best purchase this year."),
}
RETURNED_REVIEW_BOOST = 1.4  # unhappy customers are keener to write


@dataclass
class Reviews:
    """Clean reviews sorted by time (index = id - 1)."""

    customer: np.ndarray
    product: np.ndarray
    rating: np.ndarray
    text: np.ndarray  # index into review_texts()
    created_at: np.ndarray

    @property
    def n(self) -> int:
        return len(self.customer)


def review_texts() -> tuple[str, ...]:
    return tuple(t for rating in sorted(TEXTS) for t in TEXTS[rating])


def make_reviews(world: World, cust: Customers, orders: Orders, lines: Lines,
                 products: Products, returns: Returns) -> Reviews:
    rng = world.rng("reviews")
    customer = orders.customer[lines.order]
    returned = np.zeros(lines.n, dtype=bool)
    returned[returns.line] = True
    returned_at = np.zeros(lines.n, dtype=np.int64)
    returned_at[returns.line] = returns.returned_at

    delivered = orders.status[lines.order] == STATUSES.index("delivered")
    p = cust.review_prop[customer] * np.where(returned, RETURNED_REVIEW_BOOST, 1.0)
    days = 4.0 + rng.gamma(1.5, 5.0, lines.n)
    created = orders.ordered_at[lines.order] + (days * US_PER_DAY).astype(np.int64)
    created = np.maximum(created, orders.delivered_at[lines.order] + US_PER_HOUR)  # after delivery
    after_return = returned_at + (rng.uniform(0.1, 3.0, lines.n) * US_PER_DAY).astype(np.int64)
    created = np.where(returned, np.maximum(created, after_return), created)
    chosen = delivered & (rng.random(lines.n) < p) & (created <= world.end_max_us)

    idx = np.flatnonzero(chosen)
    # One review per customer and product: keep the earliest.
    first = np.lexsort((created[idx], lines.product[idx], customer[idx]))
    idx = idx[first]
    dup = np.r_[False, (customer[idx][1:] == customer[idx][:-1])
                & (lines.product[idx][1:] == lines.product[idx][:-1])]
    idx = idx[~dup]

    latent = (4.25 + products.quality[lines.product[idx]] - 2.2 * returned[idx]
              + rng.normal(0.0, 0.9, len(idx)))
    rating = np.clip(np.round(latent), 1, 5).astype(np.int32)
    per = len(TEXTS[1])
    text = (rating - 1) * per + rng.integers(0, per, len(idx))

    order = np.lexsort((idx, created[idx]))
    idx, rating, text = idx[order], rating[order], text[order]
    return Reviews(customer=customer[idx], product=lines.product[idx], rating=rating,
                   text=text, created_at=created[idx])
