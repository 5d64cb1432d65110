"""Write-audit-publish: copy the public models of a green build into the published warehouse.

`dbt build` writes the private warehouse (`RETAIL_ML_DB_PATH`): every layer, including staging
and the build's own scratch relations (`__dbt_tmp`, `__dbt_backup`). Analysts and BI tools read
`warehouse/published/` instead, which this module replaces only after a fully green build:

- `retail_ml.duckdb`: the models with `access: public` (read from dbt's manifest.json), copied
  into a new DuckDB file under a temporary name, checkpointed, made read-only and swapped in with
  `os.replace`. A reader holding the previous file open keeps reading it (the rename does not
  touch its inode) and never blocks a build; the next connection sees the new file.
- A public model materialised as a view (`feat_customer_daily` computes any date at query time)
  is re-created over copies of the tables it reads: public ones are in `main` anyway, the others
  are copied into the schema `internal` (read by the view, not meant to be queried directly).
- `parquet/<table>.parquet`: every public table for any SQL client, each file swapped in by
  `os.replace`. Views are not exported (a view such as feat_customer_daily is every customer x
  every day; read it from the DuckDB file with a filter on `as_of_date`).
- `_published.json`: when, from which dbt invocation, which relations and row counts.

A table whose model declares `meta.publication_bucket` (a column, e.g. a date: its values group
the rows the publication compares and replaces together) is not copied again when the previous
copy of the same private warehouse holds it with the same columns: the publication starts from
that copy (a file copy) and replaces only the buckets whose rows differ, found by comparing per
bucket the row count and the sum of the rows' hashes on both sides (reconcile_by_bucket). That
is correct for any bucket column (a row that moved between buckets changes both); a column whose
values a daily run touches few of makes it cheap (README: "A day costs what it changed").

A build that is not fully green (any error, failed test or skipped node, or a public model it
did not build) publishes nothing: the previous published copy stays byte-identical.

    python -m retail_ml.publish --db warehouse/retail_ml.duckdb --target-path target
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

PUBLISHED_FILE_NAME = "retail_ml.duckdb"
INTERNAL_SCHEMA = "internal"
# "no-op": exposures (and other nodes with nothing to run) in run_results.json.
GREEN_STATUSES = frozenset({"success", "pass", "warn", "no-op"})
# Relations dbt's materialisations create while they swap tables; never published, and dropped
# from the private warehouse after a build (cleanup_scratch_relations).
SCRATCH_MARKERS = ("__dbt_tmp", "__dbt_backup")


class NotPublishable(RuntimeError):
    """The build is not fully green (or its artefacts are missing): nothing was published."""


@dataclass(frozen=True)
class Relation:
    """A model relation to publish: where it lives in the private warehouse and how to copy it."""

    unique_id: str
    name: str
    schema: str
    materialized: str
    relation_name: str
    compiled_code: str = ""
    depends_on: tuple[str, ...] = ()
    bucket_column: str | None = None

    @property
    def is_view(self) -> bool:
        return self.materialized == "view"


@dataclass(frozen=True)
class PublishPlan:
    """What goes into the published file: public tables and views in `main`, and the non-public
    tables the public views read in `internal`."""

    public_tables: tuple[Relation, ...]
    public_views: tuple[Relation, ...]
    internal_tables: tuple[Relation, ...] = ()
    internal_views: tuple[Relation, ...] = ()


@dataclass(frozen=True)
class PublishResult:
    """Where the published copy is and what it holds (relation -> row count; None for views)."""

    db_path: Path
    parquet_dir: Path
    row_counts: dict[str, int | None] = field(default_factory=dict)

    def one_line(self) -> str:
        tables = sum(1 for count in self.row_counts.values() if count is not None)
        views = len(self.row_counts) - tables
        return (f"PUBLISHED {tables} tables and {views} view(s) of the green build to "
                f"{self.db_path} (+ Parquet in {self.parquet_dir})")


def _relation(node: Mapping[str, Any]) -> Relation:
    return Relation(
        unique_id=node["unique_id"],
        name=node.get("alias") or node["name"],
        schema=node["schema"],
        materialized=node["config"]["materialized"],
        relation_name=node.get("relation_name") or "",
        compiled_code=node.get("compiled_code") or "",
        depends_on=tuple(node.get("depends_on", {}).get("nodes", [])),
        bucket_column=(node["config"].get("meta") or {}).get("publication_bucket"),
    )


def is_scratch(name: str) -> bool:
    """True for dbt's temporary/backup relations (`<model>__dbt_tmp<…>`, `<model>__dbt_backup`)."""
    return any(marker in name for marker in SCRATCH_MARKERS)


