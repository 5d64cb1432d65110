"""Small input checks shared by the modules of this package.

Each helper raises a ``ValueError`` with a message that names the offending
columns, so that a failing dbt Python model points straight at the problem
instead of at a stack frame deep inside pandas or scikit-learn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import pandas as pd


def require_unique_names(names: Sequence[str], what: str) -> None:
    """Raise ``ValueError`` if ``names`` lists a name more than once.

    Args:
        names: Column names to check.
        what: Human-readable description used in the error message.
    """
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise ValueError(f"{what} lists these columns more than once: {duplicated}")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming every column of ``columns`` absent from ``frame``.

    Args:
        frame: The frame that should hold the columns.
        columns: The required column names.
        what: Human-readable name of the frame used in the error message.
    """
    present = set(frame.columns)
    missing = [column for column in dict.fromkeys(columns) if column not in present]
    if missing:
        raise ValueError(f"{what} is missing required columns: {missing}")


def require_rows(frame: pd.DataFrame, what: str) -> None:
    """Raise ``ValueError`` if ``frame`` has no rows.

    Args:
        frame: The frame to check.
        what: Human-readable name of the frame used in the error message.
    """
    if len(frame) == 0:
        raise ValueError(f"{what} is empty: at least one row is required")
