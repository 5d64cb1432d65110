"""Customers and their latent behaviour: when they sign up, how much they buy, when they churn.

Nothing here is written out directly except through `cdc.py`; the latent fields (`rate`,
`churn_at`, `cat_pref`, ...) drive orders, sessions, returns and reviews.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import timeline
from .world import US_PER_DAY, World

FIRST_NAMES = (
    "Anna", "Lukas", "Emma", "Noah", "Mia", "Leon", "Sofia", "Paul", "Lea", "Felix",
    "Julia", "Jonas", "Clara", "Elias", "Laura", "David", "Sara", "Lucas", "Marie", "Hugo",
    "Chloe", "Louis", "Alice", "Jan", "Eva", "Oliver", "Nora", "Jack", "Ella", "Liam",
    "Olivia", "Mateo", "Lucia", "Marco", "Giulia", "Erik", "Astrid", "Piotr", "Zofia", "Ethan",
)  # fmt: skip
LAST_NAMES = (
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Martin", "Bernard", "Dubois", "Moreau", "Laurent", "DeVries", "Jansen", "Bakker",
    "Peeters", "Garcia", "Lopez", "Martinez", "Rossi", "Russo", "Ferrari", "Smith", "Jones",
    "Taylor", "Brown", "Walsh", "Murphy", "Andersson", "Johansson", "Nielsen", "Hansen",
    "Nowak", "Kowalski", "Wojcik", "Huber", "Gruber", "Keller", "Miller",
)  # fmt: skip

COUNTRY_WEIGHT = {
    "DE": 0.26, "FR": 0.12, "GB": 0.12, "NL": 0.07, "IT": 0.07, "ES": 0.07, "PL": 0.05,
    "AT": 0.04, "CH": 0.04, "BE": 0.04, "US": 0.04, "SE": 0.03, "DK": 0.02, "IE": 0.02,
}  # fmt: skip
DEFAULT_COUNTRY_WEIGHT = 0.02  # a country added to the seed later still gets customers
UTC_OFFSET_H = {"GB": 0, "IE": 0, "US": -5}  # everyone else is on CET (DST ignored)
DEFAULT_UTC_OFFSET_H = 1

SIGNUP_CHANNELS = ("web", "mobile_app", "marketplace", "referral", "social")
SIGNUP_CHANNEL_P = np.array([0.42, 0.28, 0.10, 0.08, 0.12])

# Behaviour mix: "tryers" buy once or twice and are gone within weeks; the rest churn slowly.
TRYER_SHARE = 0.45
TRYER_LIFETIME_DAYS = 30.0
LOYAL_LIFETIME_DAYS = 420.0
RATE_SIGMA = 1.2  # lognormal spread of purchase rates -> heavy-tailed order counts
CATEGORY_BASE = {
    "apparel": 0.22, "beauty": 0.12, "electronics": 0.10, "grocery": 0.16, "home": 0.13,
    "sports": 0.10, "toys": 0.08, "books": 0.09,
}  # fmt: skip


@dataclass
class Customers:
    """One entry per customer (index = id - 1), sorted by sign-up time."""

    id: np.ndarray
    signup_at: np.ndarray
    country: np.ndarray  # index into seeds.countries (at sign-up)
    channel: np.ndarray  # index into SIGNUP_CHANNELS
    opt_in: np.ndarray
    first_name: np.ndarray  # index into FIRST_NAMES
    last_name: np.ndarray
    utc_offset_h: np.ndarray
    # latent behaviour
    rate_raw: np.ndarray  # relative purchase rate; orders.py scales it to the target volume
    churn_at: np.ndarray  # latent end of the buying life (may lie after the end date)
    browse: np.ndarray  # relative browsing intensity beyond what purchases explain
    review_prop: np.ndarray  # probability of reviewing a delivered line
    returner: np.ndarray  # multiplier on the category return rate
    p_mobile: np.ndarray  # share of orders via the app
    p_marketplace: np.ndarray
    cat_pref: np.ndarray  # (n, n_categories) category preference, rows sum to 1
    # CDC: at most one country move per customer (filled in by cdc.py)
    country_change_at: np.ndarray
    country_after: np.ndarray

    @property
    def n(self) -> int:
        return len(self.id)

    def country_at(self, idx: np.ndarray, t_us: np.ndarray) -> np.ndarray:
        """Country of customer `idx` at time `t_us` (orders are billed in its currency)."""
        moved = t_us >= self.country_change_at[idx]
        return np.where(moved, self.country_after[idx], self.country[idx])


def country_weights(countries: tuple[str, ...]) -> np.ndarray:
    w = np.array([COUNTRY_WEIGHT.get(c, DEFAULT_COUNTRY_WEIGHT) for c in countries])
    return w / w.sum()


def utc_offsets(countries: tuple[str, ...]) -> np.ndarray:
    return np.array([UTC_OFFSET_H.get(c, DEFAULT_UTC_OFFSET_H) for c in countries])


def category_base(categories: tuple[str, ...]) -> np.ndarray:
    """The shop-wide category mix (what anonymous visitors browse)."""
    w = np.array([CATEGORY_BASE.get(c, 0.1) for c in categories])
    return w / w.sum()


def country_category_pref(world: World) -> np.ndarray:
    """Each country's taste: the base category mix, tilted by a country-specific factor."""
    rng = world.rng("country_taste")
    base = category_base(world.seeds.categories)
    tilt = rng.lognormal(0.0, 0.45, (len(world.seeds.countries), len(base)))
    pref = base * tilt
    return pref / pref.sum(axis=1, keepdims=True)


