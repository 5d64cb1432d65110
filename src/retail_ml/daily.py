"""`make daily` and `make refresh`: land what arrived, build incrementally, publish if green.

    python -m retail_ml.daily daily --db warehouse/retail_ml.duckdb --raw-dir data/raw -- <dbt args>
    python -m retail_ml.daily refresh --db warehouse/retail_ml.duckdb --raw-dir data/raw --hours 1

daily (once a day, after midnight):
  1. takes the build lock (one writer at a time, as `make build`);
  2. lands the next day's files (retail_ml.landing; `--no-land` when files land by themselves);
  3. checks the raw files against the contract (footers) and the sources' freshness at the
     landing clock: a stale source warns; one past its `error_after` stops the run with one
     `DAILY RUN STOPPED:` line, before dbt (the `dbt parse` that gives the sources' rules runs
     in this process while 2 and 3 read the files, retail_ml.dbt_session);
  4. `dbt build` (without the dbt unit tests: they test the code, which `make build` and CI
     test; every data test runs): the incremental models process only the files landed since
     the last run and the rows they affect; the ML registry trains only when the training
     data changed (its fingerprint is a new version); everything else is rebuilt;
  5. drops dbt's scratch relations, publishes when fully green, and records what it built
     from (retail_ml.warehouse_state). The first run on a landing zone the warehouse was not
     built from (the generator's files of `make build`, a re-initialised landing zone) or
     with another PII key is a full refresh.
refresh (intraday, e.g. hourly):
  the same with the next `--hours` of files and `dbt build --selector intraday_refresh`
  (selectors.yml): staging's new files, then the fresh customers only (a row of theirs landed
  on the open day): their features, serving, scores and their recommendations, from the daily
  run's rows with the orders changed since restaged; everything of
  the closed days waits for the daily run. Published on top of the last green daily run
  (required: a refresh never publishes over a failed daily run).
Both pass the landing clock to dbt (RETAIL_ML_LANDED_THROUGH, docs: intraday_freshness): the
days before its day are closed, its own day is open.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from retail_ml import landing, warehouse_state
from retail_ml.build import EX_TEMPFAIL, WarehouseBusy, acquire_build_lock, check_writable
from retail_ml.dbt_session import DbtSession
from retail_ml.freshness import check_freshness
from retail_ml.heap import exec_with_allocator_env
from retail_ml.publish import cleanup_scratch_relations, default_published_dir, publish_or_explain
from retail_ml.raw_contract import check_landing_zone

EX_STALE = 3
REFRESH_SELECTOR = "intraday_refresh"
# dbt unit tests check the SQL on fixed inputs, not the data: the code a production run builds
# passed them in `make build` and CI (`make test`), so they would only repeat the same verdict
# on every run (dbt's own advice); the data tests all run.
PRODUCTION_RUN_ARGS = ("--exclude-resource-type", "unit_test")
CHECKED_THROUGH = "RETAIL_ML_CHECKED_THROUGH"


def landing_clock_value(clock: datetime) -> str:
    """The landing clock as dbt reads it (macro landing_clock): naive UTC, to the second."""
    return clock.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat(sep=" ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["daily", "refresh"])
    parser.add_argument("--db", type=Path,
                        default=Path(os.environ.get("RETAIL_ML_DB_PATH",
                                                    "warehouse/retail_ml.duckdb")))
    parser.add_argument("--raw-dir", type=Path,
                        default=Path(os.environ.get("RETAIL_ML_RAW_DIR", "data/raw")))
    parser.add_argument("--target-path", type=Path, default=Path("target"))
    parser.add_argument("--published-dir", type=Path, default=None)
    parser.add_argument("--hours", type=float, default=1.0, help="refresh: hours to land")
    parser.add_argument("--no-land", action="store_true",
                        help="build what is in the landing zone; land nothing")
    parser.epilog = "Arguments after `--` are passed to dbt."
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, dbt_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv \
        else (argv, [])
    args = parser.parse_args(ours)
    what = "DAILY RUN" if args.mode == "daily" else "REFRESH"
    dbt_args = [*PRODUCTION_RUN_ARGS, *dbt_args, "--target-path", str(args.target_path)]
    published_dir = args.published_dir or default_published_dir(args.db)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = acquire_build_lock(args.db)
        check_writable(args.db)
    except WarehouseBusy as busy:
        print(f"{what} NOT STARTED: {busy}")
        return EX_TEMPFAIL
    with lock:
        env = {**os.environ, "RETAIL_ML_DB_PATH": str(args.db),
               "RETAIL_ML_RAW_DIR": str(args.raw_dir)}
        state = landing.read_state(args.raw_dir)
        until = None
        if not args.no_land:
            if state is None:
                print(f"{what} NOT STARTED: {args.raw_dir} is not a simulated landing zone; "
                      "run `make landing-init` (or pass --no-land for a real one)")
                return 2
            until = (landing.next_day_end(state) if args.mode == "daily"
                     else state.landed_through + timedelta(hours=args.hours))
        # The landing clock, known before landing (landing moves it to `until`), splits the
        # closed days from the open day (docs: intraday_freshness).
        clock = until or (state.landed_through if state else datetime.now(UTC))
        env["RETAIL_ML_LANDED_THROUGH"] = landing_clock_value(clock)
        dbt = DbtSession(dbt_args, env)
        if until is not None:
            rows = landing.land_until(args.raw_dir, until)
            print(f"landed through {until.isoformat()}: "
                  + (", ".join(f"{t} {n}" for t, n in rows.items() if n) or "no rows"))
        preflight = check_landing_zone(args.raw_dir,
                                       passed=args.db.with_name(args.db.name + ".preflight.json"))
        if not preflight.ok:
            print(f"{what} STOPPED: raw data pre-flight failed: {preflight.errors[0]} "
                  f"({len(preflight.errors)} problem(s)); dbt was not run")
            return 2
        manifest = dbt.manifest()
        verdicts = check_freshness(args.raw_dir, manifest, clock)
        for verdict in verdicts:
            if verdict.status == "warn":
                print(f"WARNING {verdict.line(clock)}")
        errors = [v for v in verdicts if v.status == "error"]
        if errors:
            print(f"{what} STOPPED: {errors[0].line(clock)}; dbt was not run, nothing published")
            return EX_STALE

        fresh_start = warehouse_state.needs_full_refresh(args.db, args.raw_dir)
        # The grain tests of incremental tables check what changed since the last green daily
        # run (docs: incremental_tests); dbt reads this when the tests run, not when it parses.
        checked = None if fresh_start or args.mode != "daily" \
            else (warehouse_state.read_state(args.db) or {}).get("checked_through")
        if checked:
            os.environ[CHECKED_THROUGH] = checked
        else:
            os.environ.pop(CHECKED_THROUGH, None)
        if args.mode == "refresh":
            if fresh_start or not (warehouse_state.read_state(args.db) or {}).get("green"):
                print(f"{what} NOT STARTED: the warehouse has no green daily run on this "
                      "landing zone; run `make daily` first")
                return 2
            command = ["--selector", REFRESH_SELECTOR, *dbt_args]
        else:
            command = [*(["--full-refresh"] if fresh_start else []), *dbt_args]
            if fresh_start:
                print("first daily run on this landing zone (or a new PII key): full refresh")
            else:  # green again only after this build is published
                warehouse_state.write_state(args.db, args.raw_dir, green=False)
        returncode, hit_lock = dbt.build(command)
        dropped = cleanup_scratch_relations(args.db) if args.db.exists() else []
        if dropped:
            print(f"Dropped {len(dropped)} leftover dbt scratch relation(s): {', '.join(dropped)}")
        if hit_lock or returncode != 0:
            print(f"NOT PUBLISHED: dbt build failed (exit {returncode}); {published_dir} still "
                  "holds the last green build.")
            return returncode or EX_TEMPFAIL
        published = publish_or_explain(args.db, args.target_path, published_dir,
                                       require_all_built=args.mode == "daily")
        if published == 0 and args.mode == "daily":
            warehouse_state.write_state(args.db, args.raw_dir, green=True,
                                        checked_through=landing_clock_value(clock))
        return published


if __name__ == "__main__":
    # dbt runs in this process: its threads need one malloc arena from the start (retail_ml.heap).
    exec_with_allocator_env([sys.executable, "-m", "retail_ml.daily", *sys.argv[1:]])
    code = main()
    # dbt's parsed project and the Python models' imports are millions of objects: the
    # collector's passes over them while the interpreter shuts down cost ~0.9 s at `large`,
    # for memory the process hands back by exiting. Objects are still freed, files closed.
    gc.disable()
    gc.freeze()
    sys.exit(code)
