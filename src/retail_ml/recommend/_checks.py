"""Input checks: a failing dbt Python model should name the frame and columns at fault."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming every column of ``columns`` that ``frame`` lacks."""
    present = set(frame.columns)
    missing = [column for column in dict.fromkeys(columns) if column not in present]
    if missing:
        raise ValueError(f"{what} is missing required columns: {missing}")


def require_rows(frame: pd.DataFrame, what: str) -> None:
    """Raise ``ValueError`` if ``frame`` has no rows."""
    if len(frame) == 0:
        raise ValueError(f"{what} is empty: at least one row is required")


def require_unique(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise ``ValueError`` if two rows of ``frame`` share the values of ``columns``."""
    duplicated = frame.duplicated(subset=columns, keep=False)
    if duplicated.any():
        examples = frame.loc[duplicated, columns].head(3).to_dict("records")
        raise ValueError(f"{what} has duplicate {columns}, e.g. {examples}")
