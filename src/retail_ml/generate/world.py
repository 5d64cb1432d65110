"""The run's frame: dates, reference data and deterministic per-purpose random streams."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from .config import ScaleConfig
from .seeds import SeedData

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR


def epoch_us(day: date) -> int:
    """Microseconds since the Unix epoch at 00:00 UTC of `day`."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(midnight.timestamp()) * US_PER_SECOND


@dataclass(frozen=True)
class World:
    """Everything a table generator needs besides the other tables."""

    seed: int
    scale: ScaleConfig
    end_date: date
    seeds: SeedData

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.scale.history_days - 1)

    @property
    def n_days(self) -> int:
        return self.scale.history_days

    @property
    def start_us(self) -> int:
        return epoch_us(self.start_date)

    @property
    def end_max_us(self) -> int:
        """The last representable instant of the end date (23:59:59.999999 UTC)."""
        return epoch_us(self.end_date) + US_PER_DAY - 1

    def rng(self, purpose: str) -> np.random.Generator:
        """An independent stream per purpose, keyed by name rather than call order.

        Keying by a stable hash of the name means adding or reordering generators elsewhere
        never shifts the numbers another table sees.
        """
        key = zlib.crc32(purpose.encode("utf-8"))
        return np.random.default_rng(np.random.SeedSequence([self.seed, key]))
