"""Write-audit-publish: what is published, when, and what readers and a second build see.

Unit tests on a hand-made manifest; e2e tests on a copy of the session's built warehouse, with
two more real builds through `python -m retail_ml.build` (one failing a quality gate, one green)
while a reader holds the published copy open.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from retail_ml.build import acquire_build_lock
from retail_ml.publish import (
    NotPublishable,
    build_failures,
    plan_publication,
    publish_from_target,
    view_sql,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]


def node(name: str, *, access: str = "protected", materialized: str = "table",
         depends_on: tuple[str, ...] = (), code: str = "") -> dict:
    return {
        "unique_id": f"model.retail_ml.{name}", "name": name, "alias": name, "schema": "main",
        "resource_type": "model", "access": access, "config": {"materialized": materialized},
        "relation_name": f'"wh"."main"."{name}"', "compiled_code": code,
        "depends_on": {"nodes": list(depends_on)},
    }


def manifest_of(*nodes: dict) -> dict:
    return {"nodes": {n["unique_id"]: n for n in nodes}}


def test_the_plan_publishes_public_models_and_what_their_views_read():
    manifest = manifest_of(
        node("stg_a"),
        node("int_b", depends_on=("model.retail_ml.stg_a",)),
        node("int_v", materialized="view", depends_on=("model.retail_ml.int_b",)),
        node("feat_t", access="public", depends_on=("model.retail_ml.int_b",)),
        node("feat_v", access="public", materialized="view",
             depends_on=("model.retail_ml.int_v", "model.retail_ml.feat_t"),
             code='select * from "wh"."main"."int_v" join "wh"."main"."feat_t" using (id)'),
    )
    plan = plan_publication(manifest)
    assert [r.name for r in plan.public_tables] == ["feat_t"]
    assert [r.name for r in plan.public_views] == ["feat_v"]
    assert [r.name for r in plan.internal_views] == ["int_v"]
    assert [r.name for r in plan.internal_tables] == ["int_b"]  # not stg_a: a table is copied
    sql = view_sql(plan.public_views[0], {'"wh"."main"."int_v"': 'internal."int_v"',
                                          '"wh"."main"."feat_t"': 'main."feat_t"'})
    assert sql == 'select * from internal."int_v" join main."feat_t" using (id)'


def test_a_scratch_relation_is_never_planned():
    with pytest.raises(NotPublishable, match="scratch"):
        plan_publication(manifest_of(node("feat_t__dbt_tmp20261130", access="public")))


def test_only_a_fully_green_run_that_built_every_public_model_is_publishable():
    plan = plan_publication(manifest_of(node("feat_t", access="public"), node("stg_a")))
    green = {"results": [{"unique_id": "model.retail_ml.feat_t", "status": "success"},
                         {"unique_id": "test.retail_ml.x", "status": "pass"}]}
    assert build_failures(green, plan) == []
    failed = {"results": [*green["results"], {"unique_id": "test.retail_ml.y", "status": "fail"}]}
    assert build_failures(failed, plan) == ["test.retail_ml.y: fail"]
    partial = {"results": [{"unique_id": "model.retail_ml.stg_a", "status": "success"}]}
    assert build_failures(partial, plan) == ["model.retail_ml.feat_t: not built by this run"]


def build_command(db: Path, work: Path, *dbt_args: str) -> list[str]:
    return [sys.executable, "-m", "retail_ml.build", "--db", str(db),
            "--target-path", str(work / "target"), "--published-dir", str(work / "published"),
            "--", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--log-path", str(work / "logs"), "--no-use-colors", *dbt_args]


def build_env(raw_dir: Path) -> dict[str, str]:
    return {**os.environ, "RETAIL_ML_RAW_DIR": str(raw_dir), "RETAIL_ML_TARGET": "ci",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def run_build(db: Path, work: Path, raw_dir: Path, *dbt_args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed argv
        build_command(db, work, *dbt_args), env=build_env(raw_dir), capture_output=True,
        text=True, check=False, timeout=900,
    )


def wait_for_build_lock(db: Path, build: subprocess.Popen) -> None:
    """Until the running build holds its lock (it writes its pid into the lock file)."""
    lock = db.with_name(db.name + ".build.lock")
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text().strip() == str(build.pid)):
        assert build.poll() is None, "the build ended before it took its lock"
        assert time.monotonic() < deadline, "the build never took its lock"
        time.sleep(0.05)


def digest(directory: Path) -> dict[str, str]:
    return {str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def relation_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "select table_name from duckdb_tables() union all select view_name from duckdb_views()"
        " where not internal").fetchall()}


def one_date_of_features(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute(
        "select count(*), sum(orders_30d) from feat_customer_daily"
        " where as_of_date = date '2026-09-30'").fetchone()


@pytest.mark.e2e
def test_write_audit_publish_with_a_reader_holding_the_published_copy(built_warehouse, tmp_path):
    """Publish the session build; with a reader holding that copy open, a build failing a
    quality gate publishes nothing (byte-identical copy) and leaves no scratch relation, a
    second build started meanwhile prints one line, then a green build publishes."""
    private = tmp_path / "private" / built_warehouse.db_path.name
    private.parent.mkdir()
    shutil.copyfile(built_warehouse.db_path, private)
    published = tmp_path / "published"
    first = publish_from_target(private, built_warehouse.db_path.parent / "target", published)
    assert first.db_path == published / "retail_ml.duckdb"
    assert {p.stem for p in (published / "parquet").glob("*.parquet")} == {
        name for name, count in first.row_counts.items() if count is not None}
    before = digest(published)

    reader = duckdb.connect(str(first.db_path), read_only=True)
    features_before = one_date_of_features(reader)
    assert features_before[0] > 0
    assert not any("__dbt_" in name for name in relation_names(reader))

    with subprocess.Popen(  # noqa: S603 - fixed argv
            build_command(private, tmp_path, "--vars", "{ml_min_validation_auc: 1.01}"),
            env=build_env(built_warehouse.raw_dir), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True) as failing:
        # a second build while this one runs, for real: one line, nothing else happens
        wait_for_build_lock(private, failing)
        second = run_build(private, tmp_path / "second", built_warehouse.raw_dir)
        failing_output = failing.communicate(timeout=900)[0]
    assert second.returncode == 75
    assert (second.stdout + second.stderr).strip().splitlines() == [
        f"BUILD NOT STARTED: another build (pid {failing.pid}) is writing {private}; this one did"
        " not start. Wait for it to finish; readers use the published copy meanwhile."]
    assert failing.returncode != 0, failing_output[-3000:]
    assert "NOT PUBLISHED: dbt build failed" in failing_output
    assert digest(published) == before
    assert one_date_of_features(reader) == features_before
    with duckdb.connect(str(private), read_only=True) as con:  # a failed build cleans up too
        assert not any("__dbt_" in name for name in relation_names(con)), "scratch left behind"

    green = run_build(private, tmp_path, built_warehouse.raw_dir)
    assert green.returncode == 0, green.stdout[-5000:]
    assert "PUBLISHED" in green.stdout.splitlines()[-1]
    assert digest(published) != before
    assert one_date_of_features(reader) == features_before  # the old file, still readable
    reader.close()
    info = json.loads((published / "_published.json").read_text())
    run_results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    assert info["dbt_invocation_id"] == run_results["metadata"]["invocation_id"]
    with duckdb.connect(str(first.db_path), read_only=True) as con:
        assert one_date_of_features(con) == features_before
        assert not any("__dbt_" in name for name in relation_names(con))
    with duckdb.connect(str(private), read_only=True) as con:
        assert not any("__dbt_" in name for name in relation_names(con)), "scratch left behind"
    assert not [p.name for p in published.iterdir() if ".tmp-" in p.name]


def test_a_build_against_a_locked_warehouse_prints_one_line(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    holder = duckdb.connect(str(db))  # an analyst's read-write session, or a build
    try:
        result = run_build(db, tmp_path, tmp_path)
    finally:
        holder.close()
    assert result.returncode == 75
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("BUILD NOT STARTED:") and "locked" in lines[0]


def test_a_second_concurrent_build_prints_one_line(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with acquire_build_lock(db):
        result = run_build(db, tmp_path, tmp_path)
    assert result.returncode == 75
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and "another build" in lines[0], lines


def _private_warehouse(path: Path, a_value: int, b_value: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(f"create or replace table a as select {a_value} as x")  # noqa: S608
        con.execute(f"create or replace table b as select {b_value} as y")  # noqa: S608


def _published_values(published: Path) -> tuple[int, int, int]:
    with duckdb.connect(str(published / "retail_ml.duckdb"), read_only=True) as con:
        return (con.execute("select x from main.a").fetchone()[0],
                con.execute("select y from main.b").fetchone()[0],
                con.execute("select total from main.v").fetchone()[0])


def _results(*built: str) -> dict:
    return {"metadata": {"invocation_id": "test"},
            "results": [{"unique_id": f"model.retail_ml.{name}", "status": "success"}
                        for name in built]}


def test_a_partial_build_publishes_what_it_built_and_keeps_the_rest(tmp_path):
    """The intraday refresh's publication: tables the run built are copied, the others are
    kept from the previous publication of the same warehouse (not re-read from the private
    one), views are re-created over both; a full build copies everything."""
    from retail_ml.publish import publish

    private, published = tmp_path / "wh.duckdb", tmp_path / "published"
    manifest = manifest_of(
        node("a", access="public"), node("b", access="public"),
        node("v", access="public", materialized="view", depends_on=("model.retail_ml.a",
                                                                   "model.retail_ml.b"),
             code='select x + y as total from "wh"."main"."a", "wh"."main"."b"'))
    _private_warehouse(private, 1, 10)
    publish(private, manifest, _results("a", "b", "v"), published)
    b_parquet = (published / "parquet" / "b.parquet").read_bytes()
    assert _published_values(published) == (1, 10, 11)

    _private_warehouse(private, 2, 20)  # b changed too, but this run did not build it
    result = publish(private, manifest, _results("a", "v"), published, require_all_built=False)
    assert _published_values(published) == (2, 10, 12)
    assert result.row_counts == {"a": 1, "b": 1, "v": None}
    assert (published / "parquet" / "b.parquet").read_bytes() == b_parquet
    info = json.loads((published / "_published.json").read_text())
    assert info["kept_from_previous"] == ["b"]

    # From another private warehouse nothing is kept; a full build always copies everything.
    other = tmp_path / "other.duckdb"
    _private_warehouse(other, 3, 30)
    publish(other, manifest, _results("a", "v"), published, require_all_built=False)
    assert _published_values(published) == (3, 30, 33)
    _private_warehouse(private, 4, 40)
    publish(private, manifest, _results("a", "b", "v"), published)
    assert _published_values(published) == (4, 40, 44)
    assert not [p.name for p in published.iterdir() if ".tmp-" in p.name]


def test_the_parquet_files_hold_the_published_rows_and_a_failed_export_publishes_nothing(
        tmp_path):
    """Each Parquet file holds its published table's rows. When an export fails (here: a table
    whose file cannot be created), nothing is published, the previous copy stays byte-identical
    and no temporary file is left."""
    from retail_ml.publish import publish

    private, published = tmp_path / "wh.duckdb", tmp_path / "published"
    manifest = manifest_of(node("a", access="public"), node("b", access="public"))
    with duckdb.connect(str(private)) as con:
        con.execute("create table a as select range as x, range % 7 as k from range(50000)")
        con.execute("create table b as select 'b' || range as y from range(3)")
        con.execute('create table "c/d" as select 1 as z')
    publish(private, manifest, _results("a", "b"), published)
    with duckdb.connect(str(published / "retail_ml.duckdb"), read_only=True) as con:
        for table in ("a", "b"):
            parquet = str(published / "parquet" / f"{table}.parquet")
            differences = con.execute(
                f"select count(*) from ((from main.{table} except all from read_parquet(?))"  # noqa: S608
                f" union all (from read_parquet(?) except all from main.{table}))",
                [parquet, parquet]).fetchone()[0]
            assert differences == 0, table
    before = digest(published)

    broken = manifest_of(node("a", access="public"), node("c/d", access="public"))
    with pytest.raises(duckdb.IOException):
        publish(private, broken, _results("a", "c/d"), published)
    assert digest(published) == before
    assert not [p.name for p in published.iterdir() if ".tmp-" in p.name]


def _bucketed(name: str, bucket: str, columns: tuple[str, ...]) -> dict:
    declared = node(name, access="public")
    declared["config"]["meta"] = {"publication_bucket": bucket}
    declared["columns"] = {column: {"name": column} for column in columns}
    return declared


def _rows_differing(published: Path, private: Path, table: str) -> tuple[int, int]:
    with duckdb.connect(str(published / "retail_ml.duckdb"), read_only=True) as con:
        con.execute(f"attach '{private}' as private (read_only)")
        return con.execute(
            f"select (select count(*) from (from main.{table} except all "  # noqa: S608
            f"from private.main.{table})), (select count(*) from (from private.main.{table}"
            f" except all from main.{table}))").fetchone()


def test_a_bucketed_table_is_reconciled_from_the_previous_copy_to_the_private_rows(tmp_path):
    """A table with meta.publication_bucket is not copied again: starting from the previous
    copy, exactly the buckets whose rows differ are replaced, whatever changed in them (a
    value of another column, a row moved to another bucket, a deleted row, a duplicate, a
    null bucket); its Parquet file follows. A changed column list writes a new file."""
    from retail_ml.publish import publish

    private, published = tmp_path / "wh.duckdb", tmp_path / "published"
    manifest = manifest_of(_bucketed("a", "day", ("id", "day", "amount")),
                           node("b", access="public"))
    with duckdb.connect(str(private)) as con:
        con.execute("create table a as select range as id, range % 10 as day,"
                    " cast(range * 3 as decimal(18, 2)) as amount from range(100)")
        con.execute("create table b as select 1 as y")
    publish(private, manifest, _results("a", "b"), published)
    assert _rows_differing(published, private, "a") == (0, 0)

    with duckdb.connect(str(private)) as con:
        con.execute("update a set amount = amount + 1 where id = 12")    # bucket 2: a value
        con.execute("update a set day = 4 where id = 33")                # 3 -> 4: moved
        con.execute("delete from a where id = 55")                       # bucket 5: deleted
        con.execute("insert into a select * from a where id = 66")       # bucket 6: duplicate
        con.execute("insert into a values (100, null, 1), (101, 19, 2)")  # new buckets
    publish(private, manifest, _results("a", "b"), published)
    assert _rows_differing(published, private, "a") == (0, 0)
    info = json.loads((published / "_published.json").read_text())
    # null, 19 (1 row each), 2 (10), 3 (9), 4 (11), 5 (9), 6 (11): replaced; the other 5 buckets
    # of 10 were left as they were.
    assert info["replaced_buckets"]["a"] == {"buckets": 7, "rows": 52}
    assert "b" not in info["replaced_buckets"]
    with duckdb.connect(str(published / "retail_ml.duckdb"), read_only=True) as con:
        parquet = str(published / "parquet" / "a.parquet")
        assert con.execute(
            "select count(*) from ((from main.a except all from read_parquet(?))"
            " union all (from read_parquet(?) except all from main.a))",
            [parquet, parquet]).fetchone()[0] == 0

    publish(private, manifest, _results("a", "b"), published)  # nothing changed
    info = json.loads((published / "_published.json").read_text())
    assert info["replaced_buckets"]["a"] == {"buckets": 0, "rows": 0}

    with duckdb.connect(str(private)) as con:
        con.execute("alter table a add column note varchar default 'n'")
    publish(private, manifest, _results("a", "b"), published)
    assert _rows_differing(published, private, "a") == (0, 0)
    assert "a" not in json.loads((published / "_published.json").read_text())["replaced_buckets"]


def test_a_bucket_column_the_model_does_not_declare_is_refused():
    manifest = manifest_of(_bucketed("a", "daye", ("id", "day")))
    with pytest.raises(NotPublishable, match="publication_bucket 'daye' is not one of"):
        plan_publication(manifest)


def test_a_column_dropped_from_the_publication_leaves_no_bytes_in_the_published_file(tmp_path):
    """A publication starts from the previous copy only when every table it holds is still
    published with the same columns: a column dropped (say, found to be sensitive) would
    otherwise stay in the copied file's free blocks, readable by anyone with the file."""
    from retail_ml.publish import publish

    private, published = tmp_path / "wh.duckdb", tmp_path / "published"
    manifest = manifest_of(node("a", access="public"), _bucketed("b", "day", ("id", "day")))
    secret = "a-value-no-reader-may-see-" + "5f3c9e1d7b2a4086"
    with duckdb.connect(str(private)) as con:
        # Copied first and large: its blocks sit before b's, so a drop frees them mid-file.
        con.execute(f"create table a as select range as y, '{secret}' || (range % 7) as leaked"  # noqa: S608
                    " from range(2000000)")
        con.execute("create table b as select range as id, range % 3 as day from range(300000)")
    publish(private, manifest, _results("a", "b"), published)
    assert secret.encode() in (published / "retail_ml.duckdb").read_bytes()

    with duckdb.connect(str(private)) as con:
        con.execute("alter table a drop column leaked")
    publish(private, manifest, _results("a", "b"), published)
    assert secret.encode() not in (published / "retail_ml.duckdb").read_bytes()
    assert json.loads((published / "_published.json").read_text())["replaced_buckets"] == {}

    publish(private, manifest, _results("a", "b"), published)  # unchanged columns: reconciled
    assert "b" in json.loads((published / "_published.json").read_text())["replaced_buckets"]
