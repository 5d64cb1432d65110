"""ml_recommendation_metrics as an incremental model: the backtest runs only when what it reads
changed.

The backtest (:func:`~retail_ml.recommend.evaluation.evaluate_backtest`) is a function of

* the rows and columns it reads of its five inputs: the windows, the population and the ground
  truth of each window, the catalogue on each cutoff, and the order lines as known on each
  cutoff (:func:`backtest_reads`: lines known by the newest cutoff, their cancellation day kept
  only when it is on or before it; the serving day's catalogue and everything that landed
  after the newest cutoff are never read);
* the recommender's parameters (the model's dbt config) and the protocol's constants (tuning
  grid, bootstrap resamples, seed, interval level);
* the code that computes it (this package's modules) and the numerical libraries' versions.

:func:`input_fingerprint` digests all of them: each input as the project's one content
fingerprint (:mod:`retail_ml.ml.fingerprint`), computed by DuckDB on the relations
(order-independent, one cheap scan; nothing crosses into Python). The windows end on the
latest landed month-end (``recommender_backtest_end_date``), so on most days the fingerprint
is the one stored with the rows and :func:`recommendation_metrics_if_changed` returns no rows:
the incremental model keeps its table. Otherwise the backtest runs on exactly the rows
fingerprinted and replaces every row.
Either way the table equals a full rebuild on the same landed data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from retail_ml.heap import keeps_freed_memory
from retail_ml.ml.fingerprint import fingerprint_relation
from retail_ml.recommend.evaluation import (
    BOOTSTRAP_SAMPLES,
    BOOTSTRAP_SEED,
    INTERVAL_LEVEL,
    METRIC_COLUMNS,
    TUNING_GRID,
    WINDOW_COLUMNS,
    check_windows,
    evaluate_backtest,
)
from retail_ml.recommend.inputs import (
    CATALOGUE_COLUMNS,
    CUSTOMER_COLUMNS,
    ORDER_LINE_COLUMNS,
    warehouse_frame,
)
from retail_ml.recommend.recommender import RecommenderConfig

#: ml_recommendation_metrics' columns and types (the model's YAML); the fingerprint is last: it
#: says what the rows were computed from, and a table built before it existed gains it there.
METRICS_SCHEMA = pa.schema(
    [
        ("method", pa.string()),
        ("metric", pa.string()),
        ("window_role", pa.string()),
        ("parameters_json", pa.string()),
        ("value", pa.float64()),
        ("ci_lower", pa.float64()),
        ("ci_upper", pa.float64()),
        ("ratio_to_best_baseline", pa.float64()),
        ("window_number", pa.int64()),
        ("k", pa.int64()),
        ("customers_evaluated", pa.int64()),
        ("bootstrap_samples", pa.int64()),
        ("is_served_method", pa.bool_()),
        ("is_baseline", pa.bool_()),
        ("cutoff_date", pa.date32()),
        ("evaluation_end_date", pa.date32()),
        ("input_fingerprint", pa.string()),
    ]
)
#: Libraries whose numerics the backtest's values depend on.
LIBRARIES: tuple[str, ...] = ("numpy", "pandas", "scipy")
#: Modules that do not compute the backtest (a change to them recomputes nothing).
NOT_COMPUTING: frozenset[str] = frozenset({"report.py"})


@dataclass(frozen=True)
class BacktestRelations:
    """The backtest's inputs as DuckDB relations (the dbt Python model's ``dbt.ref(...)``)."""

    windows: duckdb.DuckDBPyRelation  # int_recommender_backtest_windows
    customers: duckdb.DuckDBPyRelation  # int_recommender_evaluation_customers
    lines: duckdb.DuckDBPyRelation  # int_recommender_order_lines
    catalogue: duckdb.DuckDBPyRelation  # int_product_catalogue_requested
    actual: duckdb.DuckDBPyRelation  # int_recommender_evaluation_purchases


def _date_list(days: Iterable[date]) -> str:
    return ", ".join(f"date '{pd.Timestamp(day).date().isoformat()}'" for day in days)


def backtest_reads(relations: BacktestRelations) -> dict[str, duckdb.DuckDBPyRelation]:
    """Exactly the rows and columns the backtest reads of each input, as relations.

    The windows are read first (a few rows) and checked; the other inputs are cut to the
    window cutoffs: the catalogue and the population of each cutoff, the purchases of each
    window, and the order lines known by the newest cutoff with their cancellation day where it
    is on or before it (a line is used on a cutoff when known and not yet retracted by then, so
    a later cancellation day and a line known after every cutoff change nothing).
    """
    windows = relations.windows.project(", ".join(WINDOW_COLUMNS))
    cutoffs = check_windows(warehouse_frame(windows))["cutoff_date"]
    listed, newest = _date_list(cutoffs), _date_list([cutoffs.max()])
    line_columns = [c for c in ORDER_LINE_COLUMNS if c != "retracted_date"]
    return {
        "windows": windows,
        "customers": relations.customers.filter(f"as_of_date in ({listed})").project(
            ", ".join([*CUSTOMER_COLUMNS, "as_of_date"])
        ),
        "lines": relations.lines.filter(f"known_date <= {newest}").project(
            ", ".join(line_columns)
            + f", case when retracted_date <= {newest} then retracted_date end as retracted_date"
        ),
        "catalogue": relations.catalogue.filter(f"as_of_date in ({listed})").project(
            ", ".join([*CATALOGUE_COLUMNS, "as_of_date"])
        ),
        "actual": relations.actual.filter(f"cutoff_date in ({listed})").project(
            "customer_id, product_id, cutoff_date, evaluation_end_date"
        ),
    }


def relation_digest(relation: duckdb.DuckDBPyRelation) -> str:
    """The project's content fingerprint of every column of ``relation``
    (:func:`retail_ml.ml.fingerprint.fingerprint_relation`): the same for the same multiset of
    rows, whatever their order, computed in one scan by DuckDB."""
    return fingerprint_relation(relation, relation.columns)


def code_digest() -> str:
    """SHA-256 of this package's modules that compute the backtest, in name order."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name not in NOT_COMPUTING:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def input_fingerprint(
    reads: Mapping[str, duckdb.DuckDBPyRelation], parameters: Mapping[str, Any] | None
) -> str:
    """SHA-256 of everything the backtest's result depends on (see the module docstring).

    Args:
        reads: :func:`backtest_reads`.
        parameters: The model's ``recommender`` config (normalised through
            :class:`RecommenderConfig`, so an omitted default and its value are the same).
    """
    payload = {
        "inputs": {name: relation_digest(reads[name]) for name in sorted(reads)},
        "parameters": asdict(RecommenderConfig.from_mapping(parameters)),
        "protocol": {
            "grid": TUNING_GRID,
            "bootstrap_samples": BOOTSTRAP_SAMPLES,
            "bootstrap_seed": BOOTSTRAP_SEED,
            "interval_level": INTERVAL_LEVEL,
        },
        "code": code_digest(),
        "libraries": {name: metadata.version(name) for name in LIBRARIES},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def metrics_table(metrics: pd.DataFrame, fingerprint: str) -> pa.Table:
    """The backtest's frame as ml_recommendation_metrics' rows (``METRICS_SCHEMA``)."""
    frame = metrics[list(METRIC_COLUMNS)].assign(input_fingerprint=fingerprint)
    frame["ratio_to_best_baseline"] = frame["ratio_to_best_baseline"].astype(np.float64)
    return pa.Table.from_pandas(frame, schema=METRICS_SCHEMA, preserve_index=False)


def stored_fingerprints(
    connection: duckdb.DuckDBPyConnection, relation: str
) -> list[str | None]:
    """The distinct ``input_fingerprint`` of the rows of ``relation`` (the model's own table);
    ``[None]`` for rows stored before the column existed (never equal to a fingerprint)."""
    columns = [d[0] for d in connection.execute(f"select * from {relation} limit 0").description]  # noqa: S608
    if "input_fingerprint" not in columns:
        return [None]
    query = f"select distinct input_fingerprint from {relation} order by 1"  # noqa: S608
    return [row[0] for row in connection.execute(query).fetchall()]


@keeps_freed_memory
def recommendation_metrics_if_changed(
    relations: BacktestRelations,
    *,
    parameters: Mapping[str, Any] | None,
    stored_fingerprints: Sequence[str | None] = (),
) -> pa.Table:
    """The backtest's rows, or none when the stored rows were computed from the same inputs.

    Args:
        relations: The inputs.
        parameters: The model's ``recommender`` config.
        stored_fingerprints: The distinct ``input_fingerprint`` of the rows already stored
            (empty on a full build).

    Returns:
        ``METRICS_SCHEMA`` rows: none when the stored rows hold exactly this fingerprint (an
        incremental run then keeps them), otherwise every window × method × metric, each
        carrying the fingerprint (they replace the stored rows of the same grain).
    """
    reads = backtest_reads(relations)
    fingerprint = input_fingerprint(reads, parameters)
    if list(stored_fingerprints) == [fingerprint]:
        return METRICS_SCHEMA.empty_table()
    frames = {name: warehouse_frame(reads[name]) for name in reads}
    metrics = evaluate_backtest(
        frames["windows"],
        frames["customers"],
        frames["lines"],
        frames["catalogue"],
        frames["actual"],
        config=RecommenderConfig.from_mapping(parameters),
    )
    return metrics_table(metrics, fingerprint)


__all__ = [
    "METRICS_SCHEMA",
    "BacktestRelations",
    "backtest_reads",
    "code_digest",
    "input_fingerprint",
    "metrics_table",
    "recommendation_metrics_if_changed",
    "relation_digest",
    "stored_fingerprints",
]