def make_customers(world: World) -> Customers:
    rng = world.rng("customers")
    n, n_days = world.scale.customers, world.n_days
    if n < n_days:
        raise ValueError("need at least one customer per day of history")

    # Every day gets at least one sign-up (the end date included); the rest follow growth.
    w = timeline.weights(world, "signups")
    per_day = rng.multinomial(n - n_days, w / w.sum()) + 1
    day = np.repeat(np.arange(n_days), per_day)
    country = rng.choice(len(world.seeds.countries), n, p=country_weights(world.seeds.countries))
    offset = utc_offsets(world.seeds.countries)[country]
    signup_at = timeline.place_in_days(rng, world, day, offset)
    order = np.argsort(signup_at, kind="stable")  # ids follow sign-up order, like a real DB
    signup_at, country, offset = signup_at[order], country[order], offset[order]

    channel = rng.choice(len(SIGNUP_CHANNELS), n, p=SIGNUP_CHANNEL_P)
    app = channel == SIGNUP_CHANNELS.index("mobile_app")
    market = channel == SIGNUP_CHANNELS.index("marketplace")
    # Referred and social sign-ups came through a campaign and opt in more often.
    opt_in = rng.random(n) < np.where(channel >= 3, 0.7, 0.5)

    tryer = rng.random(n) < TRYER_SHARE
    lifetime_days = rng.exponential(np.where(tryer, TRYER_LIFETIME_DAYS, LOYAL_LIFETIME_DAYS))
    rate_raw = rng.lognormal(0.0, RATE_SIGMA, n) * np.where(tryer, 0.6, 1.0)
    # Engaged buyers browse more, but only loosely: browsing alone must not give buying away.
    browse = (rate_raw / np.median(rate_raw)) ** 0.5 * rng.lognormal(0.0, 0.7, n)

    taste = country_category_pref(world)[country]
    gam = rng.gamma(taste * 3.0)  # Dirichlet(country taste * concentration), row-wise
    gam = gam + 1e-12  # a row of all-zero gammas is astronomically rare but must not be NaN
    cat_pref = gam / gam.sum(axis=1, keepdims=True)

    return Customers(
        id=np.arange(1, n + 1, dtype=np.int64),
        signup_at=signup_at,
        country=country,
        channel=channel,
        opt_in=opt_in,
        first_name=rng.integers(0, len(FIRST_NAMES), n),
        last_name=rng.integers(0, len(LAST_NAMES), n),
        utc_offset_h=offset,
        rate_raw=rate_raw,
        churn_at=signup_at + (lifetime_days * US_PER_DAY).astype(np.int64),
        browse=browse,
        review_prop=rng.beta(1.3, 9.0, n),
        returner=rng.lognormal(-0.125, 0.5, n),
        p_mobile=np.where(app, rng.beta(8, 2, n), rng.beta(2, 5, n)),
        p_marketplace=np.where(market, 0.55, 0.04),
        cat_pref=cat_pref,
        country_change_at=np.full(n, np.iinfo(np.int64).max),
        country_after=country.copy(),
    )
