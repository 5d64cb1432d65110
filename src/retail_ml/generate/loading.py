"""When rows land in the landing zone (`_loaded_at`)."""

from __future__ import annotations

import numpy as np

from .world import US_PER_DAY, US_PER_MINUTE

LATE_SHARE = 0.01  # rows stuck in a failed batch and delivered 1-7 days later
TYPICAL_DELAY_MIN = 10.0
MAX_DELAY_MIN = 59.0


def loaded_at(rng: np.random.Generator, event_us: np.ndarray, end_max_us: int) -> np.ndarray:
    """Minutes after the event, sometimes days; never after the end date's last instant."""
    n = len(event_us)
    minutes = np.minimum(1.0 + rng.exponential(TYPICAL_DELAY_MIN, n), MAX_DELAY_MIN)
    on_time = event_us + (minutes * US_PER_MINUTE).astype(np.int64)
    late = rng.random(n) < LATE_SHARE
    late_by = (rng.uniform(1.0, 7.0, n) * US_PER_DAY).astype(np.int64)
    t = np.where(late, on_time + late_by, on_time)
    # A late batch that would land after the end has simply not arrived "yet": keep it on time.
    t = np.where(t > end_max_us, on_time, t)
    # Events in the last hour land before midnight: spread them over the remaining time
    # rather than piling them up on the last microsecond.
    room = np.maximum(end_max_us - event_us, 0)
    squeezed = event_us + (rng.random(n) * room).astype(np.int64)
    return np.where(t > end_max_us, squeezed, t)
