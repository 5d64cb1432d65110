"""When things happen: yearly and weekly seasonality, growth and the time of day.

Event times are int64 microseconds since the epoch (UTC). A customer's activity is an
inhomogeneous Poisson process whose intensity is `rate * daily weight`; `Intensity` integrates
and inverts the daily weights so whole populations of events are placed without Python loops.
"""

from __future__ import annotations

import numpy as np

from .world import US_PER_DAY, US_PER_HOUR, World

# Mon..Sun. Orders peak on Sunday evening; browsing is up on both weekend days.
WEEKLY = {
    "orders": np.array([1.02, 0.98, 0.96, 0.96, 0.92, 1.06, 1.24]),
    "sessions": np.array([1.00, 0.96, 0.95, 0.95, 0.93, 1.12, 1.24]),
    "signups": np.array([1.00, 0.97, 0.97, 0.97, 0.95, 1.08, 1.14]),
}

# Local-time hour profile: quiet nights, lunch bump, evening peak around 20:00.
HOURLY_LOCAL = np.array(
    [0.8, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 1.8, 2.4, 2.9, 3.2,
     3.6, 3.5, 3.3, 3.3, 3.5, 3.9, 4.4, 5.0, 5.4, 5.0, 3.6, 2.0]
)  # fmt: skip
HOURLY_CDF = np.cumsum(HOURLY_LOCAL) / HOURLY_LOCAL.sum()

# Yearly growth of daily sign-ups: the shop is growing, so later cohorts are larger.
SIGNUP_GROWTH_PER_YEAR = 1.8


def day_array(world: World) -> np.ndarray:
    """The history's days as datetime64[D]."""
    start = np.datetime64(world.start_date.isoformat(), "D")
    return start + np.arange(world.n_days)


def _black_friday(year: int) -> np.datetime64:
    nov1 = np.datetime64(f"{year}-11-01", "D")
    weekday = (nov1.astype(np.int64) + 3) % 7  # 0 = Monday
    first_thursday = nov1 + (3 - weekday) % 7
    return first_thursday + 22  # fourth Thursday + 1 day


def black_friday_offset(days: np.ndarray) -> np.ndarray:
    """Days since the Black Friday of each date's year (negative before it)."""
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    distinct, which = np.unique(years, return_inverse=True)
    bf_days = np.array([_black_friday(int(y)) for y in distinct], dtype="datetime64[D]")
    return (days - bf_days[which]).astype(np.int64)


def yearly_factor(days: np.ndarray) -> np.ndarray:
    """Demand multiplier by calendar date: Nov/Dec peak, Black Friday spike, summer dip."""
    years = days.astype("datetime64[Y]")
    doy = (days - years).astype(np.int64).astype(float)
    f = 1.0 + 0.45 * np.exp(-0.5 * ((doy - 344) / 13) ** 2)  # December gifting
    f += 0.15 * np.exp(-0.5 * ((doy - 322) / 10) ** 2)  # November ramp-up
    f -= 0.22 * np.exp(-0.5 * ((doy - 200) / 30) ** 2)  # summer holidays
    f = np.where(doy >= 358, f * 0.7, f)  # lull after Christmas
    f = np.where(doy <= 12, f * 1.1, f)  # January sales
    offset = black_friday_offset(days)
    boost = np.select(
        [offset == 0, offset == 3, (offset > 0) & (offset < 3), (offset >= -7) & (offset < 0)],
        [1.9, 1.7, 1.35, 1.15],  # Black Friday, Cyber Monday, the weekend between, the week before
        default=1.0,
    )
    return f * boost


def weekly_factor(days: np.ndarray, kind: str) -> np.ndarray:
    weekday = (days.astype(np.int64) + 3) % 7
    return WEEKLY[kind][weekday]


class Intensity:
    """Piecewise-constant daily weights with a cumulative integral and its inverse."""

    def __init__(self, world: World, weights: np.ndarray) -> None:
        self.start_us = world.start_us
        self.n_days = len(weights)
        self.w = weights.astype(float)
        self.cum = np.concatenate([[0.0], np.cumsum(self.w)])

    def cumulative(self, t_us: np.ndarray) -> np.ndarray:
        """Integral of the weights from the start date to `t_us` (in weighted days)."""
        pos = np.clip((np.asarray(t_us) - self.start_us) / US_PER_DAY, 0.0, float(self.n_days))
        day = np.minimum(pos.astype(np.int64), self.n_days - 1)
        return self.cum[day] + (pos - day) * self.w[day]

    def integral(self, lo_us: np.ndarray, hi_us: np.ndarray) -> np.ndarray:
        return np.maximum(self.cumulative(hi_us) - self.cumulative(lo_us), 0.0)

    def sample_days(self, rng: np.random.Generator, lo_us: np.ndarray, hi_us: np.ndarray):
        """One day index per row, drawn with density proportional to the weights in [lo, hi]."""
        c_lo, c_hi = self.cumulative(lo_us), self.cumulative(hi_us)
        y = c_lo + rng.random(len(c_lo)) * (c_hi - c_lo)
        day = np.searchsorted(self.cum, y, side="right") - 1
        return np.clip(day, 0, self.n_days - 1)


def weights(world: World, kind: str) -> np.ndarray:
    """Daily weights for `orders`, `sessions` or `signups` over the history."""
    days = day_array(world)
    w = weekly_factor(days, kind)
    if kind == "signups":
        growth = SIGNUP_GROWTH_PER_YEAR ** (np.arange(world.n_days) / 365.0)
        return w * growth * yearly_factor(days) ** 0.6  # acquisition campaigns follow the peak
    return w * yearly_factor(days)


def time_of_day(rng: np.random.Generator, n: int, utc_offset_h: np.ndarray) -> np.ndarray:
    """Microseconds after UTC midnight, from the local-hour profile shifted to UTC."""
    local_hour = np.searchsorted(HOURLY_CDF, rng.random(n), side="right")
    utc_hour = (np.minimum(local_hour, 23) - utc_offset_h) % 24
    return utc_hour * US_PER_HOUR + rng.integers(0, US_PER_HOUR, n)


def place_in_days(
    rng: np.random.Generator,
    world: World,
    day: np.ndarray,
    utc_offset_h: np.ndarray,
    not_before_us: np.ndarray | None = None,
) -> np.ndarray:
    """Turn day indices into timestamps; events on the lower bound's day move after it.

    Squeezing (rather than redrawing) keeps counts exact and the result >= the bound, e.g. a
    first order on the sign-up day always lands after the sign-up.
    """
    day_start = world.start_us + day.astype(np.int64) * US_PER_DAY
    t = day_start + time_of_day(rng, len(day), utc_offset_h)
    if not_before_us is not None:
        early = t < not_before_us
        room = (day_start + US_PER_DAY - 1 - not_before_us)[early]
        frac = (t - day_start)[early] / US_PER_DAY
        t[early] = not_before_us[early] + (frac * room).astype(np.int64)
    return t
