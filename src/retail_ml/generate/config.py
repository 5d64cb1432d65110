"""Scale presets and the run-wide constants every generator module agrees on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# A fixed default (not "yesterday") so that two runs on different days give identical bytes.
DEFAULT_END_DATE = date(2026, 11, 25)
DEFAULT_SCALE = "default"
DEFAULT_SEED = 42

# Share of each table's rows that are deliberately broken, spread over the table's dirty kinds;
# every kind gets at least MIN_DIRTY_PER_KIND rows so tests can rely on it even at `small`.
DIRTY_RATE = 0.005
MIN_DIRTY_PER_KIND = 3

TABLES: tuple[str, ...] = (
    "customers",
    "products",
    "orders",
    "order_items",
    "returns",
    "reviews",
    "web_sessions",
)


@dataclass(frozen=True)
class ScaleConfig:
    """Size of the simulated shop. Behaviour parameters are scale-free and live in the modules."""

    name: str
    customers: int  # customers signed up by the end date
    history_days: int  # days from the start date to the end date, both included
    orders: int  # expected number of clean orders (the purchase rates are calibrated to it)
    products: int


SCALES: dict[str, ScaleConfig] = {
    "small": ScaleConfig("small", customers=2_000, history_days=365, orders=25_000, products=300),
    "default": ScaleConfig(
        "default", customers=50_000, history_days=730, orders=1_000_000, products=2_000
    ),
    "large": ScaleConfig(
        "large", customers=200_000, history_days=730, orders=5_000_000, products=5_000
    ),
    # The benchmark's scale-out point (~20M orders, ~4x large): does a build still complete on
    # a 2-core, 24 GiB machine, and how does time grow with events (docs/benchmarks/).
    "xl": ScaleConfig(
        "xl", customers=800_000, history_days=730, orders=20_000_000, products=10_000
    ),
}


def get_scale(name: str) -> ScaleConfig:
    """Return the preset called `name`, with a helpful error for typos."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose one of {sorted(SCALES)}") from None
