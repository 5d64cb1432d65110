"""Web sessions: background browsing, research before a purchase, the purchase itself, fading
visits after churn, and anonymous traffic.

Sessions cluster in the days before an order and stop (mostly) after churn, so recent browsing
says something about buying soon, while background browsing keeps it from saying everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import timeline
from .activity import Activity
from .baskets import Lines, taste_draw
from .customers import Customers, category_base, country_weights, utc_offsets
from .orders import ORDER_CHANNELS, Orders
from .products import Products, ProductSampler
from .world import US_PER_DAY, US_PER_MINUTE, World

ANONYMOUS_SHARE = 0.30
BROWSE_RATIO = 1.5  # background sessions of a median customer per order of a median customer
PRE_PURCHASE_MEAN = 1.2  # research sessions before each order
PRE_PURCHASE_LEAD_DAYS = 1.5
POST_CHURN_DAYS = 30.0  # churned customers still drop by, less and less
POST_CHURN_SHARE = 1.0  # expected post-churn visits = browse rate * POST_CHURN_DAYS * share
P_VIEW_UPCOMING = 0.5  # a research session shows each product of the coming order with this p
MAX_OTHER_VIEWS = 15
VIEW_CHUNK = 1_000_000  # sessions per block when drawing viewed products

BACKGROUND, RESEARCH, PURCHASE, AFTER_CHURN, ANONYMOUS = range(5)
# (extra pages on top of 1, negative-binomial mean of further pages) per session kind
PAGES = {BACKGROUND: (0, 3.0), RESEARCH: (1, 5.0), PURCHASE: (2, 6.0), AFTER_CHURN: (0, 1.5),
         ANONYMOUS: (0, 1.5)}


@dataclass
class Sessions:
    """Clean sessions sorted by time (index = id - 1); viewed products as a flat list."""

    customer: np.ndarray  # index into Customers, -1 for anonymous sessions
    started_at: np.ndarray
    pages_viewed: np.ndarray
    view_offsets: np.ndarray  # len n + 1, into view_products
    view_products: np.ndarray  # index into Products (int32: the largest array of the run)

    @property
    def n(self) -> int:
        return len(self.customer)


def make_sessions(world: World, cust: Customers, act: Activity, orders: Orders,
                  rate: np.ndarray, lines: Lines, products: Products,
                  sampler: ProductSampler) -> Sessions:
    rng = world.rng("sessions")
    end = world.end_max_us
    w = timeline.weights(world, "sessions")
    intensity = timeline.Intensity(world, w / w.mean())

    # Background browsing while the customer is active, keener in a buying mood.
    browse_rate = BROWSE_RATIO * np.median(rate) * cust.browse
    exposure = intensity.integral(act.lo, act.hi) * np.sqrt(act.mood) * act.level
    n_bg = rng.poisson(browse_rate[act.customer] * exposure)
    seg = np.repeat(np.arange(len(act.customer)), n_bg)
    bg_who = act.customer[seg]
    bg_day = intensity.sample_days(rng, act.lo[seg], act.hi[seg])
    bg_at = timeline.place_in_days(rng, world, bg_day, cust.utc_offset_h[bg_who], act.lo[seg])

    # After churn: a few visits that fade out (newsletters, habit).
    churned = act.gone_at < end
    n_ac = np.where(churned, rng.poisson(browse_rate * POST_CHURN_DAYS * POST_CHURN_SHARE), 0)
    ac_who = np.repeat(np.arange(cust.n), n_ac)
    ac_at = act.gone_at[ac_who] + (
        rng.exponential(POST_CHURN_DAYS, len(ac_who)) * US_PER_DAY).astype(np.int64)
    ac_keep = ac_at <= end
    ac_who, ac_at = ac_who[ac_keep], ac_at[ac_keep]

    # Research before a purchase: the closer the order, the more likely a visit.
    n_rs = rng.poisson(PRE_PURCHASE_MEAN, orders.n)
    rs_order = np.repeat(np.arange(orders.n), n_rs)
    rs_who = orders.customer[rs_order]
    lead = (rng.exponential(PRE_PURCHASE_LEAD_DAYS, len(rs_order)) * US_PER_DAY).astype(np.int64)
    rs_at = orders.ordered_at[rs_order] - lead - 10 * US_PER_MINUTE
    rs_keep = rs_at >= cust.signup_at[rs_who]
    rs_order, rs_who, rs_at = rs_order[rs_keep], rs_who[rs_keep], rs_at[rs_keep]

    # The checkout session of every order placed on the shop's own web site or app.
    own = np.flatnonzero(orders.channel != ORDER_CHANNELS.index("marketplace"))
    pu_who = orders.customer[own]
    pu_at = np.maximum(
        orders.ordered_at[own] - rng.integers(3, 45, len(own)) * US_PER_MINUTE,
        cust.signup_at[pu_who],
    )

    known = [
        (bg_who, bg_at, BACKGROUND, None),
        (ac_who, ac_at, AFTER_CHURN, None),
        (rs_who, rs_at, RESEARCH, rs_order),
        (pu_who, pu_at, PURCHASE, own),
    ]
    n_known = sum(len(piece[0]) for piece in known)
    # Anonymous traffic follows the same days as known traffic (it grows with the shop).
    n_anon = int(round(n_known * ANONYMOUS_SHARE / (1 - ANONYMOUS_SHARE)))
    pick = rng.integers(0, n_known, n_anon)
    known_at = np.concatenate([piece[1] for piece in known])
    anon_day = (known_at[pick] - world.start_us) // US_PER_DAY
    del known_at, pick
    countries = world.seeds.countries
    anon_off = utc_offsets(countries)[
        rng.choice(len(countries), n_anon, p=country_weights(countries))]
    anon_at = timeline.place_in_days(rng, world, anon_day, anon_off)
    pieces = [*known, (np.full(n_anon, -1), anon_at, ANONYMOUS, None)]
    del known, bg_who, bg_at, ac_who, ac_at, rs_who, rs_at, rs_order, pu_who, pu_at, own

    # Compact dtypes: these arrays have tens of millions of rows at `large`.
    at = np.concatenate([piece[1] for piece in pieces])
    order = np.argsort(at, kind="stable")  # ties keep construction order: deterministic
    at = at[order]
    who = np.concatenate([piece[0] for piece in pieces]).astype(np.int32)[order]
    kind = np.concatenate([np.full(len(piece[0]), piece[2], dtype=np.int8)
                           for piece in pieces])[order]
    linked_order = np.concatenate([
        np.full(len(piece[0]), -1, dtype=np.int32) if piece[3] is None
        else piece[3].astype(np.int32) for piece in pieces])[order]
    del pieces, order

    n_views, viewed = _views(rng, world, cust, orders.n, lines, products, sampler, who, at,
                             kind, linked_order)
    del linked_order
    pages = _pages(rng, kind)
    pages = np.maximum(pages, n_views + np.where(kind == PURCHASE, 2, 0)).astype(np.int32)
    offsets = np.zeros(len(who) + 1, dtype=np.int64)
    np.cumsum(n_views, out=offsets[1:])
    return Sessions(customer=who, started_at=at, pages_viewed=pages, view_offsets=offsets,
                    view_products=viewed)


def _pages(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    extra = np.array([PAGES[k][0] for k in range(len(PAGES))])[kind]
    mean = np.array([PAGES[k][1] for k in range(len(PAGES))])[kind]
    p = 2.0 / (2.0 + mean)  # negative binomial with shape 2: over-dispersed page counts
    return 1 + extra + rng.negative_binomial(2, p)


def _views(
    rng: np.random.Generator,
    world: World,
    cust: Customers,
    n_orders: int,
    lines: Lines,
    products: Products,
    sampler: ProductSampler,
    who: np.ndarray,
    at: np.ndarray,
    kind: np.ndarray,
    linked_order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Viewed products per session: the order's products for checkout/research sessions plus
    taste-driven (known customers) or popularity-driven (anonymous) browsing.

    Returns the number of views per session and the viewed products, session by session.
    """
    n = len(who)
    # Products of the linked order, one row per (session, line).
    line_start = np.searchsorted(lines.order, np.arange(n_orders + 1))
    linked = linked_order >= 0
    s_idx = np.flatnonzero(linked)
    o = linked_order[s_idx]
    cnt = line_start[o + 1] - line_start[o]
    sess_l = np.repeat(s_idx, cnt)
    line_idx = np.repeat(line_start[o], cnt) + _ramp(cnt)
    prod_l = lines.product[line_idx]
    show = (kind[sess_l] == PURCHASE) | (rng.random(len(sess_l)) < P_VIEW_UPCOMING)
    show &= products.launched_at[prod_l] <= at[sess_l]
    sess_l, prod_l = sess_l[show], prod_l[show]  # sorted by session: s_idx is increasing

    n_other = np.minimum(rng.binomial(_pages(rng, kind), 0.45), MAX_OTHER_VIEWS)
    # Sessions are processed in fixed-size blocks: the view arrays are the largest of the
    # run (tens of millions at `large`) and blocks keep memory flat at the same result.
    linked_bounds = np.searchsorted(sess_l, np.arange(0, n + VIEW_CHUNK, VIEW_CHUNK))
    base = category_base(world.seeds.categories)
    n_products = np.int64(products.n)
    counts: list[np.ndarray] = []
    viewed: list[np.ndarray] = []
    for block, lo in enumerate(range(0, n, VIEW_CHUNK)):
        hi = min(lo + VIEW_CHUNK, n)
        sess_o = np.repeat(np.arange(lo, hi), n_other[lo:hi])
        known = who[sess_o] >= 0
        prod_o = np.empty(len(sess_o), dtype=np.int64)
        prod_o[known] = taste_draw(rng, sampler, cust, who[sess_o[known]], at[sess_o[known]])
        anon = ~known
        anon_cat = rng.choice(len(base), int(anon.sum()), p=base)
        prod_o[anon] = sampler.draw(rng, anon_cat, at[sess_o[anon]])

        a, b = linked_bounds[block], linked_bounds[block + 1]
        # One int64 key per (session, product): cheaper than multi-key sorts.
        pair = np.concatenate([sess_l[a:b] * n_products + prod_l[a:b],
                               sess_o * n_products + prod_o])
        pair.sort()
        first = np.ones(len(pair), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        pair = pair[first]  # one view per product and session
        # Browsing order is not id order: shuffle within each session.
        sess = pair // n_products
        pair = pair[np.argsort((sess << 20) | rng.integers(0, 1 << 20, len(sess)))]
        counts.append(np.bincount(sess - lo, minlength=hi - lo))
        viewed.append((pair % n_products).astype(np.int32))
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    return np.concatenate(counts), np.concatenate(viewed)


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for every c in counts, concatenated."""
    total = counts.sum()
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts
