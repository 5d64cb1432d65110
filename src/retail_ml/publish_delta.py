"""Patch a published table in place: only the partitions whose rows changed are rewritten.

A daily run changes a few days of a two-year table (the orders of the last days, their status
changes, the features of the new day), yet a publication that copies every table re-encodes
all of it. A public or internal model can declare `publish_partition_by: <column>` (config
`meta`; README "Querying the published warehouse"); its published copy is then patched:

1. the private table's partitions are fingerprinted (row count and the sum of every row's
   hash, per value of the column);
2. the fingerprints the previous publication stored next to its copy (the table
   `internal._partition_fingerprints` in the published file, written in the same file as the
   rows they describe, so they cannot disagree with them) name the partitions that differ,
   appeared or vanished;
3. those partitions are deleted from the copy and re-inserted from the private table.

The column only decides how much is rewritten, never what is published: a column whose
partitions all change (or a wrong one) costs a full copy, not a wrong row. A table whose
columns differ from the copy's, or that has no stored fingerprints, is copied whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

FINGERPRINTS = "_partition_fingerprints"
# Above this share of the table's rows in changed partitions, deleting and re-inserting costs
# more than copying the table whole (and leaves more deleted rows in the file).
FULL_COPY_SHARE = 0.5
# Partition values are stored as text and cast back to select rows: only types whose text form
# round-trips exactly may partition a table.
PARTITION_TYPES = frozenset({"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "VARCHAR",
                             "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                             "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"})


def quote(identifier: str) -> str:
    """A DuckDB identifier in double quotes."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Patch:
    """What patching one table did: partitions and rows rewritten, or `copied` whole."""

    table: str
    partitions_changed: int
    rows_inserted: int
    copied: bool = False

    @property
    def changed(self) -> bool:
        return self.copied or self.partitions_changed > 0


def ensure_fingerprint_table(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    con.execute(f"create schema if not exists {quote(schema)}")
    con.execute(
        f"create table if not exists {quote(schema)}.{FINGERPRINTS} ("
        " table_name varchar not null, partition_value varchar, row_count bigint not null,"
        " row_hash hugeint not null)")


def _fingerprint_sql(source: str, column: str) -> str:
    """Per partition: its value as text (null stays null), its rows and the sum of their
    hashes. Every column goes into the hash, in the table's order."""
    return ("select cast(part as varchar) as partition_value, row_count, row_hash from ("  # noqa: S608 - names from the manifest
            f" select {quote(column)} as part, count(*) as row_count,"
            f" sum(hash(*columns(*))) as row_hash from {source} group by all)")


def columns_of(con: duckdb.DuckDBPyConnection, database: str, schema: str,
               table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ?"
        " and schema_name = ? and table_name = ? order by column_index",
        [database, schema, table]).fetchall()


def publish_partitioned(con: duckdb.DuckDBPyConnection, target: str, table: str, source: str,
                        column: str, column_type: str, fingerprint_schema: str,
                        patchable: bool) -> Patch:
    """Brings the published `target` to the rows of `source` and stores their fingerprints.

    `patchable`: `target` holds the previous publication's rows with the same columns, in the
    same order, as `source`. Then only the partitions of `column` whose fingerprints changed
    are deleted and re-inserted; otherwise (or when patching would rewrite most rows, or no
    fingerprints were stored) `target` is replaced by a whole copy."""
    if column_type not in PARTITION_TYPES:
        raise ValueError(f"{table}: publish_partition_by column {column} is {column_type}; "
                         f"a partition column must be one of {sorted(PARTITION_TYPES)}")
    fingerprints = f"{quote(fingerprint_schema)}.{FINGERPRINTS}"
    con.execute("create or replace temp table _fresh as " + _fingerprint_sql(source, column))
    stored_rows = f"(select * from {fingerprints} where table_name = ?)"  # noqa: S608
    con.execute(
        "create or replace temp table _changed as"  # noqa: S608
        " select coalesce(f.partition_value, o.partition_value) as partition_value,"
        " coalesce(f.row_count, 0) as row_count"
        f" from _fresh as f full outer join {stored_rows} as o"
        " on f.partition_value is not distinct from o.partition_value"
        " where f.row_count is distinct from o.row_count"
        " or f.row_hash is distinct from o.row_hash", [table])
    stored, partitions, rows = con.execute(
        f"select (select count(*) from {fingerprints} where table_name = ?),"  # noqa: S608
        " count(*), coalesce(sum(row_count), 0) from _changed", [table]).fetchone()
    total = con.execute("select coalesce(sum(row_count), 0) from _fresh").fetchone()[0]
    copied = not (patchable and stored) or rows > FULL_COPY_SHARE * total
    if copied:
        con.execute(f"create or replace table {target} as select * from {source}")  # noqa: S608
    elif partitions:
        in_changed = (f"{quote(column)} in (select cast(partition_value as {column_type})"  # noqa: S608
                      " from _changed where partition_value is not null)"
                      f" or ({quote(column)} is null and exists"
                      " (select 1 from _changed where partition_value is null))")
        con.execute(f"delete from {target} where {in_changed}")  # noqa: S608
        con.execute(f"insert into {target} select * from {source} where {in_changed}")  # noqa: S608
    if copied or partitions:
        con.execute(f"delete from {fingerprints} where table_name = ?", [table])  # noqa: S608
        con.execute(f"insert into {fingerprints} select ?, * from _fresh", [table])  # noqa: S608
    return Patch(table=table, partitions_changed=partitions,
                 rows_inserted=total if copied else rows, copied=copied)
