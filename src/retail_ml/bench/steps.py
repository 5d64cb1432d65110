"""The steps the bench runs in child processes: `python -m retail_ml.bench.steps <step> ...`.

Each writes a small JSON result file; the parent measures wall time and peak RSS around it.

- `raw-load`: the raw-load floor, DuckDB reading every raw table (all partitions) into tables of
  a fresh database file, with the warehouse's thread and memory settings;
- `pandas`: the notebook's `build_customer_features` for the given as-of dates.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from datetime import date
from pathlib import Path
from types import ModuleType


def raw_tables(raw_dir: Path) -> list[str]:
    """The raw tables: every folder of raw_dir holding `load_date=*` partitions, sorted."""
    return sorted(
        path.name
        for path in Path(raw_dir).iterdir()
        if path.is_dir() and any(path.glob("load_date=*"))
    )


def load_raw(raw_dir: Path, db_path: Path) -> dict[str, int]:
    """Reads every raw table into a table of a new DuckDB file; returns row counts per table."""
    import duckdb

    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"set threads = {int(os.environ.get('RETAIL_ML_THREADS', '2'))}")
        memory_limit = os.environ.get("RETAIL_ML_MEMORY_LIMIT", "8GB").replace("'", "")
        con.execute(f"set memory_limit = '{memory_limit}'")
        con.execute("set TimeZone = 'UTC'")
        counts = {}
        for table in raw_tables(raw_dir):
            pattern = str(Path(raw_dir) / table / "load_date=*" / "*.parquet")
            con.execute(
                f'create table "{table}" as '  # noqa: S608 - table names are folder names
                "select * from read_parquet(?, hive_partitioning = false)",
                [pattern],
            )
            counts[table] = con.execute(f'select count(*) from "{table}"').fetchone()[0]  # noqa: S608
    finally:
        con.close()
    return counts


def load_notebook(path: Path) -> ModuleType:
    """Imports the notebook (a percent-format script) by path."""
    spec = importlib.util.spec_from_file_location("customer_features_notebook", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def run_pandas(
    notebook: Path, raw_dir: Path, seeds_dir: Path, as_of_dates: list[date]
) -> dict[str, object]:
    """The pandas reference on the given dates; rows per date."""
    features = load_notebook(notebook).build_customer_features(raw_dir, as_of_dates, seeds_dir)
    per_date = features.groupby("as_of_date").size()
    return {
        "rows": int(len(features)),
        "rows_per_date": {str(k.date() if hasattr(k, "date") else k): int(v)
                          for k, v in per_date.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retail_ml.bench.steps")
    sub = parser.add_subparsers(dest="step", required=True)
    raw = sub.add_parser("raw-load")
    raw.add_argument("--raw-dir", type=Path, required=True)
    raw.add_argument("--db", type=Path, required=True)
    raw.add_argument("--out", type=Path, required=True)
    pandas = sub.add_parser("pandas")
    pandas.add_argument("--notebook", type=Path, required=True)
    pandas.add_argument("--raw-dir", type=Path, required=True)
    pandas.add_argument("--seeds-dir", type=Path, required=True)
    pandas.add_argument("--as-of", dest="as_of_dates", type=date.fromisoformat, action="append",
                        required=True)
    pandas.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.step == "raw-load":
        result: dict[str, object] = {"rows": load_raw(args.raw_dir, args.db)}
    else:
        result = run_pandas(args.notebook, args.raw_dir, args.seeds_dir, args.as_of_dates)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