def plan_publication(manifest: Mapping[str, Any]) -> PublishPlan:
    """The relations to publish, from dbt's manifest: models with `access: public`, and the
    non-public models (transitively) read by the public views. Ephemeral models are inlined by
    dbt and not relations; scratch relations are never part of the plan."""
    nodes = manifest["nodes"]
    public = [
        node for node in nodes.values()
        if node["resource_type"] == "model" and node.get("access") == "public"
        and node["config"]["materialized"] != "ephemeral"
    ]
    public_ids = {node["unique_id"] for node in public}
    internal: dict[str, Relation] = {}
    pending = [dep for node in public if node["config"]["materialized"] == "view"
               for dep in node.get("depends_on", {}).get("nodes", [])]
    while pending:
        unique_id = pending.pop()
        if unique_id in public_ids or unique_id in internal or unique_id not in nodes:
            continue
        node = nodes[unique_id]
        if node["resource_type"] not in {"model", "seed", "snapshot"}:
            continue
        internal[unique_id] = _relation(node)
        if node["config"]["materialized"] == "view":
            pending.extend(node.get("depends_on", {}).get("nodes", []))
    relations = sorted((_relation(node) for node in public), key=lambda r: r.name)
    for relation in [*relations, *internal.values()]:
        if is_scratch(relation.name):
            raise NotPublishable(f"refusing to publish a scratch relation: {relation.name}")
        declared = nodes[relation.unique_id].get("columns") or {}
        if relation.bucket_column and relation.bucket_column not in declared:
            raise NotPublishable(f"{relation.name}: meta.publication_bucket "
                                 f"{relation.bucket_column!r} is not one of its columns")
    internal_sorted = sorted(internal.values(), key=lambda r: r.name)
    return PublishPlan(
        public_tables=tuple(r for r in relations if not r.is_view),
        public_views=tuple(r for r in relations if r.is_view),
        internal_tables=tuple(r for r in internal_sorted if not r.is_view),
        internal_views=tuple(r for r in internal_sorted if r.is_view),
    )


def build_failures(run_results: Mapping[str, Any], plan: PublishPlan,
                   require_all_built: bool = True) -> list[str]:
    """Why this build may not be published (empty when it is fully green): every node of the
    run must have succeeded, and every public model must have been (re)built by it (unless
    `require_all_built` is False: the intraday refresh rebuilds a selection on top of a green
    daily run, retail_ml.daily)."""
    results = run_results.get("results", [])
    problems = [
        f"{result['unique_id']}: {result['status']}"
        for result in results if result["status"] not in GREEN_STATUSES
    ]
    built = {result["unique_id"] for result in results if result["status"] in GREEN_STATUSES}
    problems += [
        f"{relation.unique_id}: not built by this run"
        for relation in (*plan.public_tables, *plan.public_views)
        if require_all_built and relation.unique_id not in built
    ]
    return problems


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def view_sql(view: Relation, placement: Mapping[str, str]) -> str:
    """The view's compiled SELECT with every relation it reads pointing at its published copy
    (`main."x"` or `internal."x"`, no catalog: the file may be opened or attached under any
    name). Fails if a reference to the private warehouse would remain."""
    sql = view.compiled_code
    if not sql:
        raise NotPublishable(f"{view.unique_id} has no compiled SQL in the manifest")
    for relation_name, target in sorted(placement.items(), key=lambda kv: -len(kv[0])):
        sql = sql.replace(relation_name, target)
    return sql


def _previous_publication(published_dir: Path, private_db: Path,
                          plan: PublishPlan) -> dict | None:
    """The current publication's record if it was published from `private_db` (its tables are
    then those of the last green build of that warehouse) and every table it holds is still
    planned with the same columns as in the private warehouse, else None. So a table or a
    column dropped from the publication (say, found to be sensitive) goes with a new file: a
    copy would keep its bytes in the file's free blocks."""
    info_path = published_dir / "_published.json"
    if not (published_dir / PUBLISHED_FILE_NAME).exists() or not info_path.exists():
        return None
    info = json.loads(info_path.read_text())
    if info.get("private_warehouse") != str(private_db):
        return None
    planned = dict(_planned_tables(plan))
    with duckdb.connect(str(published_dir / PUBLISHED_FILE_NAME), read_only=True) as con:
        con.execute(f"attach {_literal(str(private_db))} as private (read_only)")
        database = con.execute("select current_database()").fetchone()[0]
        for schema, name in _held_tables(con):
            table = planned.get((schema, name))
            if table is None or (_columns(con, database, schema, name)
                                 != _columns(con, "private", table.schema, table.name)):
                return None
    return info


