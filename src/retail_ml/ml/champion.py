"""Champion of each model: the one registered version allowed to score, with its history.

``ml_model_champions`` is append-only (an incremental dbt Python model, ``full_refresh:
false``): one row per change of champion, numbered by ``champion_seq``, with the action
(``promote`` or ``rollback``), the reason and the version it replaced. The current champion is
the row with the highest ``champion_seq``. Scoring reads the champion only
(:func:`champion_version`) and refuses a version whose signed ``gate_status`` is not
``passed``, so no dbt command, selection or exclusion can score with a rejected version.

Promotion (:func:`champion_changes`), at every build after the gates:

* the latest registered version (newest ``trained_at``, ties by the larger version) is promoted
  if its gates passed and it has **never been champion before**; a version that was champion
  once is not re-promoted automatically, so a rollback sticks until a new version is trained;
* a rejected version is never promoted: the champion stays.

Rollback: ``dbt build --select ml_model_champions+ --vars '{ml_champion_rollback_to: <version>,
ml_champion_rollback_reason: "..."}'`` appends a ``rollback`` row to that version (it must be a
registered, ``passed`` version) and rescores; repeating it with the same version appends
nothing. ``python -m retail_ml.ml.champion --db <warehouse> list`` prints the history.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import pyarrow as pa

from retail_ml.ml._checks import require_columns
from retail_ml.ml.gates import PASSED

PROMOTE = "promote"
ROLLBACK = "rollback"

#: Columns and Arrow types of ``ml_model_champions``, in table order.
CHAMPIONS_SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("champion_seq", pa.int64()),
        ("model_version", pa.string()),
        ("action", pa.string()),
        ("reason", pa.string()),
        ("previous_model_version", pa.string()),
        ("changed_at", pa.timestamp("us", tz="UTC")),
    ]
)


def _latest(registry: pd.DataFrame) -> pd.Series:
    ordered = registry.sort_values(["trained_at", "model_version"], kind="mergesort")
    return ordered.iloc[-1]


def current_champion(champions: pd.DataFrame, model_name: str) -> pd.Series | None:
    """The current champion row of ``model_name`` (highest ``champion_seq``), or ``None``."""
    require_columns(champions, ["model_name", "champion_seq", "model_version"], "champions")
    rows = champions[champions["model_name"] == model_name]
    if len(rows) == 0:
        return None
    return rows.sort_values("champion_seq", kind="mergesort").iloc[-1]


def champion_changes(
    registry: pd.DataFrame,
    champions: pd.DataFrame,
    *,
    model_name: str,
    changed_at: datetime,
    rollback_to: str | None = None,
    rollback_reason: str | None = None,
) -> pa.Table:
    """The rows to append to the champion history (usually none or one).

    Args:
        registry: ``ml_model_registry`` (``model_name``, ``model_version``, ``trained_at``,
            ``gate_status``, ``gate_results_json``).
        champions: The champion history so far (empty on the first build).
        model_name: The model whose champion is decided.
        changed_at: Timestamp recorded on a new row.
        rollback_to: A version to roll back to (dbt var ``ml_champion_rollback_to``).
        rollback_reason: Why (required with ``rollback_to``).

    Returns:
        An Arrow table of :data:`CHAMPIONS_SCHEMA` (no rows when nothing changes).

    Raises:
        ValueError: If the rollback target is not a registered ``passed`` version of the
            model, or no reason is given.
    """
    require_columns(
        registry, ["model_name", "model_version", "trained_at", "gate_status"], "registry"
    )
    versions = registry[registry["model_name"] == model_name]
    current = current_champion(champions, model_name)
    current_version = None if current is None else str(current["model_version"])
    next_seq = 1 if current is None else int(current["champion_seq"]) + 1

    row: dict[str, object] | None = None
    if rollback_to:
        target = versions[versions["model_version"] == rollback_to]
        if len(target) == 0:
            raise ValueError(f"cannot roll back to {rollback_to!r}: not a registered version")
        if target["gate_status"].iloc[0] != PASSED:
            raise ValueError(f"cannot roll back to {rollback_to!r}: its gates did not pass")
        if not (rollback_reason or "").strip():
            raise ValueError("a rollback needs a reason (var ml_champion_rollback_reason)")
        if rollback_to != current_version:
            row = {"model_version": rollback_to, "action": ROLLBACK, "reason": rollback_reason}
    elif len(versions) > 0:
        latest = _latest(versions)
        ever_champion = set(champions.loc[champions["model_name"] == model_name, "model_version"])
        if latest["gate_status"] == PASSED and latest["model_version"] not in ever_champion:
            row = {
                "model_version": str(latest["model_version"]),
                "action": PROMOTE,
                "reason": "latest registered version; all quality gates passed",
            }
    if row is None:
        return CHAMPIONS_SCHEMA.empty_table()
    record = {
        "model_name": model_name,
        "champion_seq": next_seq,
        **row,
        "previous_model_version": current_version,
        "changed_at": changed_at,
    }
    return pa.Table.from_pylist([record], schema=CHAMPIONS_SCHEMA)


def champion_version(champions: pd.DataFrame, registry: pd.DataFrame, model_name: str) -> pd.Series:
    """The registry row of the current champion, checked to be a ``passed`` version.

    Raises:
        ValueError: If the model has no champion yet, or the champion is not a registered
            ``passed`` version (the signature check on loading covers ``gate_status``).
    """
    current = current_champion(champions, model_name)
    if current is None:
        raise ValueError(
            f"model {model_name!r} has no champion: no registered version has passed its "
            "quality gates; refusing to score"
        )
    rows = registry[
        (registry["model_name"] == model_name)
        & (registry["model_version"] == current["model_version"])
    ]
    if len(rows) != 1:
        raise ValueError(f"champion {current['model_version']!r} is not in the registry")
    chosen = rows.iloc[0]
    if chosen["gate_status"] != PASSED:
        raise ValueError(
            f"champion {chosen['model_version']!r} has gate_status {chosen['gate_status']!r}; "
            "refusing to score"
        )
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m retail_ml.ml.champion --db <warehouse> list``: print the champion history."""
    import duckdb

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--db", required=True, help="the DuckDB warehouse (opened read-only)")
    parser.add_argument("command", choices=["list"])
    args = parser.parse_args(argv)
    with duckdb.connect(args.db, read_only=True) as con:
        con.sql(
            "select c.model_name, c.champion_seq, c.model_version, c.action, c.reason,"
            " c.previous_model_version, c.changed_at, r.gate_status"
            " from ml_model_champions as c left join ml_model_registry as r"
            " on c.model_version = r.model_version order by 1, 2"
        ).show(max_width=200)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
