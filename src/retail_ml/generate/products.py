"""The catalogue: categories, Zipf-like popularity, launches over time and complements."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .world import US_PER_DAY, US_PER_HOUR, World

BASE_PRICE_EUR = {
    "apparel": 39.0, "beauty": 24.0, "electronics": 89.0, "grocery": 9.0, "home": 35.0,
    "sports": 45.0, "toys": 29.0, "books": 16.0,
}  # fmt: skip
DEFAULT_BASE_PRICE_EUR = 30.0
# Categories whose products complement each other across category lines.
CROSS_AFFINITY = {
    "apparel": ("sports", "beauty"), "beauty": ("apparel",), "electronics": ("home",),
    "grocery": ("home",), "home": ("grocery", "electronics"), "sports": ("apparel", "grocery"),
    "toys": ("books",), "books": ("toys",),
}  # fmt: skip
N_COMPLEMENTS = 4  # three from the same category, one from an affine one
INITIAL_SHARE = 0.6  # share of the catalogue already on sale on the first day
ZIPF_EXPONENT = 1.0

ADJECTIVES = ("Classic", "Essential", "Premium", "Everyday", "Pro", "Eco", "Urban", "Nordic",
              "Soft", "Compact", "Deluxe", "Active", "Pure", "Smart", "Heritage", "Mini")
SYLLABLES = ("no", "va", "lu", "mi", "ka", "to", "ri", "sel", "bor", "den", "fi", "ra", "ze",
             "lo", "ster", "ven", "al", "tu", "mar", "ko")


@dataclass
class Products:
    """One entry per product (index = id - 1)."""

    id: np.ndarray
    pair: np.ndarray  # index into seeds (category, subcategory) pairs
    category: np.ndarray  # index into seeds.categories
    brand: list[str]
    name: list[str]
    list_price: np.ndarray  # EUR
    launched_at: np.ndarray
    loaded_at: np.ndarray
    popularity: np.ndarray
    quality: np.ndarray  # latent; shifts review ratings
    complements: np.ndarray  # (n, N_COMPLEMENTS) product indices

    @property
    def n(self) -> int:
        return len(self.id)


class ProductSampler:
    """Popularity-weighted draws within a category that respect launch dates."""

    def __init__(self, products: Products, n_categories: int) -> None:
        self.launched_at = products.launched_at
        self.members: list[np.ndarray] = []
        self.cdf: list[np.ndarray] = []
        self.fallback = np.zeros(n_categories, dtype=np.int64)
        for c in range(n_categories):
            idx = np.flatnonzero(products.category == c)
            idx = idx[np.argsort(-products.popularity[idx], kind="stable")]
            w = np.cumsum(products.popularity[idx])
            self.members.append(idx)
            self.cdf.append(w / w[-1])
            self.fallback[c] = idx[0]  # the category's best seller, on sale from day one

    def _once(self, rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
        out = np.empty(len(cat), dtype=np.int64)
        order = np.argsort(cat, kind="stable")
        bounds = np.searchsorted(cat[order], np.arange(len(self.members) + 1))
        for c, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            rows = order[lo:hi]
            pick = np.searchsorted(self.cdf[c], rng.random(len(rows)), side="right")
            out[rows] = self.members[c][np.minimum(pick, len(self.members[c]) - 1)]
        return out

    def draw(self, rng: np.random.Generator, cat: np.ndarray, at_us: np.ndarray) -> np.ndarray:
        """A product per row from category `cat`, already launched at `at_us`."""
        out = self._once(rng, cat)
        for _ in range(6):  # rejection: redraw the few that were not on sale yet
            bad = np.flatnonzero(self.launched_at[out] > at_us)
            if len(bad) == 0:
                return out
            out[bad] = self._once(rng, cat[bad])
        bad = self.launched_at[out] > at_us
        out[bad] = self.fallback[cat[bad]]
        return out


def pick_category(rng: np.random.Generator, pref: np.ndarray) -> np.ndarray:
    """One category per row of a (n, n_categories) preference matrix."""
    cdf = np.cumsum(pref, axis=1)
    cat = (rng.random(len(pref))[:, None] * cdf[:, -1:] > cdf).sum(axis=1)
    return np.minimum(cat, pref.shape[1] - 1)


def _brands(rng: np.random.Generator, n_categories: int) -> list[list[str]]:
    brands = []
    for _ in range(n_categories):
        k = int(rng.integers(4, 10))
        parts = rng.choice(SYLLABLES, size=(k, 3))
        brands.append(sorted({"".join(p).capitalize() for p in parts}))
    return brands


def make_products(world: World) -> Products:
    rng = world.rng("products")
    seeds = world.seeds
    n, n_cats = world.scale.products, len(seeds.categories)
    if n < 2 * len(seeds.subcategories):
        raise ValueError("scale has fewer products than two per subcategory")

    # Every subcategory gets two products; the rest are spread by category weight.
    pair = np.concatenate([
        np.repeat(np.arange(len(seeds.subcategories)), 2),
        rng.integers(0, len(seeds.subcategories), n - 2 * len(seeds.subcategories)),
    ])
    rng.shuffle(pair)
    category = seeds.pair_category[pair]
    popularity = np.empty(n)
    for c in range(n_cats):  # Zipf within each category, in random rank order
        idx = np.flatnonzero(category == c)
        ranks = rng.permutation(len(idx)) + 1
        popularity[idx] = ranks.astype(float) ** -ZIPF_EXPONENT

    start, end = world.start_us, world.end_max_us
    initial = rng.random(n) < INITIAL_SHARE
    for c in range(n_cats):  # the best seller of each category must exist from day one
        idx = np.flatnonzero(category == c)
        initial[idx[np.argmax(popularity[idx])]] = True
    history_days = 1000.0
    launched_at = np.where(
        initial,
        start - (rng.random(n) * history_days * US_PER_DAY).astype(np.int64) - US_PER_HOUR,
        start + US_PER_DAY + (rng.random(n) * (end - start - 2 * US_PER_DAY)).astype(np.int64),
    )
    # New products are announced (loaded) a few days ahead; the initial catalogue arrives in
    # the landing zone's first load on the start date.
    ahead = (rng.uniform(1.0, 7.0, n) * US_PER_DAY).astype(np.int64)
    first_load = start + rng.integers(5, 50, n) * 60_000_000
    loaded_at = np.where(initial, first_load, np.maximum(launched_at - ahead, first_load))

    sub_factor = rng.lognormal(0.0, 0.3, len(seeds.subcategories))
    base = np.array([BASE_PRICE_EUR.get(c, DEFAULT_BASE_PRICE_EUR) for c in seeds.categories])
    raw = base[category] * sub_factor[pair] * rng.lognormal(0.0, 0.5, n)
    list_price = np.maximum(np.round(raw) - 0.01, 1.99)  # shop prices end in .99

    brand_lists = _brands(rng, n_cats)
    brand = [brand_lists[c][int(i) % len(brand_lists[c])] for c, i in
             zip(category, rng.integers(0, 1000, n), strict=True)]
    adjective = rng.integers(0, len(ADJECTIVES), n)
    name = [
        f"{b} {ADJECTIVES[a]} {seeds.subcategories[p].replace('_', ' ').title()} {i + 1}"
        for i, (b, a, p) in enumerate(zip(brand, adjective, pair, strict=True))
    ]

    products = Products(
        id=np.arange(1, n + 1, dtype=np.int64),
        pair=pair,
        category=category,
        brand=brand,
        name=name,
        list_price=list_price,
        launched_at=launched_at,
        loaded_at=loaded_at,
        popularity=popularity,
        quality=rng.normal(0.0, 0.45, n),
        complements=np.zeros((n, N_COMPLEMENTS), dtype=np.int64),
    )
    products.complements = _complements(rng, world, products)
    return products


def _complements(rng: np.random.Generator, world: World, products: Products) -> np.ndarray:
    """Popular items of the same category plus one from an affine category, never itself."""
    cats = world.seeds.categories
    sampler = ProductSampler(products, len(cats))
    never = np.full(products.n, np.iinfo(np.int64).max)  # complements ignore launch dates
    same = np.repeat(products.category, N_COMPLEMENTS - 1)
    affine_options = [
        [cats.index(a) for a in CROSS_AFFINITY.get(c, ()) if a in cats] or [i]
        for i, c in enumerate(cats)
    ]
    affine = np.array([opts[int(k) % len(opts)] for opts, k in zip(
        (affine_options[c] for c in products.category), rng.integers(0, 6, products.n),
        strict=True)])
    cat = np.concatenate([same, affine])
    picks = sampler.draw(rng, cat, np.concatenate([np.repeat(never, N_COMPLEMENTS - 1), never]))
    comp = np.column_stack([picks[: len(same)].reshape(products.n, -1), picks[len(same):]])
    own = np.arange(products.n)[:, None]
    # Replace self-references by the neighbour in id order (still the same category mostly).
    return np.where(comp == own, (comp + 1) % products.n, comp)
