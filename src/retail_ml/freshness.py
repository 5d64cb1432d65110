"""Source freshness of the landing zone, judged against the landing clock.

The thresholds are the sources' own (`freshness` in models/staging/shop/_shop__sources.yml, as
dbt resolves them into the manifest: a table's block replaces the source's, `null` turns it
off). The age of a raw table is the landing clock minus its newest `_loaded_at`. The clock is
the simulated landing zone's `landed_through` (retail_ml.landing), or the wall clock for a real
one; `dbt source freshness` always uses the wall clock, which is wrong for a simulated world.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class Freshness:
    """One raw table's verdict: `pass`, `warn` or `error`."""

    table: str
    status: str
    newest: datetime | None
    age: timedelta | None
    threshold: timedelta | None

    def line(self, clock: datetime) -> str:
        if self.newest is None:
            return f"source shop.{self.table} has no landed rows"
        hours = self.age.total_seconds() / 3600 if self.age is not None else 0.0
        limit = (f", past its {'error' if self.status == 'error' else 'warn'}_after of "
                 f"{self.threshold.total_seconds() / 3600:g} h" if self.threshold else "")
        return (f"source shop.{self.table} is stale: newest row landed "
                f"{self.newest.isoformat()}, {hours:.1f} h before the landing clock "
                f"{clock.isoformat()}{limit}")


def _threshold(block: dict[str, Any] | None, key: str) -> timedelta | None:
    value = (block or {}).get(key) or {}
    if not value.get("count") or not value.get("period"):
        return None
    return int(value["count"]) * PERIODS[value["period"]]


def source_thresholds(manifest: dict[str, Any]) -> dict[str, tuple[timedelta | None,
                                                                   timedelta | None]]:
    """(warn_after, error_after) per raw table of the `shop` source, as dbt resolved them."""
    thresholds = {}
    for node in manifest["sources"].values():
        if node["source_name"] != "shop":
            continue
        block = node.get("freshness")
        thresholds[node["name"]] = (_threshold(block, "warn_after"),
                                    _threshold(block, "error_after"))
    return thresholds


def newest_loaded_at(raw_dir: Path, table: str) -> datetime | None:
    """The newest `_loaded_at` of a raw table: partitions are days, so only the newest
    partition folder is read."""
    folders = sorted((raw_dir / table).glob("load_date=*"))
    for folder in reversed(folders):
        files = sorted(folder.glob("*.parquet"))
        values = [pc.max(pq.read_table(f, columns=["_loaded_at"])["_loaded_at"]).as_py()
                  for f in files]
        values = [v for v in values if v is not None]
        if values:
            return max(values)
    return None


def check_freshness(raw_dir: Path, manifest: dict[str, Any], clock: datetime) -> list[Freshness]:
    """Every `shop` table's freshness at `clock`, in table order."""
    verdicts = []
    for table, (warn_after, error_after) in sorted(source_thresholds(manifest).items()):
        if warn_after is None and error_after is None:
            continue
        newest = newest_loaded_at(raw_dir, table)
        age = clock - newest if newest is not None else None
        status, threshold = "pass", None
        if age is None or (error_after is not None and age > error_after):
            status, threshold = "error", error_after
        elif warn_after is not None and age > warn_after:
            status, threshold = "warn", warn_after
        verdicts.append(Freshness(table, status, newest, age, threshold))
    return verdicts
