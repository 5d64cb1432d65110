"""`make build`'s dbt step: one build at a time, write the private warehouse, publish if green.

    python -m retail_ml.build --db warehouse/retail_ml.duckdb [--target-path target] -- <dbt args>

1. Takes an exclusive lock (`<db>.build.lock`, released when the process ends); a second build
   started meanwhile, or a read-write connection holding the warehouse file, gets one line and
   exit code 75 (EX_TEMPFAIL) instead of dbt's traceback.
2. Runs `dbt build` (the venv's dbt, output streamed) against the private warehouse.
3. Drops the scratch relations dbt leaves behind (`__dbt_tmp`, `__dbt_backup`).
4. Prints the summary (retail_ml.summary), then publishes the public models
   (retail_ml.publish) only when the build was fully green; otherwise says in one line that
   nothing was published and exits with dbt's code.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import duckdb

from retail_ml.heap import allocator_env
from retail_ml.publish import (
    PUBLISHED_FILE_NAME,
    cleanup_scratch_relations,
    default_published_dir,
    publish_or_explain,
)
from retail_ml.summary import render_summary, stale_tables, table_row_counts
from retail_ml.warehouse_state import needs_full_refresh, write_state

EX_TEMPFAIL = 75
LOCK_ERROR = "Could not set lock on file"


class WarehouseBusy(RuntimeError):
    """Another build, or a read-write connection, holds the private warehouse."""


def acquire_build_lock(db_path: Path) -> IO[str]:
    """An exclusive, non-blocking lock on `<db>.build.lock`, held until the returned file is
    closed (or the process ends). Raises WarehouseBusy naming the holder's pid."""
    lock_path = db_path.with_name(db_path.name + ".build.lock")
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise WarehouseBusy(
            f"another build (pid {holder}) is writing {db_path}; this one did not start. "
            "Wait for it to finish; readers use the published copy meanwhile.") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def check_writable(db_path: Path) -> None:
    """Opens the warehouse read-write once, so a lock held by another process is reported in one
    line before dbt starts (dbt would print a long traceback per model)."""
    try:
        duckdb.connect(str(db_path)).close()
    except duckdb.IOException as error:
        if LOCK_ERROR not in str(error):
            raise
        raise WarehouseBusy(
            f"{db_path} is locked by another process (a build or a read-write connection); "
            "this build did not start. Analysts: read the published copy, read-only.") from None


def run_dbt(dbt_args: list[str], env: dict[str, str]) -> tuple[int, bool]:
    """Runs the venv's `dbt build`, streaming its output. Returns its exit code and whether it
    failed on DuckDB's file lock (a process grabbed the warehouse after check_writable)."""
    dbt = Path(sys.executable).with_name("dbt")
    hit_lock = False
    with subprocess.Popen(  # noqa: S603 - fixed executable, arguments from the caller
        [str(dbt), "build", *dbt_args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, bufsize=1,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            hit_lock = hit_lock or LOCK_ERROR in line
            sys.stdout.write(line)
        returncode = process.wait()
    return returncode, hit_lock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path,
                        default=Path(os.environ.get("RETAIL_ML_DB_PATH",
                                                    "warehouse/retail_ml.duckdb")))
    parser.add_argument("--target-path", type=Path, default=Path("target"))
    parser.add_argument("--published-dir", type=Path, default=None)
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER,
                        help="passed to `dbt build` after `--`")
    args = parser.parse_args(argv)
    dbt_args = [a for a in args.dbt_args if a != "--"] + ["--target-path", str(args.target_path)]
    published_dir = args.published_dir or default_published_dir(args.db)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = acquire_build_lock(args.db)
    except WarehouseBusy as busy:
        print(f"BUILD NOT STARTED: {busy}")
        return EX_TEMPFAIL
    try:
        check_writable(args.db)
    except WarehouseBusy as busy:
        lock.close()
        print(f"BUILD NOT STARTED: {busy}")
        return EX_TEMPFAIL
    with lock:
        env = allocator_env({**os.environ, "RETAIL_ML_DB_PATH": str(args.db)})
        raw_dir = Path(env.get("RETAIL_ML_RAW_DIR", "data/raw"))
        # Staging is incremental (by landed file): other raw files under the same names, or
        # another PII key, need a full refresh (retail_ml.warehouse_state).
        if needs_full_refresh(args.db, raw_dir) and "--full-refresh" not in dbt_args:
            print("the warehouse was not built from this landing zone and PII key: full refresh")
            dbt_args = ["--full-refresh", *dbt_args]
        returncode, hit_lock = run_dbt(dbt_args, env)
        if hit_lock:
            print(f"BUILD FAILED: {args.db} was locked by another process during the build; "
                  f"nothing was published. Retry when it is free.")
            return returncode or EX_TEMPFAIL
        dropped = cleanup_scratch_relations(args.db) if args.db.exists() else []
        if dropped:
            print(f"Dropped {len(dropped)} leftover dbt scratch relation(s): {', '.join(dropped)}")
        run_results = args.target_path / "run_results.json"
        if args.db.exists():
            print(render_summary(args.db, table_row_counts(args.db), stale_tables(run_results),
                                 query_path=published_dir / PUBLISHED_FILE_NAME))
        if returncode != 0:
            print(f"NOT PUBLISHED: dbt build failed (exit {returncode}); {published_dir} still "
                  "holds the last green build.")
            return returncode
        published = publish_or_explain(args.db, args.target_path, published_dir)
        if published == 0:
            write_state(args.db, raw_dir, green=True)
        return published


if __name__ == "__main__":
    sys.exit(main())
