"""The as-of dates the purchase model needs, derived from the data as the warehouse derives them.

`ml_training_set__purchase_30d` trains on the latest `purchase_training_cutoffs` month-ends whose
whole label window (`purchase_label_window_days`) ends on or before the latest complete day, and
`feat_customer_serving` serves the latest complete day itself: the last UTC date on which any
order landed (`int_feature_dates_spined`). The pandas reference is timed on exactly these dates.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def training_cutoffs(
    latest_day: date,
    *,
    cutoffs: int = 12,
    label_window_days: int = 30,
    first_day: date | None = None,
) -> list[date]:
    """The training cutoffs, oldest first: the `cutoffs` latest month-ends D with
    D + label_window_days <= latest_day (and D >= first_day, the first feature date, if given).

    >>> training_cutoffs(date(2026, 11, 25), cutoffs=2)
    [datetime.date(2026, 8, 31), datetime.date(2026, 9, 30)]
    """
    if cutoffs < 0 or label_window_days < 0:
        raise ValueError("cutoffs and label_window_days must be >= 0")
    found: list[date] = []
    candidate = month_end(latest_day)
    while len(found) < cutoffs:
        if first_day is not None and candidate < first_day:
            break
        if candidate + timedelta(days=label_window_days) <= latest_day:
            found.append(candidate)
        candidate = candidate.replace(day=1) - timedelta(days=1)  # previous month's end
    return sorted(found)


def model_dates(
    latest_day: date,
    *,
    cutoffs: int = 12,
    label_window_days: int = 30,
    first_day: date | None = None,
) -> list[date]:
    """The training cutoffs plus the latest complete day (serving), oldest first, no repeats."""
    dates = training_cutoffs(
        latest_day, cutoffs=cutoffs, label_window_days=label_window_days, first_day=first_day
    )
    return sorted({*dates, latest_day})


def latest_complete_day(raw_dir: Path) -> date:
    """The max UTC date of `_loaded_at` over every landed order row (all partitions)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        pattern = str(Path(raw_dir) / "orders" / "load_date=*" / "*.parquet")
        row = con.execute(
            "select max(cast(_loaded_at as date)) "
            "from read_parquet(?, hive_partitioning = false)",
            [pattern],
        ).fetchone()
    finally:
        con.close()
    if row is None or row[0] is None:
        raise ValueError(f"no orders landed under {raw_dir}")
    return row[0]


def project_vars(project_dir: Path) -> tuple[int, int]:
    """(`purchase_training_cutoffs`, `purchase_label_window_days`) from dbt_project.yml."""
    import yaml

    variables = yaml.safe_load((Path(project_dir) / "dbt_project.yml").read_text())["vars"]
    return int(variables["purchase_training_cutoffs"]), int(variables["purchase_label_window_days"])
