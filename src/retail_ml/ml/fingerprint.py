"""Order-independent content fingerprint of a table, computed in DuckDB.

One definition, two entry points: :func:`fingerprint_relation` runs it on a DuckDB relation
(a dbt Python model's ``dbt.ref(...)``: the warehouse aggregates, nothing is read into
Python), :func:`fingerprint_frame` runs the very same SQL on a pandas frame (notebooks, unit
tests, the training code). A warehouse table and the model frame read from it
(:func:`~retail_ml.ml.frames.arrow_to_model_frame`) have the same fingerprint, so the model
registry can tell whether a version is registered already before it reads a row.

Canonical form:

1. every selected column is mapped to a *kind* and a canonical value: ``number`` (every
   integer, decimal, floating and boolean type, as DOUBLE, NaN as NULL: what the model frame
   holds), ``text`` (VARCHAR) or ``date`` (DATE); any other type is refused;
2. each row is hashed with DuckDB's ``hash`` over its canonical values, in the given column
   order (NULL hashes differently from every value, including the empty string);
3. the rows are combined order-independently: their count, the sum of the row hashes (exact,
   128-bit) and their bitwise XOR;
4. the digest is the SHA-256 of the JSON of ``[[column, kind], ...]``, the DuckDB version and
   the three aggregates.

It therefore depends on the values, the column names and order and their kinds, and on
nothing else: not on row order, index, extra columns, integer vs floating storage or the run.
It is a change detector (a changed value, row or column changes it, except with a chance of
about 2^-64 per change), not a cryptographic commitment: the model's integrity is
guarded by its SHA-256 and HMAC signature (:mod:`retail_ml.ml.signing`). DuckDB's ``hash`` is
stable within a DuckDB version, which is why the version is part of the digest: an upgrade
gives new fingerprints (and one new model version), never a silent collision.

Cost: one scan with two aggregates (~0.04 s for the 350k x 29 training set at ``default``,
against ~1.5 s to hash a JSON rendering of every row, and far more to read it into pandas).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import duckdb
import pandas as pd

from retail_ml.ml._checks import require_unique_names

#: DuckDB type ids fingerprinted as numbers (cast to DOUBLE, as the model frame holds them).
_NUMBER_TYPES = frozenset(
    {
        "tinyint",
        "smallint",
        "integer",
        "bigint",
        "hugeint",
        "utinyint",
        "usmallint",
        "uinteger",
        "ubigint",
        "uhugeint",
        "float",
        "double",
        "decimal",
        "boolean",
    }
)
_TEXT_TYPES = frozenset({"varchar"})
_DATE_TYPES = frozenset({"date"})


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _canonical(name: str, type_id: str) -> tuple[str, str]:
    """The column's kind and the SQL expression of its canonical value."""
    column = _quoted(name)
    if type_id in _NUMBER_TYPES:
        number = f"cast({column} as double)"
        return "number", f"case when isnan({number}) then null else {number} end"
    if type_id in _TEXT_TYPES:
        return "text", column
    if type_id in _DATE_TYPES:
        return "date", column
    raise ValueError(
        f"cannot fingerprint column {name!r} of type {type_id}: numbers, text and dates only"
    )


def fingerprint_relation(relation: duckdb.DuckDBPyRelation, columns: Sequence[str]) -> str:
    """Return the SHA-256 hex digest of ``relation``'s ``columns`` (see the module docstring).

    Args:
        relation: A DuckDB relation, e.g. ``dbt.ref("ml_training_set__purchase_30d")`` in a dbt
            Python model; it is aggregated where it lives, not read.
        columns: Columns to include; their order is part of the fingerprint.

    Returns:
        A 64-character lower-case hex digest.

    Raises:
        ValueError: If ``columns`` is empty, lists a column twice, names a column absent from
            the relation, or names a column of another type than numbers, text and dates.
    """
    names = list(columns)
    if not names:
        raise ValueError("a fingerprint needs at least one column")
    require_unique_names(names, "fingerprint columns")
    types = {name: dtype.id for name, dtype in zip(relation.columns, relation.types, strict=True)}
    missing = [name for name in names if name not in types]
    if missing:
        raise ValueError(f"relation to fingerprint is missing required columns: {missing}")
    kinds, values = zip(*(_canonical(name, types[name]) for name in names), strict=True)
    row_hash = f"hash({', '.join(values)})"
    aggregates = relation.aggregate(
        f"count(*) as n_rows, sum({row_hash}) as hash_sum, bit_xor({row_hash}) as hash_xor"
    ).fetchone()
    if aggregates is None:  # pragma: no cover - an aggregate always returns a row
        raise RuntimeError("the fingerprint aggregate returned no row")
    n_rows, hash_sum, hash_xor = aggregates
    payload = json.dumps(
        {
            "columns": [[name, kind] for name, kind in zip(names, kinds, strict=True)],
            "duckdb": duckdb.__version__,
            "rows": int(n_rows),
            "hash_sum": str(hash_sum),
            "hash_xor": str(hash_xor),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def fingerprint_frame(df: pd.DataFrame, columns: Sequence[str]) -> str:
    """Return the fingerprint of ``df[columns]``: :func:`fingerprint_relation` on the frame.

    The frame is scanned by a private in-memory DuckDB connection (not copied, not modified).

    Raises:
        ValueError: As :func:`fingerprint_relation`.
    """
    names = list(columns)
    if not names:
        raise ValueError("a fingerprint needs at least one column")
    require_unique_names(names, "fingerprint columns")
    missing = [name for name in dict.fromkeys(names) if name not in set(df.columns)]
    if missing:
        raise ValueError(f"frame to fingerprint is missing required columns: {missing}")
    with duckdb.connect() as connection:
        return fingerprint_relation(connection.from_df(df.loc[:, names]), names)
