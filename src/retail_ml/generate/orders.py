"""Order headers: when each customer buys, through which channel, in which currency, and the
status changes each order goes through (placed -> shipped -> delivered, or placed -> cancelled)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import timeline
from .activity import Activity
from .customers import Customers
from .world import US_PER_HOUR, US_PER_MINUTE, World

ORDER_CHANNELS = ("web", "mobile_app", "marketplace")
STATUSES = ("placed", "shipped", "delivered", "cancelled")
PLACED, SHIPPED, DELIVERED, CANCELLED = range(len(STATUSES))
NEVER = -1  # a status change that has not happened by the end date (or never will)
CANCEL_RATE = 0.05
# Most cancellations come within hours (the customer changes their mind); some days later (an
# item out of stock, a payment that never cleared): those make "cancelled on D+3" real.
CANCEL_SAME_DAY_SHARE = 0.6
CANCEL_QUICK_MEAN_H = 4.0
CANCEL_LATE_DAYS = (1.0, 8.0)
SHIP_HOURS = (1.0, 30.0)  # shipped within ~a day
DELIVER_DAYS = (1.5, 6.0)  # delivered 2-6 days after the order
LOST_SHARE = 0.005  # shipped, never delivered
# Half the sign-ups buy right away (that is why they signed up); the rest only through the
# rate process, so customers with low rates and short lives never buy or buy once.
P_IMMEDIATE_FIRST = 0.55
MAX_RATE_PER_DAY = 0.5  # the keenest customers order every other day


@dataclass
class Orders:
    """Clean orders, sorted by time (index = id - 1)."""

    customer: np.ndarray  # index into Customers
    ordered_at: np.ndarray
    rank: np.ndarray  # 0 for a customer's first order, 1 for the second, ...
    channel: np.ndarray  # index into ORDER_CHANNELS
    country: np.ndarray  # customer's country when ordering
    currency: np.ndarray  # index into seeds.currencies
    status: np.ndarray  # index into STATUSES: the status as of the end date
    shipped_at: np.ndarray  # NEVER unless shipped by the end date
    delivered_at: np.ndarray  # NEVER unless delivered by the end date
    cancelled_at: np.ndarray  # NEVER unless cancelled by the end date

    @property
    def n(self) -> int:
        return len(self.customer)


def order_intensity(world: World) -> timeline.Intensity:
    w = timeline.weights(world, "orders")
    return timeline.Intensity(world, w / w.mean())  # mean 1: rates stay "orders per day"


def make_orders(world: World, cust: Customers, act: Activity) -> tuple[Orders, np.ndarray]:
    """Orders plus each customer's calibrated purchase rate (orders per average day)."""
    rng = world.rng("orders")
    end = world.end_max_us
    intensity = order_intensity(world)

    immediate = rng.random(cust.n) < P_IMMEDIATE_FIRST
    first_at = cust.signup_at + (rng.exponential(40.0, cust.n) * US_PER_MINUTE).astype(np.int64)
    immediate &= first_at <= end
    exposure = intensity.integral(act.lo, act.hi) * act.mood * act.level
    rate = _calibrate(cust.rate_raw, act, exposure, world.scale.orders - immediate.sum())
    n_per = rng.poisson(rate[act.customer] * exposure)
    seg = np.repeat(np.arange(len(act.customer)), n_per)
    who = act.customer[seg]
    day = intensity.sample_days(rng, act.lo[seg], act.hi[seg])
    when = timeline.place_in_days(rng, world, day, cust.utc_offset_h[who], act.lo[seg])

    customer = np.concatenate([np.flatnonzero(immediate), who])
    ordered_at = np.concatenate([first_at[immediate], when])
    order = np.lexsort((customer, ordered_at))
    customer, ordered_at = customer[order], ordered_at[order]

    by_cust = np.lexsort((ordered_at, customer))
    sorted_cust = customer[by_cust]
    first_row = np.r_[True, sorted_cust[1:] != sorted_cust[:-1]]
    group_start = np.maximum.accumulate(np.where(first_row, np.arange(len(by_cust)), 0))
    rank = np.empty(len(by_cust), dtype=np.int64)
    rank[by_cust] = np.arange(len(by_cust)) - group_start

    n = len(customer)
    u = rng.random(n)
    channel = np.where(
        u < cust.p_marketplace[customer],
        2,
        np.where(rng.random(n) < cust.p_mobile[customer], 1, 0),
    )
    country = cust.country_at(customer, ordered_at)
    orders = Orders(
        customer=customer,
        ordered_at=ordered_at,
        rank=rank,
        channel=channel,
        country=country,
        currency=world.seeds.country_currency[country],
        **_status_changes(world.rng("orders/status"), ordered_at, end),
    )
    return orders, rate