def _planned_tables(plan: PublishPlan) -> list[tuple[tuple[str, str], Relation]]:
    """(schema, name) in the published file -> the relation, for every planned table."""
    return ([(("main", t.name), t) for t in plan.public_tables]
            + [((INTERNAL_SCHEMA, t.name), t) for t in plan.internal_tables])


def _held_tables(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(schema, name) of every table of the connection's own database."""
    return set(con.execute("select schema_name, table_name from duckdb_tables()"
                           " where database_name = current_database()").fetchall())


def _tables_to_keep(con: duckdb.DuckDBPyConnection, plan: PublishPlan,
                    built: set[str]) -> set[tuple[str, str]]:
    """The planned tables this build did not (re)build that the previous copy already holds:
    unchanged since the last green build published them."""
    present = _held_tables(con)
    return {key for key, t in _planned_tables(plan)
            if t.unique_id not in built and key in present}


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str,
             name: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ?"
        " and schema_name = ? and table_name = ? order by column_index",
        [database, schema, name]).fetchall()


def _tables_to_reconcile(con: duckdb.DuckDBPyConnection, plan: PublishPlan,
                         kept: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The planned tables with a bucket column that the previous copy holds (with the private
    table's columns: _previous_publication reuses no other copy) and that are not kept whole."""
    present = _held_tables(con)
    return {key for key, t in _planned_tables(plan)
            if t.bucket_column and key not in kept and key in present}


def reconcile_by_bucket(con: duckdb.DuckDBPyConnection, schema: str,
                        table: Relation) -> tuple[int, int]:
    """Makes the copy's `schema.table` hold the rows of the private warehouse's table: per
    value of the bucket column, the row count and the sum of the rows' hashes are compared on
    both sides, and the rows of every bucket that differs are deleted and copied again. Equal
    fingerprints mean equal rows up to a 64-bit hash collision. Returns (buckets replaced, rows
    copied)."""
    target = f"{_quote(schema)}.{_quote(table.name)}"
    source = f"private.{_quote(table.schema)}.{_quote(table.name)}"
    bucket = f"hash({_quote(table.bucket_column or '')})"
    # Every column by name, in order (hash is order- and null-position-sensitive), so no
    # column can shadow the row; the bucket's hash is never null, so a null bucket value is a
    # bucket like any other.
    row = "hash(" + ", ".join(_quote(name) for name, _ in
                              _columns(con, "private", table.schema, table.name)) + ")"

    def fingerprints(relation: str) -> str:
        return (f"select {bucket} as bucket, count(*) as row_count,"  # noqa: S608 - manifest names
                f" sum({row}) as row_hashes from {relation} group by all")

    con.execute(
        "create or replace temp table changed_buckets as"  # noqa: S608 - manifest names
        f" select bucket from ({fingerprints(target)}) as published"
        f" full outer join ({fingerprints(source)}) as private using (bucket)"
        " where published.row_count is distinct from private.row_count"
        " or published.row_hashes is distinct from private.row_hashes")
    buckets = con.execute("select count(*) from changed_buckets").fetchone()[0]
    rows = 0
    if buckets:
        con.execute(f"delete from {target} where {bucket} in "  # noqa: S608
                    "(select bucket from changed_buckets)")
        rows = con.execute(f"insert into {target} select * from {source} where {bucket} in "  # noqa: S608
                           "(select bucket from changed_buckets)").fetchone()[0]
    con.execute("drop table changed_buckets")
    return buckets, rows


def _drop_all_but(con: duckdb.DuckDBPyConnection, kept: set[tuple[str, str]]) -> None:
    """Empties the copied publication except the kept tables (views first: they read tables)."""
    views = con.execute(
        "select schema_name, view_name from duckdb_views() "
        "where database_name = current_database() and not internal").fetchall()
    for schema, name in views:
        con.execute(f"drop view {_quote(schema)}.{_quote(name)}")
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database()").fetchall()
    for schema, name in tables:
        if (schema, name) not in kept:
            con.execute(f"drop table {_quote(schema)}.{_quote(name)}")


def _copy_table(con: duckdb.DuckDBPyConnection, schema: str, table: Relation) -> None:
    con.execute(f"create table {_quote(schema)}.{_quote(table.name)} as select * from "  # noqa: S608 - manifest names
                f"private.{_quote(table.schema)}.{_quote(table.name)}")


def _row_count(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> int:
    return con.execute(f"select count(*) from {_quote(schema)}.{_quote(name)}").fetchone()[0]  # noqa: S608


def _copy_comments(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    """Keeps the descriptions dbt persisted (persist_docs) on the published tables and columns."""
    wanted = list(names)
    if not wanted:
        return
    rows = con.execute(
        "select table_name, comment from duckdb_tables() where database_name = 'private'"
        " and schema_name = 'main' and comment is not null and list_contains(?, table_name)",
        [wanted]).fetchall()
    for table, comment in rows:
        con.execute(f"comment on table main.{_quote(table)} is {_literal(comment)}")
    rows = con.execute(
        "select c.table_name, c.column_name, c.comment from duckdb_columns() as c"
        " inner join duckdb_tables() as t on c.table_oid = t.table_oid"
        " where c.database_name = 'private' and c.schema_name = 'main'"
        " and c.comment is not null and list_contains(?, c.table_name)", [wanted]).fetchall()
    for table, column, comment in rows:
        con.execute(f"comment on column main.{_quote(table)}.{_quote(column)}"
                    f" is {_literal(comment)}")


def publish(
    private_db: Path,
    manifest: Mapping[str, Any],
    run_results: Mapping[str, Any],
    published_dir: Path,
    require_all_built: bool = True,
) -> PublishResult:
    """Publishes the public models of a fully green build (see the module docstring).

    Raises NotPublishable, leaving `published_dir` untouched, when the build is not green. The
    private warehouse is only read (attached read-only).

    When the current published copy is of the same private warehouse, the publication starts
    from a file copy of it: the tables with a bucket column are reconciled (reconcile_by_bucket)
    instead of copied again. A partial build (`require_all_built=False`: the intraday refresh on
    top of a green daily run) also keeps the tables it did not build as that copy holds them,
    where the last green build put them. Every other table is copied.
    """
    plan = plan_publication(manifest)
    problems = build_failures(run_results, plan, require_all_built)
    if problems:
        raise NotPublishable(f"{len(problems)} node(s) not green, e.g. {problems[0]}")
    published_dir.mkdir(parents=True, exist_ok=True)
    final_db = published_dir / PUBLISHED_FILE_NAME
    parquet_dir = published_dir / "parquet"
    token = f"{os.getpid()}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
    temp_db = published_dir / f".{PUBLISHED_FILE_NAME}.tmp-{token}"
    temp_parquet = published_dir / f".parquet.tmp-{token}"
    temp_parquet.mkdir()
    placement = {r.relation_name: f"main.{_quote(r.name)}"
                 for r in (*plan.public_tables, *plan.public_views)}
    placement |= {r.relation_name: f"{INTERNAL_SCHEMA}.{_quote(r.name)}"
                  for r in (*plan.internal_tables, *plan.internal_views)}
    # With nothing to keep or reconcile, a new file, without the old's free space.
    reusable = not require_all_built or any(t.bucket_column for _, t in _planned_tables(plan))
    previous = _previous_publication(published_dir, private_db, plan) if reusable else None
    built = {result["unique_id"] for result in run_results.get("results", [])
             if result["status"] == "success"}
    replaced: dict[str, dict[str, int]] = {}
    try:
        if previous is not None:
            shutil.copyfile(final_db, temp_db)
        with duckdb.connect(str(temp_db)) as con:
            con.execute(f"attach {_literal(str(private_db))} as private (read_only)")
            kept = (_tables_to_keep(con, plan, built)
                    if previous is not None and not require_all_built else set())
            reconciled = (_tables_to_reconcile(con, plan, kept)
                          if previous is not None else set())
            if previous is not None:
                _drop_all_but(con, kept | reconciled)
                # The dropped tables' blocks are reused only once the drop is checkpointed.
                con.execute("checkpoint")
            if plan.internal_tables or plan.internal_views:
                con.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
            to_export = []
            for schema, tables in (("main", plan.public_tables),
                                   (INTERNAL_SCHEMA, plan.internal_tables)):
                for table in tables:
                    if (schema, table.name) in kept:
                        continue
                    if (schema, table.name) in reconciled:
                        buckets, rows = reconcile_by_bucket(con, schema, table)
                        replaced[table.name] = {"buckets": buckets, "rows": rows}
                    else:
                        _copy_table(con, schema, table)
                    if schema == "main":
                        to_export.append(table)
            counts: dict[str, int | None] = {
                t.name: _row_count(con, "main", t.name) for t in plan.public_tables
                if ("main", t.name) not in kept}
            _copy_comments(con, counts)
            counts |= {t.name: previous["relations"].get(t.name) for t in plan.public_tables
                       if ("main", t.name) in kept}
            for view in (*plan.internal_views, *plan.public_views):
                schema = "main" if view in plan.public_views else INTERNAL_SCHEMA
                con.execute(f"create view {schema}.{_quote(view.name)} as "
                            f"{view_sql(view, placement)}")
                con.execute(f"from {schema}.{_quote(view.name)} limit 0")  # noqa: S608 - binds
                if view in plan.public_views:
                    counts[view.name] = None
            con.execute("detach private")
            for table in to_export:
                con.execute(f"copy main.{_quote(table.name)} to "
                            f"{_literal(str(temp_parquet / (table.name + '.parquet')))}"
                            " (format parquet)")
            con.execute("checkpoint")
        temp_db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(temp_db, final_db)
        parquet_dir.mkdir(exist_ok=True)
        for exported in sorted(temp_parquet.iterdir()):
            os.replace(exported, parquet_dir / exported.name)
        for old in parquet_dir.glob("*.parquet"):
            if old.stem not in counts or counts[old.stem] is None:
                old.unlink()
        info = {
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "dbt_invocation_id": run_results.get("metadata", {}).get("invocation_id"),
            "private_warehouse": str(private_db),
            "relations": counts,
            "kept_from_previous": sorted(name for _, name in kept),
            "replaced_buckets": dict(sorted(replaced.items())),
        }
        temp_info = published_dir / f"._published.json.tmp-{token}"
        temp_info.write_text(json.dumps(info, indent=2) + "\n")
        os.replace(temp_info, published_dir / "_published.json")
    finally:
        temp_db.unlink(missing_ok=True)
        Path(str(temp_db) + ".wal").unlink(missing_ok=True)
        shutil.rmtree(temp_parquet, ignore_errors=True)
    return PublishResult(db_path=final_db, parquet_dir=parquet_dir, row_counts=counts)


def cleanup_scratch_relations(db_path: Path) -> list[str]:
    """Drops dbt's leftover scratch relations (`…__dbt_tmp…`, `…__dbt_backup`) from the private
    warehouse, e.g. the empty `ml_model_registry__dbt_tmp<timestamp>` table every incremental
    Python-model build leaves. Call it only when no build is running. Returns what it dropped."""
    with duckdb.connect(str(db_path)) as con:
        rows = con.execute(
            "select schema_name, table_name, 'table' from duckdb_tables()"
            " where database_name = current_database()"
            " union all select schema_name, view_name, 'view' from duckdb_views()"
            " where database_name = current_database() and not internal").fetchall()
        dropped = []
        for schema, name, kind in rows:
            if is_scratch(name):
                con.execute(f"drop {kind} if exists {_quote(schema)}.{_quote(name)}")
                dropped.append(f"{schema}.{name}")
    return dropped


def default_published_dir(private_db: Path) -> Path:
    """`RETAIL_ML_PUBLISHED_DIR`, else `published/` next to the private warehouse."""
    configured = os.environ.get("RETAIL_ML_PUBLISHED_DIR")
    return Path(configured) if configured else private_db.parent / "published"


def publish_from_target(private_db: Path, target_path: Path, published_dir: Path,
                        require_all_built: bool = True) -> PublishResult:
    """publish() with the manifest and run results dbt left in `target_path`."""
    try:
        manifest = json.loads((target_path / "manifest.json").read_text())
        run_results = json.loads((target_path / "run_results.json").read_text())
    except FileNotFoundError as missing:
        raise NotPublishable(f"no dbt artefact {missing.filename}") from missing
    return publish(private_db, manifest, run_results, published_dir, require_all_built)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path,
                        default=Path(os.environ.get("RETAIL_ML_DB_PATH",
                                                    "warehouse/retail_ml.duckdb")))
    parser.add_argument("--target-path", type=Path, default=Path("target"),
                        help="dbt's target directory of the build (manifest, run results)")
    parser.add_argument("--published-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    published_dir = args.published_dir or default_published_dir(args.db)
    return publish_or_explain(args.db, args.target_path, published_dir)


def publish_or_explain(db_path: Path, target_path: Path, published_dir: Path,
                       require_all_built: bool = True) -> int:
    """Publishes the build in `target_path`, printing one line either way; the exit code."""
    try:
        result = publish_from_target(db_path, target_path, published_dir, require_all_built)
    except NotPublishable as reason:
        print(f"NOT PUBLISHED: {reason}; {published_dir} still holds the last green build.")
        return 1
    print(result.one_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
