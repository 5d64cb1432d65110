"""Order lines: which products end up in a basket, and how many of each.

Line 1 of an order is a fresh pick from the customer's category taste, a repurchase of the
previous order's main product (likely for consumables) or one of its complements. Further
lines are mostly complements of line 1 (or of the previous order), so co-purchase structure
is learnable both within and across orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .customers import Customers
from .orders import Orders
from .products import N_COMPLEMENTS, Products, ProductSampler, pick_category
from .world import World

LINES_P = np.array([0.52, 0.26, 0.11, 0.06, 0.03, 0.02])  # 1..6 lines
P_REPEAT_CONSUMABLE = 0.45
P_REPEAT_OTHER = 0.04
P_COMPLEMENT_NEXT_ORDER = 0.22
P_EXTRA_SAME_ORDER_COMPLEMENT = 0.50
P_EXTRA_PREV_ORDER_COMPLEMENT = 0.15
QTY_CONSUMABLE_P = np.array([0.62, 0.25, 0.10, 0.03])  # quantity 1..4
QTY_OTHER_P = np.array([0.90, 0.08, 0.02])  # quantity 1..3
CHUNK = 1_000_000  # bounds the (rows x categories) preference matrices in memory


@dataclass
class Lines:
    """Clean order lines sorted by (order, line_number)."""

    order: np.ndarray  # index into Orders
    line_number: np.ndarray
    product: np.ndarray  # index into Products
    quantity: np.ndarray

    @property
    def n(self) -> int:
        return len(self.order)


def taste_draw(
    rng: np.random.Generator,
    sampler: ProductSampler,
    cust: Customers,
    who: np.ndarray,
    at_us: np.ndarray,
) -> np.ndarray:
    """Products drawn from each row's customer category taste, on sale at `at_us`."""
    cat = np.empty(len(who), dtype=np.int64)
    for lo in range(0, len(who), CHUNK):
        cat[lo : lo + CHUNK] = pick_category(rng, cust.cat_pref[who[lo : lo + CHUNK]])
    return sampler.draw(rng, cat, at_us)


def make_lines(
    world: World,
    cust: Customers,
    orders: Orders,
    products: Products,
    sampler: ProductSampler,
) -> Lines:
    rng = world.rng("baskets")
    # Work in customer order so "the previous order" is simply the previous position.
    by_cust = np.lexsort((orders.ordered_at, orders.customer))
    who = orders.customer[by_cust]
    t = orders.ordered_at[by_cust]
    rank = orders.rank[by_cust]
    n = len(by_cust)

    fresh = taste_draw(rng, sampler, cust, who, t)
    main = fresh.copy()
    u = rng.random(n)
    slot = rng.integers(0, N_COMPLEMENTS, n)
    repeat_p = np.where(world.seeds.pair_repurchase[products.pair], P_REPEAT_CONSUMABLE,
                        P_REPEAT_OTHER)
    # Each order depends on the previous one's main product, so walk ranks in lock-step: one
    # vectorised step per rank, not per order.
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(rank.max(initial=0) + 2))
    for r in range(1, len(bounds) - 1):
        pos = by_rank[bounds[r] : bounds[r + 1]]
        prev = main[pos - 1]
        p_rep = repeat_p[prev]
        comp = products.complements[prev, slot[pos]]
        rep = u[pos] < p_rep
        use_comp = (~rep & (u[pos] < p_rep + P_COMPLEMENT_NEXT_ORDER)
                    & (products.launched_at[comp] <= t[pos]))
        main[pos] = np.where(rep, prev, np.where(use_comp, comp, fresh[pos]))

    n_lines = rng.choice(len(LINES_P), n, p=LINES_P) + 1
    e_pos = np.repeat(np.arange(n), n_lines - 1)
    e_slot = rng.integers(0, N_COMPLEMENTS, len(e_pos))
    e_u = rng.random(len(e_pos))
    same = products.complements[main[e_pos], e_slot]
    prev_pos = np.where(rank[e_pos] > 0, e_pos - 1, e_pos)
    earlier = products.complements[main[prev_pos], e_slot]
    extra = np.where(
        e_u < P_EXTRA_SAME_ORDER_COMPLEMENT,
        same,
        np.where(e_u < P_EXTRA_SAME_ORDER_COMPLEMENT + P_EXTRA_PREV_ORDER_COMPLEMENT, earlier, -1),
    )
    need = (extra < 0) | (products.launched_at[np.maximum(extra, 0)] > t[e_pos])
    extra[need] = taste_draw(rng, sampler, cust, who[e_pos[need]], t[e_pos[need]])

    pos = np.concatenate([np.arange(n), e_pos])
    product = np.concatenate([main, extra])
    seq = np.arange(len(pos))  # line 1 first, then extras in draw order
    # A product appears once per basket: keep its first line, renumber the rest.
    key_order = np.lexsort((seq, product, pos))
    dup = np.r_[False, (pos[key_order][1:] == pos[key_order][:-1])
                & (product[key_order][1:] == product[key_order][:-1])]
    keep = key_order[~dup]
    pos, product, seq = pos[keep], product[keep], seq[keep]

    order_idx = by_cust[pos]
    final = np.lexsort((seq, order_idx))
    order_idx, product = order_idx[final], product[final]
    start = np.r_[True, order_idx[1:] != order_idx[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(order_idx)), 0))
    line_number = (np.arange(len(order_idx)) - first + 1).astype(np.int32)

    consumable = world.seeds.pair_repurchase[products.pair[product]]
    qty = np.where(
        consumable,
        rng.choice(len(QTY_CONSUMABLE_P), len(product), p=QTY_CONSUMABLE_P),
        rng.choice(len(QTY_OTHER_P), len(product), p=QTY_OTHER_P),
    ) + 1
    return Lines(order=order_idx, line_number=line_number, product=product,
                 quantity=qty.astype(np.int32))