def _calibrate(rate_raw: np.ndarray, act: Activity, exposure: np.ndarray,
               target: float) -> np.ndarray:
    """Scale the latent rates (capped) so the expected number of orders equals `target`."""
    per_customer = np.bincount(act.customer, weights=exposure, minlength=len(rate_raw))

    def expected(scale: float) -> float:
        return float(np.sum(np.minimum(rate_raw * scale, MAX_RATE_PER_DAY) * per_customer))

    lo, hi = 0.0, 1.0
    while expected(hi) < target and hi < 1e9:
        hi *= 2.0
    for _ in range(60):  # bisection: the cap makes the relation non-linear
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if expected(mid) < target else (lo, mid)
    return np.minimum(rate_raw * hi, MAX_RATE_PER_DAY)


def _status_changes(rng: np.random.Generator, ordered_at: np.ndarray,
                    end_us: int) -> dict[str, np.ndarray]:
    """When each order ships, is delivered or is cancelled; NEVER for what has not happened by
    the end date. A cancelled order never ships (it is cancelled before it leaves the warehouse)."""
    n = len(ordered_at)
    hours = US_PER_HOUR
    cancelled = rng.random(n) < CANCEL_RATE
    quick = rng.random(n) < CANCEL_SAME_DAY_SHARE
    cancel_after = np.where(
        quick,
        (rng.exponential(CANCEL_QUICK_MEAN_H, n) + 0.1) * hours,
        rng.uniform(*CANCEL_LATE_DAYS, n) * 24 * hours,
    ).astype(np.int64)
    ship_after = (rng.uniform(*SHIP_HOURS, n) * hours).astype(np.int64)
    deliver_after = (rng.uniform(*DELIVER_DAYS, n) * 24 * hours).astype(np.int64)
    lost = rng.random(n) < LOST_SHARE

    def by_end(happens: np.ndarray, at: np.ndarray) -> np.ndarray:
        return np.where(happens & (at <= end_us), at, NEVER)

    cancelled_at = by_end(cancelled, ordered_at + cancel_after)
    shipped_at = by_end(~cancelled, ordered_at + ship_after)
    delivered_at = by_end(~cancelled & ~lost & (shipped_at != NEVER), ordered_at + deliver_after)
    status = np.select(
        [cancelled_at != NEVER, delivered_at != NEVER, shipped_at != NEVER],
        [CANCELLED, DELIVERED, SHIPPED],
        PLACED,
    )
    return {"status": status, "shipped_at": shipped_at, "delivered_at": delivered_at,
            "cancelled_at": cancelled_at}


def status_versions(orders: Orders) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order feed's change stream: (order index, status, updated_at) of every status an
    order reached by the end date, the placement first (updated_at = ordered_at)."""
    parts = [(np.arange(orders.n), np.full(orders.n, PLACED), orders.ordered_at)]
    for status, at in ((SHIPPED, orders.shipped_at), (DELIVERED, orders.delivered_at),
                       (CANCELLED, orders.cancelled_at)):
        which = np.flatnonzero(at != NEVER)
        parts.append((which, np.full(len(which), status), at[which]))
    order, status, updated_at = (np.concatenate(column) for column in zip(*parts, strict=True))
    return order, status, updated_at
