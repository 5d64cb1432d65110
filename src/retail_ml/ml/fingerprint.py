"""Order-independent content fingerprint of a pandas DataFrame.

Canonical form hashed by :func:`fingerprint_frame`:

1. a header: the JSON list of ``[column name, pandas dtype]`` pairs, in the
   order the columns are given;
2. the selected columns' rows, sorted by all given columns (in the given
   order, missing values last, stable sort), with the pandas index dropped,
   written as CSV without header (``\\n`` line ends, missing values as
   ``\\N``, floats in Python's shortest round-trip repr), in fixed-size row
   chunks to bound memory.

The digest therefore depends on the values, the column names/order/dtypes and
nothing else: not on row order, index, extra columns, or the run. A change of
dtype (e.g. ``int64`` to ``float64``) changes the fingerprint on purpose.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import pandas as pd

from retail_ml.ml._checks import require_columns, require_unique_names

#: Rows serialised per chunk while hashing.
_CHUNK_ROWS = 100_000

#: Text written for missing values; distinct from an empty string.
_NULL_TEXT = "\\N"


def fingerprint_frame(df: pd.DataFrame, columns: Sequence[str]) -> str:
    """Return the SHA-256 hex digest of ``df[columns]`` in canonical row order.

    Args:
        df: The frame to fingerprint (not modified).
        columns: Columns to include; their order is part of the fingerprint.

    Returns:
        A 64-character lower-case hex digest.

    Raises:
        ValueError: If ``columns`` is empty, lists a column twice, names a
            column absent from ``df``, or holds values that cannot be ordered
            (e.g. a column mixing strings and numbers).
    """
    names = list(columns)
    if not names:
        raise ValueError("fingerprint_frame needs at least one column")
    require_unique_names(names, "fingerprint columns")
    require_columns(df, names, "frame to fingerprint")

    selected = df.loc[:, names]
    try:
        canonical = selected.sort_values(
            by=names, kind="mergesort", na_position="last", ignore_index=True
        )
    except TypeError as exc:
        raise ValueError(f"cannot sort the rows of columns {names} canonically: {exc}") from exc

    digest = hashlib.sha256()
    header = json.dumps([[name, str(canonical[name].dtype)] for name in names])
    digest.update(header.encode("utf-8"))
    digest.update(b"\n")
    for start in range(0, len(canonical), _CHUNK_ROWS):
        chunk = canonical.iloc[start : start + _CHUNK_ROWS]
        text = chunk.to_csv(index=False, header=False, lineterminator="\n", na_rep=_NULL_TEXT)
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()
