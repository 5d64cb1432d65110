"""When a customer is "alive", and how keen: spells of activity with a drifting mood.

A customer is active from sign-up until the latent churn time; some churned customers are won
back later for a second, shorter spell. Within a spell the purchase rate is multiplied by a
mood that changes every few weeks, so past frequency predicts the next month well but not
perfectly (that is what keeps a churn/propensity model honest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .customers import Customers
from .world import US_PER_DAY, World

P_WINBACK = 0.3  # churned customers who come back once
WINBACK_GAP_DAYS = (14.0, 60.0)  # minimum + exponential mean of the pause
WINBACK_LIFETIME_DAYS = 90.0
# After the last spell the rate does not drop to zero but to a trickle: the odd order from a
# "dead" customer is what makes churn scoring uncertain in real shops.
RESIDUAL_LEVEL = 0.04
MOOD_BLOCK_DAYS = 21
MOOD_SIGMA = 1.0


@dataclass
class Activity:
    """Pieces of active time: [lo, hi) per segment, with the customer's mood there."""

    customer: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    mood: np.ndarray  # mean-one multiplier on the purchase rate
    level: np.ndarray  # 1 within a spell, RESIDUAL_LEVEL after the last one
    gone_at: np.ndarray  # per customer: end of the last spell (may be after the end date)


def make_activity(world: World, cust: Customers) -> Activity:
    rng = world.rng("activity")
    end = world.end_max_us
    back = (cust.churn_at < end) & (rng.random(cust.n) < P_WINBACK)
    gap = WINBACK_GAP_DAYS[0] + rng.exponential(WINBACK_GAP_DAYS[1], cust.n)
    life = rng.exponential(WINBACK_LIFETIME_DAYS, cust.n)
    second_lo = cust.churn_at + (gap * US_PER_DAY).astype(np.int64)
    second_hi = second_lo + (life * US_PER_DAY).astype(np.int64)
    back &= second_lo < end

    gone_at = np.where(back, second_hi, cust.churn_at)
    dead = np.flatnonzero(gone_at < end)
    spell_cust = np.concatenate([np.arange(cust.n), np.flatnonzero(back), dead])
    spell_lo = np.concatenate([cust.signup_at, second_lo[back], gone_at[dead]])
    spell_hi = np.minimum(np.concatenate([cust.churn_at, second_hi[back], np.full(len(dead), end)]),
                          end)
    spell_level = np.concatenate([np.ones(cust.n + back.sum()), np.full(len(dead), RESIDUAL_LEVEL)])

    # Cut spells at mood-block borders (a fixed grid from the start date).
    block_us = MOOD_BLOCK_DAYS * US_PER_DAY
    n_blocks = world.n_days // MOOD_BLOCK_DAYS + 1
    first = (spell_lo - world.start_us) // block_us
    last = np.maximum((spell_hi - world.start_us) // block_us, first)
    count = np.clip(last - first + 1, 0, None)
    seg = np.repeat(np.arange(len(spell_cust)), count)
    block = first[seg] + np.arange(len(seg)) - np.repeat(np.cumsum(count) - count, count)
    lo = np.maximum(spell_lo[seg], world.start_us + block * block_us)
    hi = np.minimum(spell_hi[seg], world.start_us + (block + 1) * block_us)
    keep = hi > lo
    seg, block, lo, hi = seg[keep], block[keep], lo[keep], hi[keep]

    mood = rng.lognormal(-MOOD_SIGMA**2 / 2, MOOD_SIGMA, (cust.n, n_blocks))
    customer = spell_cust[seg]
    return Activity(customer=customer, lo=lo, hi=hi, mood=mood[customer, block],
                    level=spell_level[seg], gone_at=gone_at)
