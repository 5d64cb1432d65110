"""Daily and intraday incremental runs (retail_ml.daily) on small landed data, for real.

One sequence is shared by every assertion (each step is a real dbt build, so it runs once):
a landing zone initialised from a generated future world, a first daily run (a full refresh),
two intraday refreshes, then a daily run SIGKILLed in staging, in the feature layer and in
the Python models and re-run to completion, then a daily run with nothing new. At the end,
every table of the warehouse equals a full rebuild of the same landed files made from an empty
warehouse under a small DuckDB memory limit (which completes by spilling to disk). In the
middle of the day, after the refreshes, what they rebuilt (and the closed day's tables) equals
a full rebuild of the files landed by then under the same landing clock.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR, run_dbt
from retail_ml import landing, warehouse_state
from retail_ml.publish import SCRATCH_MARKERS

END_DATE = date(2026, 11, 20)
HORIZON_DAYS = 4
# Append-only logs keep what was decided over time, which a rebuild from an empty warehouse
# cannot know: only the rows of the current decision are compared (timestamps of the decision
# excepted), or, for a summary of the whole log, nothing.
LOG_TABLES = {
    "ml_model_registry": (
        "select * exclude (trained_at) from {t} "
        "qualify row_number() over (order by trained_at desc) = 1"),
    "ml_model_champions": (
        "select * exclude (changed_at) from {t} "
        "qualify row_number() over (order by changed_at desc) = 1"),
    "ml_customer_score_history": (
        "select * from {t} where as_of_date = (select max(as_of_date) from {t})"),
    "ml_score_realised_lift": None,  # an aggregate of the whole score history
    # Not a log, but it carries the registry's training timestamp of the version it measures.
    "ml_model_metrics": "select * exclude (trained_at) from {t}",
}
SMALL_MEMORY_LIMIT = "100MB"
KILL_POINTS = {  # where the daily run is SIGKILLed: a line of dbt's output
    "staging": re.compile(r"OK created sql incremental model main\.base_shop__orders\b"),
    "features": re.compile(r"OK created sql incremental model main\.int_customer_events_known\b"),
    "python": re.compile(r"OK created python incremental model main\.ml_model_registry\b"),
}


@dataclass
class Sequence:
    work: Path
    raw_dir: Path
    db_path: Path
    published_dir: Path
    reference_db: Path
    outputs: dict[str, str]
    codes: dict[str, int | None]
    published_after_green: bytes = b""
    published_after_kills: bytes = b""
    tables_before_noop: Path | None = None
    reference_spilled: bool = False
    intraday_new_customers: tuple[int, int, int] = (0, 0, 0)
    after_refreshes: Path | None = None
    midday_reference: Path | None = None
    midday_without_clock: Path | None = None
    fresh_customers: int = 0


# The sequence and the reference sign models with the same key (the signature is compared).
SIGNING_KEY = {"RETAIL_ML_MODEL_SIGNING_KEY": "retail-ml-tests-only-model-signing-key-0123"}


def _env(work: Path, raw_dir: Path, db_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RETAIL_ML_RAW_DIR": str(raw_dir),
        "RETAIL_ML_DB_PATH": str(db_path),
        "RETAIL_ML_TARGET": "ci",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **SIGNING_KEY,
        **extra,
    }


def run_daily(seq: Sequence, mode: str, *args: str, kill_at: re.Pattern | None = None,
              name: str) -> int | None:
    """Runs `python -m retail_ml.daily`; with kill_at, SIGKILLs its whole process group (dbt
    included) on the first output line matching it. Returns the exit code (None: killed)."""
    argv = [sys.executable, "-m", "retail_ml.daily", mode, "--db", str(seq.db_path),
            "--raw-dir", str(seq.raw_dir), "--target-path", str(seq.work / "target"),
            "--published-dir", str(seq.published_dir), *args, "--",
            "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--log-path", str(seq.work / "logs"), "--no-use-colors"]
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        argv, env=_env(seq.work, seq.raw_dir, seq.db_path), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    lines = []
    killed = False
    for line in process.stdout:
        lines.append(line)
        if kill_at is not None and not killed and kill_at.search(line):
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
    code = process.wait()
    seq.outputs[name] = "".join(lines)
    seq.codes[name] = None if killed else code
    return seq.codes[name]


def scored_new_customers(seq: Sequence) -> tuple[int, int, int]:
    """Customers staged with a signup on the day being landed (hours ago): how many, how many
    the published copy scores, and how many it gives 10 recommendations."""
    state = landing.read_state(seq.raw_dir)
    assert state is not None and state.landed_through.hour > 0  # in the middle of a day
    day = state.landed_through.date()
    con = duckdb.connect()
    # Under its own name (warehouse): the staging views name their tables with it.
    con.execute(f"attach '{seq.db_path}' as warehouse (read_only)")
    con.execute(f"attach '{seq.published_dir / 'retail_ml.duckdb'}' as published (read_only)")
    row = con.execute(
        "with new as ("
        "    select distinct customer_id from warehouse.main.stg_shop__customers"
        "    where cast(signup_at as date) = ?"
        "), recs as ("
        "    select customer_id, count(*) as n from published.main.ml_product_recommendations"
        "    group by 1"
        ") select count(*), count(s.customer_id), count(*) filter (where r.n = 10) from new"
        " left join published.main.ml_customer_scores as s on s.customer_id = new.customer_id"
        " left join recs as r on r.customer_id = new.customer_id", [day]).fetchone()
    con.close()
    return row


def published_bytes(seq: Sequence) -> bytes:
    path = seq.published_dir / "retail_ml.duckdb"
    return path.read_bytes() + (seq.published_dir / "_published.json").read_bytes()


def snapshot(db_path: Path, target: Path) -> Path:
    """A copy of the warehouse file (checkpointed: dbt has closed it) to compare later."""
    shutil.copyfile(db_path, target)
    return target


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> Sequence:
    work = tmp_path_factory.mktemp("daily")
    seq = Sequence(work=work, raw_dir=work / "raw", db_path=work / "wh" / "warehouse.duckdb",
                   published_dir=work / "wh" / "published",
                   reference_db=work / "reference" / "warehouse.duckdb", outputs={}, codes={})
    landing.init_landing(seq.raw_dir, work / "future", "small", 42, END_DATE, HORIZON_DAYS)

    assert run_daily(seq, "daily", name="first") == 0, seq.outputs["first"][-4000:]
    assert run_daily(seq, "refresh", "--hours", "9", name="refresh_1") == 0, \
        seq.outputs["refresh_1"][-4000:]
    assert run_daily(seq, "refresh", "--hours", "5", name="refresh_2") == 0, \
        seq.outputs["refresh_2"][-4000:]
    seq.intraday_new_customers = scored_new_customers(seq)
    seq.published_after_green = published_bytes(seq)
    seq.after_refreshes = snapshot(seq.db_path, work / "after_refreshes.duckdb")
    seq.midday_reference = build_midday_reference(seq, with_clock=True)
    seq.midday_without_clock = build_midday_reference(seq, with_clock=False)
    # The rest of the day lands with the first killed run; the re-runs land nothing new.
    for point, pattern in KILL_POINTS.items():
        args = () if point == "staging" else ("--no-land",)
        run_daily(seq, "daily", *args, kill_at=pattern, name=f"killed_{point}")
    seq.published_after_kills = published_bytes(seq)
    assert run_daily(seq, "daily", "--no-land", name="after_kills") == 0, \
        seq.outputs["after_kills"][-4000:]
    assert run_daily(seq, "daily", name="late_rows_day") == 0, \
        seq.outputs["late_rows_day"][-4000:]
    seq.tables_before_noop = snapshot(seq.db_path, work / "before_noop.duckdb")
    assert run_daily(seq, "daily", "--no-land", name="nothing_new") == 0, \
        seq.outputs["nothing_new"][-4000:]

    # The reference: a full build of the same landed files from an empty warehouse, under a
    # memory limit (the profile's RETAIL_ML_MEMORY_LIMIT) small enough that DuckDB must spill
    # to <warehouse>.tmp/, which a thread watches while dbt runs.
    seq.reference_db.parent.mkdir(parents=True)
    spill_dir = seq.reference_db.with_name(seq.reference_db.name + ".tmp")
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() and not seq.reference_spilled:
            seq.reference_spilled = spill_dir.is_dir() and any(spill_dir.iterdir())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    settings = {"RETAIL_ML_MEMORY_LIMIT": SMALL_MEMORY_LIMIT, **SIGNING_KEY}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        reference = run_dbt(["build"], raw_dir=seq.raw_dir, db_path=seq.reference_db,
                            work_dir=work / "reference")
    finally:
        done.set()
        watcher.join()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value
    seq.outputs["reference"] = reference.output
    assert reference.returncode == 0 and not reference.failures(), reference.output[-4000:]
    return seq


# What an intraday refresh rebuilds, and the closed day's tables it reads: equal, in the middle
# of the day, to a full rebuild of the files landed by then under the same landing clock. (The
# intermediates and marts of a full rebuild also hold the open day's rows; the daily run
# rebuilds them.)
MIDDAY_TABLES = (
    "int_customers_fresh", "int_customer_features_fresh", "feat_customer_serving",
    "ml_customer_scores", "ml_product_recommendations_fresh", "ml_product_recommendations",
    "int_customer_features_requested", "ml_product_recommendations_closed",
)


def build_midday_reference(seq: Sequence, *, with_clock: bool) -> Path:
    """A full build, from an empty warehouse, of the files landed so far: under the landing
    clock the refreshes ran with, or without a clock (the open day then counts as closed, so
    every customer gets a row as of it)."""
    from retail_ml.daily import landing_clock_value

    state = landing.read_state(seq.raw_dir)
    assert state is not None
    name = "midday" if with_clock else "midday_without_clock"
    db = seq.work / name / "warehouse.duckdb"
    db.parent.mkdir(parents=True)
    settings = {"RETAIL_ML_LANDED_THROUGH": (landing_clock_value(state.landed_through)
                                             if with_clock else ""), **SIGNING_KEY}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        built = run_dbt(["build"], raw_dir=seq.raw_dir, db_path=db, work_dir=seq.work / name)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value
    seq.outputs[name] = built.output
    assert built.returncode == 0 and not built.failures(), built.output[-4000:]
    if with_clock:
        with duckdb.connect(str(db), read_only=True) as con:
            seq.fresh_customers = con.execute(
                "select count(*) from int_customers_fresh").fetchone()[0]
    return db


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = 'main' and table_type = 'BASE TABLE'",
        [catalog]).fetchall()
    return {name for (name,) in rows}


def differences(left: Path, right: Path,
                only: tuple[str, ...] | None = None) -> dict[str, tuple[int, int]]:
    """Tables (all, or `only` these) whose rows differ (EXCEPT ALL both ways): name ->
    (only left, only right)."""
    con = duckdb.connect()
    con.execute(f"attach '{left}' as l (read_only)")
    con.execute(f"attach '{right}' as r (read_only)")
    names = _tables(con, "l") | _tables(con, "r")
    if only is not None:
        assert set(only) <= names, set(only) - names
        names = set(only)
    found = {}
    for name in sorted(names):
        if name in LOG_TABLES and LOG_TABLES[name] is None:
            continue
        query = LOG_TABLES.get(name) or "select * from {t}"
        lhs, rhs = query.format(t=f"l.main.{name}"), query.format(t=f"r.main.{name}")
        only_left = con.execute(f"select count(*) from ({lhs} except all {rhs})").fetchone()[0]  # noqa: S608
        only_right = con.execute(f"select count(*) from ({rhs} except all {lhs})").fetchone()[0]  # noqa: S608
        if only_left or only_right:
            found[name] = (only_left, only_right)
    con.close()
    return found


def test_the_first_daily_run_is_a_full_refresh_and_later_ones_are_incremental(sequence):
    assert "full refresh" in sequence.outputs["first"]
    assert "full refresh" not in sequence.outputs["late_rows_day"]
    assert "START sql incremental model main.base_shop__orders" in sequence.outputs["refresh_1"]


def test_every_table_equals_a_full_rebuild_of_the_same_landed_files(sequence):
    con = duckdb.connect(str(sequence.db_path), read_only=True)
    assert con.execute("select count(*) from base_shop__orders").fetchone()[0] > 0
    con.close()
    assert differences(sequence.db_path, sequence.reference_db) == {}


def test_in_the_middle_of_the_day_refreshed_tables_equal_a_full_rebuild(sequence):
    """After two refreshes (14 h of the day landed), serving, the fresh customers' features,
    scores and recommendations, and the closed day's tables equal a full rebuild of the same
    files under the same landing clock; the refreshes did recompute fresh customers."""
    assert sequence.fresh_customers > 0
    assert differences(sequence.after_refreshes, sequence.midday_reference,
                       only=MIDDAY_TABLES) == {}


def test_fresh_rows_are_the_closed_days_sql_on_the_open_day(sequence):
    """A fresh customer's features (int_customer_features_fresh, computed from their own rows)
    equal their row of the whole feature history built with the open day as its last day
    (a build without a clock), every feature but the cross-sectional rank (ranked against the
    closed day's population instead, docs: intraday_freshness)."""
    columns = ", ".join(c for c in feature_columns() if c != "activity_rank_30d")
    con = duckdb.connect()
    con.execute(f"attach '{sequence.after_refreshes}' as fresh (read_only)")
    con.execute(f"attach '{sequence.midday_without_clock}' as whole (read_only)")
    fresh = f"select customer_id, {columns}, as_of_date from fresh.main.int_customer_features_fresh"  # noqa: S608
    whole = (f"select customer_id, {columns}, as_of_date "  # noqa: S608
             "from whole.main.int_customer_features_requested where is_latest and customer_id in "
             "(select customer_id from fresh.main.int_customer_features_fresh)")
    counts = [con.execute(f"select count(*) from ({q})").fetchone()[0] for q in (fresh, whole)]  # noqa: S608
    only_fresh = con.execute(f"select count(*) from ({fresh} except all {whole})").fetchone()[0]  # noqa: S608
    only_whole = con.execute(f"select count(*) from ({whole} except all {fresh})").fetchone()[0]  # noqa: S608
    con.close()
    assert counts[0] == sequence.fresh_customers > 0 and counts[0] == counts[1], counts
    assert (only_fresh, only_whole) == (0, 0)


def test_a_fresh_rows_rank_is_its_percent_rank_among_the_closed_days_population(sequence):
    """activity_rank_30d of a fresh row: its percent_rank among the last closed day's rows with
    its own closed-day row (if any) replaced by it, recomputed here in Python."""
    con = duckdb.connect(str(sequence.after_refreshes), read_only=True)
    keys = ["orders_30d", "net_sales_30d", "sessions_30d"]
    population = con.execute(f"select customer_id, {', '.join(keys)} "  # noqa: S608
                             "from int_customer_features_requested where is_latest").fetchall()
    fresh = con.execute(f"select customer_id, {', '.join(keys)}, activity_rank_30d "  # noqa: S608
                        "from int_customer_features_fresh").fetchall()
    con.close()
    assert fresh
    for customer_id, *values, rank in fresh:
        others = [tuple(row[1:]) for row in population if row[0] != customer_id]
        below = sum(1 for other in others if other < tuple(values))
        expected = below / len(others) if others else 0.0
        assert rank == expected, (customer_id, rank, expected)


def feature_columns() -> list[str]:
    """The published customer features (features/customers.yml)."""
    from retail_ml.features.spec import load_specs

    spec = load_specs(PROJECT_DIR)["customer"]
    return [f.name for f in spec.features if f.published]


def test_a_refresh_rebuilds_the_fresh_customers_not_the_closed_days(sequence):
    """The refresh's dbt selection: staging's new files and the fresh customers' path, not the
    feature history, the closed day's recommendations or the recommender's statistics."""
    out = sequence.outputs["refresh_2"]
    assert "OK created sql table model main.int_customer_features_fresh" in out
    assert "model main.ml_product_recommendations_fresh" in out
    assert "int_customer_features_requested" not in out
    assert "ml_product_recommendations_closed" not in out
    assert "ml_recommender_statistics" not in out  # the closed day's, learned by the daily run


def test_daily_and_refresh_runs_leave_the_unit_tests_to_the_build_and_ci(sequence):
    """dbt unit tests test the code on fixed inputs: `make build` and CI run them, a daily or
    intraday run does not (retail_ml.daily.PRODUCTION_RUN_ARGS); its data tests all run."""
    for name in ("first", "late_rows_day", "refresh_2"):
        out = sequence.outputs[name]
        assert "START unit_test" not in out, name
        assert "START test " in out, name


def test_equality_check_fails_on_one_changed_row(sequence, tmp_path):
    """The comparison is not vacuous: one changed staged row is found."""
    copy = snapshot(sequence.db_path, tmp_path / "changed.duckdb")
    with duckdb.connect(str(copy)) as con:
        con.execute("update base_shop__orders set channel = 'tampered' "
                    "where raw_row_id = (select min(raw_row_id) from base_shop__orders)")
    assert differences(copy, sequence.reference_db) == {"base_shop__orders": (1, 1)}


def test_a_run_with_nothing_new_changes_nothing(sequence):
    assert sequence.tables_before_noop is not None
    assert differences(sequence.tables_before_noop, sequence.db_path) == {}


def test_no_dbt_scratch_relation_is_left_behind(sequence):
    for db in (sequence.db_path, sequence.published_dir / "retail_ml.duckdb"):
        con = duckdb.connect(str(db), read_only=True)
        names = [n for (n,) in con.execute(
            "select table_name from information_schema.tables").fetchall()]
        con.close()
        assert not [n for n in names if any(m in n for m in SCRATCH_MARKERS)], names


def test_after_the_runs_the_published_copy_holds_the_private_rows(sequence):
    """Every run after the first started from the previous published copy and replaced only
    the buckets that differ in the bucketed tables (retail_ml.publish.reconcile_by_bucket):
    after the whole sequence every published table still equals its private table."""
    info = json.loads((sequence.published_dir / "_published.json").read_text())
    assert "fct_order_lines" in info["replaced_buckets"], info
    con = duckdb.connect()
    con.execute(f"attach '{sequence.db_path}' as private (read_only)")
    con.execute(f"attach '{sequence.published_dir / 'retail_ml.duckdb'}' as published "
                "(read_only)")
    tables = con.execute("select schema_name, table_name from duckdb_tables()"
                         " where database_name = 'published'").fetchall()
    found = {}
    for schema, name in tables:
        published, private = f"published.{schema}.{name}", f"private.main.{name}"
        differing = con.execute(
            f"select (select count(*) from (from {published} except all from {private})),"  # noqa: S608
            f" (select count(*) from (from {private} except all from {published}))").fetchone()
        if differing != (0, 0):
            found[name] = differing
    con.close()
    assert len(tables) > 20 and found == {}


def test_killed_runs_publish_nothing_and_the_registry_has_no_duplicate_version(sequence):
    for point in KILL_POINTS:
        assert sequence.codes[f"killed_{point}"] is None, (
            f"the run was not killed at {point}:\n" + sequence.outputs[f"killed_{point}"][-3000:])
    assert sequence.published_after_kills == sequence.published_after_green
    con = duckdb.connect(str(sequence.db_path), read_only=True)
    duplicates = con.execute("select model_version from ml_model_registry group by 1 "
                             "having count(*) > 1").fetchall()
    con.close()
    assert duplicates == []
    assert "PUBLISHED" in sequence.outputs["after_kills"]


def test_a_customer_who_signed_up_hours_ago_gets_a_score_and_ten_recommendations(sequence):
    """After the intraday refreshes (14 h of the day landed), every customer who signed up that
    day has a published score and 10 recommendations (cold start: no history yet)."""
    landed, scored, recommended = sequence.intraday_new_customers
    assert landed > 0 and landed == scored == recommended, sequence.intraday_new_customers


def test_a_build_under_a_small_memory_limit_completes_by_spilling(sequence):
    """The reference build ran with RETAIL_ML_MEMORY_LIMIT=SMALL_MEMORY_LIMIT, was green (the
    fixture asserts it) and wrote spill files while it ran."""
    assert sequence.reference_spilled, "no spill file appeared under the small memory limit"


def test_a_stale_source_stops_the_daily_run_with_one_line(sequence, tmp_path):
    """A copy of the landing zone whose orders feed stopped two days ago (files removed from
    the copy): the run stops before dbt, with one line naming the source."""
    raw = tmp_path / "raw"
    shutil.copytree(sequence.raw_dir, raw)
    state = landing.read_state(raw)
    assert state is not None
    landing.write_state(raw, landing.LandingState(state.future_dir,
                                                  state.landed_through + timedelta(hours=60)))
    stale = Sequence(work=tmp_path, raw_dir=raw, db_path=tmp_path / "wh.duckdb",
                     published_dir=tmp_path / "published", reference_db=tmp_path / "none",
                     outputs={}, codes={})
    code = run_daily(stale, "daily", "--no-land", name="stale")
    out = stale.outputs["stale"]
    stopped = [line for line in out.splitlines() if line.startswith("DAILY RUN STOPPED")]
    assert code == 3 and len(stopped) == 1, out
    assert "source shop." in stopped[0] and "error_after of 50 h" in stopped[0]
    assert "Running with dbt" not in out


def test_a_green_daily_run_records_its_landing_clock_and_the_next_tests_what_changed(sequence):
    """The last green daily run recorded its landing clock (checked_through), and that run, a
    daily run after a green one, compiled its grain tests over the changed key groups only."""
    from retail_ml.daily import landing_clock_value

    state, landed = warehouse_state.read_state(sequence.db_path), landing.read_state(
        sequence.raw_dir)
    assert state is not None and landed is not None and state["green"]
    assert state["checked_through"] == landing_clock_value(landed.landed_through)
    compiled = list((sequence.work / "target" / "compiled").rglob(
        "unique_base_shop__web_sessions_*raw_row_id.sql"))
    assert len(compiled) == 1 and "changed_keys" in compiled[0].read_text()


def test_a_daily_run_compares_the_strategies_on_the_dates_it_wrote(sequence, tmp_path):
    """assert_feat_customer_daily_equals_requested_features after a green daily run leaves out
    the recommender's evaluation cutoff that run held (its rows were kept), and compares it
    again when the last green run's clock is from before the cutoff moved (it was written)."""
    since = (warehouse_state.read_state(sequence.db_path) or {})["checked_through"]
    with duckdb.connect(str(sequence.db_path), read_only=True) as con:
        serving, cutoff = con.execute(
            "select max(as_of_date) filter (is_latest),"
            " max(as_of_date) filter (is_recommender_evaluation)"
            " from int_feature_dates_requested").fetchone()
    db = tmp_path / "wh" / "warehouse.duckdb"
    db.parent.mkdir()
    shutil.copyfile(sequence.db_path, db)

    def compared_dates(checked_through: str) -> set[str]:
        os.environ["RETAIL_ML_CHECKED_THROUGH"] = checked_through
        try:
            run = run_dbt(["test", "--select",
                           "assert_feat_customer_daily_equals_requested_features"],
                          raw_dir=sequence.raw_dir, db_path=db, work_dir=tmp_path / "dbt")
        finally:
            os.environ.pop("RETAIL_ML_CHECKED_THROUGH")
        assert [r["status"] for r in run.results] == ["pass"], run.output[-3000:]
        (compiled,) = (tmp_path / "dbt" / "target" / "compiled").rglob(
            "assert_feat_customer_daily_equals_requested_features.sql")
        return set(re.findall(r"cast\('(\d{4}-\d{2}-\d{2})' as date\)", compiled.read_text()))

    assert compared_dates(since) == {serving.isoformat()}
    # A month and a half earlier, the newest backtest window ended a month before: the cutoff
    # this run holds was written after that clock.
    earlier = (datetime.fromisoformat(since) - timedelta(days=45)).strftime("%Y-%m-%d %H:%M:%S")
    assert compared_dates(earlier) == {serving.isoformat(), cutoff.isoformat()}


class SeededCopy:
    """A copy of the daily runs' warehouse to seed rows into, and its dbt tests run as a daily
    run after the last green one would run them (scoped) or as a full build does (whole
    tables)."""

    def __init__(self, sequence: Sequence, tmp_path: Path) -> None:
        self.sequence, self.work = sequence, tmp_path / "dbt"
        self.since = (warehouse_state.read_state(sequence.db_path) or {})["checked_through"]
        self.db = tmp_path / "wh" / "warehouse.duckdb"  # the staging views name their catalog so
        self.db.parent.mkdir()
        shutil.copyfile(sequence.db_path, self.db)

    def insert(self, table: str, rows: str, *, landed_after_clock: bool = False) -> None:
        """Inserts the rows of `rows` (a SELECT with one `?`, bound to the clock) into `table`,
        with their own timestamps or as landed and usable an hour after the clock."""
        with duckdb.connect(str(self.db)) as con:
            if not landed_after_clock:
                con.execute(f"insert into {table} {rows}", [self.since])  # noqa: S608
                return
            con.execute(f"insert into {table} by name with old as ({rows}) "  # noqa: S608
                        "select * replace (cast(? as timestamp) + interval 1 hour as _loaded_at,"
                        " cast(? as timestamp) + interval 1 hour as known_at) from old",
                        [self.since] * 3)

    def failed(self, select: list[str], *, scoped: bool, expected: int) -> set[str]:
        """The unique ids of the selected tests that fail (`expected`: how many run)."""
        os.environ["RETAIL_ML_CHECKED_THROUGH"] = self.since if scoped else ""
        try:
            run = run_dbt(["test", "--select", *select], raw_dir=self.sequence.raw_dir,
                          db_path=self.db, work_dir=self.work)
        finally:
            os.environ.pop("RETAIL_ML_CHECKED_THROUGH")
        assert len(run.results) == expected, run.output[-3000:]
        return {r["unique_id"].split(".")[2] for r in run.results if r["status"] == "fail"}


def test_scoped_grain_tests_fail_on_a_changed_key_group_and_skip_the_checked_rows(
        sequence, tmp_path):
    """Seeded on a copy of the warehouse: an old web session row repeated with its old
    timestamps is outside a daily run's scope (found only by the whole-table test), the same
    row repeated as landed after the last green daily run fails the base and staging tests."""
    copy = SeededCopy(sequence, tmp_path)
    old_row = ("select * from base_shop__web_sessions where quarantine_rule is null "
               "and _loaded_at < cast(? as timestamp) order by raw_row_id limit 1")
    copy.insert("base_shop__web_sessions", old_row)
    grain_tests = ["test_name:unique,base_shop__web_sessions",
                   "test_name:unique,stg_shop__web_sessions"]

    def failed(scoped: bool) -> set[str]:
        return {name.split("_shop__")[0]
                for name in copy.failed(grain_tests, scoped=scoped, expected=2)}

    assert failed(scoped=False) == {"unique_base", "unique_stg"}
    assert failed(scoped=True) == set()
    copy.insert("base_shop__web_sessions", old_row, landed_after_clock=True)
    assert failed(scoped=True) == {"unique_base", "unique_stg"}


def test_scoped_relationships_fail_on_a_changed_orphan_and_skip_the_checked_rows(
        sequence, tmp_path):
    """Seeded on a copy of the warehouse: a staged order line naming no order, with an old
    line's timestamps, is outside a daily run's scope (found only by the whole-table test);
    the same line as landed after the last green daily run fails the scoped test."""
    copy = SeededCopy(sequence, tmp_path)
    orphan = ("select * replace (-1 as order_id) from base_shop__order_items"
              " where quarantine_rule is null and _loaded_at < cast(? as timestamp)"
              " order by raw_row_id limit 1")
    copy.insert("base_shop__order_items", orphan)

    def failed(scoped: bool) -> set[str]:
        # relationships_stg_shop__order_items_known_at__<column>__...: the column.
        return {name.split("__")[2] for name in copy.failed(
            ["test_name:relationships,stg_shop__order_items"], scoped=scoped, expected=2)}

    assert failed(scoped=False) == {"order_id"}
    assert failed(scoped=True) == set()
    copy.insert("base_shop__order_items", orphan, landed_after_clock=True)
    assert failed(scoped=True) == {"order_id"}
