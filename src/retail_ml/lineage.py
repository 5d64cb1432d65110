"""PII lineage: no column readers can reach derives from raw PII, except through `hash_pii`.

Readers reach the published copy (`retail_ml.publish`): the public models, and the non-public
tables the public views read (schema `internal` of the published file). This check proves, from
the SQL dbt actually runs, that none of their columns carries a PII-tagged source column
(`meta.pii` on a column of `models/staging/shop/_shop__sources.yml`) other than through the
approved keyed hash, and it scans the published data for raw PII values.

**Column lineage** is derived from dbt's manifest after `dbt compile` (or any build):

- SQL models: the `compiled_code`, parsed by sqlglot (duckdb dialect) and qualified against the
  columns of every relation it reads, so CTEs, subqueries, `select *` and `* exclude (...)` are
  resolved. A column derives from every column its select expression mentions (window
  partitions and orders included; filters, joins and group-bys decide which rows, not what a
  value is, and are not followed), through CTEs, derived tables, unions and upstream models, down
  to source columns. Models are traced in dependency order, so each model's output columns come
  from its own SQL; sources contribute their declared columns (plus the `filename` and
  `file_row_number` the external reader adds), seeds the header of their CSV file.
- Python models: each output column (the YAML's columns, which the `columns_match_yaml` test
  keeps equal to the table) derives from every column of every model it reads, unless the model
  declares narrower inputs in `config.meta.lineage: {<output column>: [<model>.<column>, ...]}`.
- The approved keyed hash is recognised in the compiled SQL by what the macro `hash_pii`
  expands to: a `sha256` over the HMAC pads held in the session variables of
  `retail_ml.pii_key` (`getvariable('retail_ml_pii_opad')` and `..._ipad`). A path through it
  is a pseudonym; any other path from a PII column (the value itself, `lower(email)`, a plain
  unkeyed hash, a JSON containing it) is a violation. A model that cannot be traced (SQL that
  does not parse or qualify) fails the check too: unknown is not clean.

**The scan** reads the raw files' e-mails, names and review texts (the PII-tagged source
columns) and counts, in every text column of the published DuckDB file and every Parquet
export, the values equal to one of them or shaped like an e-mail address.

**The report** lists every published column with the source columns it derives from, and how
PII reaches it (hashed): `docs/pii_lineage.md`, a dbt docs block that is the description of the
analysis `pii_lineage_report` (its page in the docs site, linked from the overview), whose SQL
(`analyses/pii_lineage_report.sql`) holds the same lineage as rows to query. Both are generated
(`make lineage`) and committed; a test fails while they are stale.

    python -m retail_ml.lineage --manifest target/manifest.json \
        [--published-dir warehouse/published --raw-dir data/raw] \
        [--report docs/pii_lineage.md --analysis analyses/pii_lineage_report.sql]

Exit code 1 when a violation is found (every one is printed), 0 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

from retail_ml.pii_key import IPAD_VARIABLE, OPAD_VARIABLE
from retail_ml.publish import PUBLISHED_FILE_NAME, plan_publication

Manifest = Mapping[str, Any]
DIALECT = "duckdb"
# Columns dbt-duckdb's external reader adds to every source (`filename = true`,
# `file_row_number = true` in the source's external_location).
EXTERNAL_READER_COLUMNS = ("filename", "file_row_number")
# A placeholder catalog for sources: their relation name is a `read_parquet(...)` call.
SOURCE_CATALOG = "__source__"
REPORT_DOC_NAME = "pii_lineage_report"
# Anything shaped like an e-mail address (not `<id>@<timestamp>`, the quarantine's raw_key).
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
# Raw values shorter than this are not scanned for: "Good" or "Ok" as a review text is not
# personal data, and equals many innocent values.
MIN_SCANNED_LENGTH = 6

# One origin of a column's value: (source column "source.<pkg>.<src>.<table>.<column>",
# reached only through the keyed hash).
Origin = tuple[str, bool]
Lineage = dict[str, frozenset[Origin]]


class UntraceableModel(RuntimeError):
    """A model's SQL could not be parsed or qualified: its columns' lineage is unknown."""


@dataclass(frozen=True)
class PublishedColumn:
    """A column readers can reach, and the source columns its value derives from."""

    relation: str  # "main.<model>" or "internal.<model>" in the published file
    unique_id: str
    column: str
    origins: frozenset[Origin]

    def violations(self, pii: Mapping[str, str]) -> list[str]:
        return sorted(source for source, hashed in self.origins if source in pii and not hashed)


@dataclass
class LineageCheck:
    """The result of the check: every published column with its origins, and the problems."""

    columns: list[PublishedColumn]
    pii_columns: dict[str, str]
    untraceable: dict[str, str] = field(default_factory=dict)

    @property
    def violations(self) -> list[str]:
        found = [f"{c.relation}.{c.column} derives from raw PII {source}"
                 f" (not through hash_pii)"
                 for c in self.columns for source in c.violations(self.pii_columns)]
        found += [f"{unique_id}: lineage unknown ({reason})"
                  for unique_id, reason in sorted(self.untraceable.items())]
        return found

    @property
    def traced_to_sources(self) -> int:
        return sum(1 for c in self.columns if c.origins)


# ---------------------------------------------------------------------------------------------
# Source columns tagged as PII


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}


def source_column_key(source_id: str, column: str) -> str:
    return f"{source_id}.{column}"


def pii_source_columns(manifest: Manifest) -> dict[str, str]:
    """`source.<pkg>.<source>.<table>.<column>` -> its `meta.pii` kind, for every tagged column."""
    tagged = {}
    for source_id, source in manifest.get("sources", {}).items():
        for name, column in source.get("columns", {}).items():
            kind = _meta(column).get("pii")
            if kind:
                tagged[source_column_key(source_id, name)] = str(kind)
    return tagged


# ---------------------------------------------------------------------------------------------
# The approved keyed hash


def _is_getvariable(node: exp.Expression, variable: str) -> bool:
    """`getvariable('<variable>')` (sqlglot parses DuckDB's getvariable as an anonymous call)."""
    return (isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable"
            and any(isinstance(arg, exp.Literal) and arg.this == variable
                    for arg in node.expressions))


def is_keyed_hash(node: exp.Expression) -> bool:
    """True for the expansion of `hash_pii`: a sha256 whose argument holds both HMAC pads."""
    is_sha256 = (isinstance(node, exp.SHA2) and node.text("length") in {"", "256"}) or (
        isinstance(node, exp.Anonymous) and node.name.lower() == "sha256")
    return is_sha256 and all(
        any(_is_getvariable(descendant, variable) for descendant in node.walk())
        for variable in (OPAD_VARIABLE, IPAD_VARIABLE))


def _decides_only(node: exp.Expression, root: exp.Expression) -> bool:
    """True when `node` sits where it only chooses which value a column takes, not what the
    value is: a CASE/IF condition or operand, an aggregate's FILTER, a window's PARTITION BY or
    ORDER BY. Like WHERE, JOIN and GROUP BY, these are not followed (module docstring)."""
    child, parent = node, node.parent
    while parent is not None and child is not root:
        if isinstance(parent, exp.If) and parent.args.get("this") is child:
            return True
        if isinstance(parent, exp.Case) and parent.args.get("this") is child:
            return True
        if isinstance(parent, exp.Filter) and parent.args.get("expression") is child:
            return True
        if isinstance(parent, exp.Window) and (
                child is parent.args.get("order") or child in (parent.args.get("partition_by")
                                                                or [])):
            return True
        child, parent = parent, parent.parent
    return False


def _lambda_parameter(column: exp.Column) -> bool:
    node = column.parent
    while node is not None:
        if isinstance(node, exp.Lambda) and any(
                param.name == column.name for param in node.expressions):
            return True
        node = node.parent
    return False


def _under_keyed_hash(column: exp.Expression, root: exp.Expression) -> bool:
    node = column.parent
    while node is not None:
        if is_keyed_hash(node):
            return True
        if node is root:
            return False
        node = node.parent
    return False


# ---------------------------------------------------------------------------------------------
# Column lineage of one SQL model


def _table_key(catalog: str, db: str, name: str) -> tuple[str, str, str]:
    return (catalog.lower(), db.lower(), name.lower())


def _relation_parts(node: Mapping[str, Any]) -> tuple[str, str, str]:
    return _table_key(node.get("database") or "", node.get("schema") or "",
                      node.get("alias") or node["name"])


def _source_parts(source: Mapping[str, Any]) -> tuple[str, str, str]:
    return _table_key(SOURCE_CATALOG, source["source_name"], source["name"])


def _compose(child: Iterable[Origin], hashed_here: bool) -> set[Origin]:
    return {(source, hashed or hashed_here) for source, hashed in child}


class _SqlTracer:
    """Traces the output columns of one qualified SELECT to upstream relations' origins."""

    def __init__(self, upstream: Mapping[tuple[str, str, str], Lineage]) -> None:
        self._upstream = upstream
        self._memo: dict[tuple[int, str], frozenset[Origin]] = {}

    def output_columns(self, root: Scope) -> Lineage:
        names = [select.alias_or_name for select in self._first_branch(root).expression.selects]
        return {name: self.column_of_scope(root, name, index) for index, name in enumerate(names)}

    @staticmethod
    def _first_branch(scope: Scope) -> Scope:
        while scope.set_operation_scopes:
            scope = scope.set_operation_scopes[0]
        return scope

    def column_of_scope(self, scope: Scope, name: str, index: int | None = None
                        ) -> frozenset[Origin]:
        key = (id(scope), f"{name}#{index}")
        if key in self._memo:
            return self._memo[key]
        if scope.set_operation_scopes:
            if index is None:
                names = [s.alias_or_name for s in self._first_branch(scope).expression.selects]
                index = names.index(name)
            origins: set[Origin] = set()
            for branch in scope.set_operation_scopes:
                branch_select = self._first_branch(branch).expression.selects[index]
                origins |= self.column_of_scope(branch, branch_select.alias_or_name, index)
            result = frozenset(origins)
        else:
            selects = scope.expression.selects
            if index is not None and index < len(selects) and (
                    selects[index].alias_or_name == name):
                projection = selects[index]
            else:
                matches = [s for s in selects if s.alias_or_name == name]
                # `unnest(struct_list, recursive := true)` spreads a struct into one column per
                # field, named by the field: such a column derives from what is unnested.
                matches = matches or [s for s in selects if isinstance(s.unalias(), exp.Explode)]
                if not matches:
                    raise UntraceableModel(f"column {name} not found in a select")
                projection = matches[0]
            result = frozenset(self._expression(scope, projection))
        self._memo[key] = result
        return result

    def _expression(self, scope: Scope, expression: exp.Expression) -> set[Origin]:
        origins: set[Origin] = set()
        subqueries = {id(sub.expression): sub for sub in scope.subquery_scopes}
        for column in expression.find_all(exp.Column):
            if self._inside_subquery(column, expression) or _decides_only(column, expression):
                continue
            hashed = _under_keyed_hash(column, expression)
            origins |= _compose(self._column(scope, column), hashed)
        for subquery in expression.find_all(exp.Select):
            sub_scope = subqueries.get(id(subquery))
            if (sub_scope is None or self._inside_subquery(subquery.parent, expression)
                    or _decides_only(subquery, expression)):
                continue
            hashed = _under_keyed_hash(subquery, expression)
            for select in sub_scope.expression.selects:
                origins |= _compose(self._expression(sub_scope, select), hashed)
        return origins

    @staticmethod
    def _inside_subquery(node: exp.Expression | None, root: exp.Expression) -> bool:
        while node is not None and node is not root:
            if isinstance(node, exp.Select):
                return True
            node = node.parent
        return False

    def _column(self, scope: Scope, column: exp.Column) -> set[Origin]:
        table = column.table
        if not table:
            if _lambda_parameter(column):  # `x -> ...`: a value of the list, traced with it
                return set()
            if len(scope.selected_sources) != 1:
                raise UntraceableModel(f"column {column.sql()} could not be resolved")
            table = next(iter(scope.selected_sources))
        source = scope.sources.get(table)
        if source is None:  # a correlated reference to an enclosing scope
            parent = scope.parent
            while parent is not None and table not in parent.sources:
                parent = parent.parent
            if parent is None:
                raise UntraceableModel(f"column {column.sql()} has no source")
            scope, source = parent, parent.sources[table]
        if isinstance(source, Scope):
            if source.is_udtf:  # unnest(...), range(...): from the columns it unnests
                return self._expression(scope, source.expression)
            return set(self.column_of_scope(source, column.name))
        if isinstance(source, exp.Table):
            if not source.name:  # a table function without a relation behind it
                return self._expression(scope, source)
            key = _table_key(source.catalog, source.db, source.name)
            if key not in self._upstream:
                raise UntraceableModel(f"reads an unknown relation {source.sql()}")
            relation = self._upstream[key]
            if column.name not in relation:
                raise UntraceableModel(f"{source.sql()} has no column {column.name}")
            return set(relation[column.name])
        return self._expression(scope, source)


def sql_lineage(sql: str, upstream: Mapping[tuple[str, str, str], Lineage],
                replacements: Mapping[str, str] | None = None) -> Lineage:
    """Output column -> origins of one compiled SELECT. `upstream` maps each relation it reads
    ((catalog, schema, name), lower case) to its columns' origins; `replacements` are text
    substitutions made first (a source's `read_parquet(...)` -> a placeholder table name)."""
    for old, new in sorted((replacements or {}).items(), key=lambda kv: -len(kv[0])):
        sql = sql.replace(old, new)
    schema: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for (catalog, db, name), columns in upstream.items():
        if not columns:  # untraced: a model reading it is untraced too
            continue
        schema.setdefault(catalog, {}).setdefault(db, {})[name] = {
            column: "varchar" for column in columns}
    try:
        parsed = sqlglot.parse_one(sql, dialect=DIALECT)
        try:
            qualified = qualify(parsed.copy(), dialect=DIALECT, schema=schema,
                                quote_identifiers=False, identify=False)
        except sqlglot.errors.OptimizeError:
            # A column sqlglot cannot place (e.g. a field spread by a recursive unnest): keep
            # it unqualified; the tracer resolves it or fails the model.
            qualified = qualify(parsed, dialect=DIALECT, schema=schema, quote_identifiers=False,
                                identify=False, validate_qualify_columns=False)
        root = build_scope(qualified)
    except sqlglot.errors.SqlglotError as error:
        raise UntraceableModel(str(error).splitlines()[0][:300]) from error
    if root is None:
        raise UntraceableModel("no SELECT")
    return _SqlTracer(upstream).output_columns(root)


# ---------------------------------------------------------------------------------------------
# Lineage of the whole project


def _seed_columns(node: Mapping[str, Any], project_dir: Path | None) -> list[str]:
    path = Path(node.get("root_path") or project_dir or ".") / node["original_file_path"]
    if path.exists():
        with path.open(newline="") as handle:
            return next(csv.reader(handle))
    return list(node.get("columns", {}))


def _python_lineage(node: Mapping[str, Any], outputs: list[str],
                    inputs: Mapping[str, Lineage], names: Mapping[str, str]) -> Lineage:
    """Every output column derives from every input column, unless `config.meta.lineage`
    narrows a column to `<model>.<column>` inputs."""
    everything: set[Origin] = set()
    for lineage in inputs.values():
        for origins in lineage.values():
            everything |= origins
    declared = _meta(node).get("lineage") or {}
    by_name = {names[unique_id]: lineage for unique_id, lineage in inputs.items()}
    result: Lineage = {}
    for column in outputs:
        if column not in declared:
            result[column] = frozenset(everything)
            continue
        narrowed: set[Origin] = set()
        for reference in declared[column]:
            model, _, input_column = reference.rpartition(".")
            if model not in by_name or input_column not in by_name[model]:
                raise UntraceableModel(f"meta.lineage of {column}: unknown input {reference}")
            narrowed |= by_name[model][input_column]
        result[column] = frozenset(narrowed)
    return result


def derive_lineage(manifest: Manifest, project_dir: Path | None = None
                   ) -> tuple[dict[str, Lineage], dict[str, str]]:
    """unique_id -> column -> origins for every source, seed, snapshot and model of the
    manifest, and the models that could not be traced (unique_id -> reason)."""
    lineage: dict[str, Lineage] = {}
    by_relation: dict[tuple[str, str, str], Lineage] = {}
    replacements: dict[str, str] = {}
    names: dict[str, str] = {}
    for source_id, source in manifest.get("sources", {}).items():
        columns = [*source.get("columns", {}), *EXTERNAL_READER_COLUMNS]
        lineage[source_id] = {c: frozenset({(source_column_key(source_id, c), False)})
                              for c in dict.fromkeys(columns)}
        parts = _source_parts(source)
        by_relation[parts] = lineage[source_id]
        names[source_id] = f"{source['source_name']}.{source['name']}"
        if source.get("relation_name"):
            replacements[source["relation_name"]] = ".".join(f'"{p}"' for p in parts)
    nodes = {uid: node for uid, node in manifest["nodes"].items()
             if node["resource_type"] in {"model", "seed", "snapshot"}}
    graph = {uid: [dep for dep in node.get("depends_on", {}).get("nodes", []) if dep in nodes]
             for uid, node in nodes.items()}
    untraceable: dict[str, str] = {}
    for unique_id in TopologicalSorter(graph).static_order():
        node = nodes[unique_id]
        names[unique_id] = node.get("alias") or node["name"]
        try:
            if untraced := [dep for dep in graph[unique_id] if dep in untraceable]:
                raise UntraceableModel(f"reads the untraced {untraced[0]}")
            if node["resource_type"] == "seed":
                result = {c: frozenset() for c in _seed_columns(node, project_dir)}
            elif node.get("config", {}).get("materialized") == "ephemeral":
                raise UntraceableModel("ephemeral models are not traced")
            elif node.get("language") == "python":
                inputs = {dep: lineage[dep] for dep in node.get("depends_on", {}).get("nodes", [])
                          if dep in lineage}  # models, seeds and sources it reads
                result = _python_lineage(node, list(node.get("columns", {})), inputs, names)
            else:
                if not node.get("compiled_code"):
                    raise UntraceableModel("no compiled SQL in the manifest: run dbt compile")
                result = sql_lineage(node["compiled_code"], by_relation, replacements)
        except UntraceableModel as reason:
            untraceable[unique_id] = str(reason)
            result = {}
        lineage[unique_id] = result
        by_relation[_relation_parts(node)] = result
    return lineage, untraceable


def check_lineage(manifest: Manifest, project_dir: Path | None = None) -> LineageCheck:
    """Traces every published column (see the module docstring) to source columns."""
    lineage, untraceable = derive_lineage(manifest, project_dir)
    plan = plan_publication(manifest)
    published = [("main", r) for r in (*plan.public_tables, *plan.public_views)]
    published += [("internal", r) for r in (*plan.internal_tables, *plan.internal_views)]
    columns = [
        PublishedColumn(relation=f"{schema}.{relation.name}", unique_id=relation.unique_id,
                        column=column, origins=origins)
        for schema, relation in sorted(published, key=lambda sr: (sr[0] != "main", sr[1].name))
        for column, origins in lineage.get(relation.unique_id, {}).items()
    ]
    published_ids = {relation.unique_id for _, relation in published}
    # A private model nobody reads from the published copy may stay untraced (reported only
    # if a published one depends on it, as "reads the untraced ...").
    blocking = {uid: why for uid, why in untraceable.items() if uid in published_ids}
    return LineageCheck(columns=columns, pii_columns=pii_source_columns(manifest),
                        untraceable=blocking)


# ---------------------------------------------------------------------------------------------
# The scan of the published data


def _raw_pii_values(con: duckdb.DuckDBPyConnection, raw_dir: Path,
                    pii_columns: Iterable[str]) -> list[str]:
    values: set[str] = set()
    for key in sorted(pii_columns):
        table, column = key.split(".")[-2:]
        files = raw_dir / table
        if not files.exists():
            continue
        values.update(row[0] for row in con.execute(
            f"select distinct cast({column} as varchar) from read_parquet("  # noqa: S608
            f"'{files}/*/*.parquet', union_by_name = true) where {column} is not null"
            f" and length(trim(cast({column} as varchar))) >= {MIN_SCANNED_LENGTH}").fetchall())
    return sorted(values)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _text_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str, str]]:
    """(name in the result, relation to select from, column) of every text column of a
    Parquet file, or of every table of a DuckDB file (attached under its own name: a private
    warehouse's views name their catalog).

    Views are not scanned: a published view reads published tables (its own copies under
    `internal` included), which are, and scanning `feat_customer_daily` would compute every
    customer x day (tens of GB of spill at `default`). The lineage check covers what a view's
    SQL could derive from PII."""
    if path.suffix == ".parquet":
        relation = f"read_parquet('{path}')"
        rows = con.execute(f"describe select * from {relation}").fetchall()  # noqa: S608
        return [(path.name, relation, row[0]) for row in rows if row[1] in {"VARCHAR", "JSON"}]
    con.execute(f"attach '{path}' as {_quote(path.stem)} (read_only)")
    rows = con.execute(
        "select schema_name, table_name, column_name from duckdb_columns()"
        " where database_name = ? and data_type in ('VARCHAR', 'JSON')"
        " and (database_name, schema_name, table_name) in"
        " (select (database_name, schema_name, table_name) from duckdb_tables())"
        " order by all", [path.stem]).fetchall()
    return [(f"{schema}.{table}", f"{_quote(path.stem)}.{_quote(schema)}.{_quote(table)}",
             column) for schema, table, column in rows]


def scan_for_raw_pii(paths: Iterable[Path], raw_dir: Path,
                     pii_columns: Iterable[str]) -> dict[str, int]:
    """`<file>:<relation>.<column>` -> how many of its text values equal a raw PII value of
    `raw_dir` (e-mails, names, review texts: the columns `pii_columns` names) or contain
    anything shaped like an e-mail address, in DuckDB files and Parquet files. Empty: clean."""
    found: dict[str, int] = {}
    with duckdb.connect() as con:
        raw = _raw_pii_values(con, raw_dir, pii_columns)
        con.execute("create temp table raw_pii as select unnest(?::varchar[]) as value", [raw])
        for path in paths:
            for name, relation, column in _text_columns(con, path):
                value = f"{_quote(column)}::varchar"
                hits = con.execute(
                    f"select count(*) from {relation} where {value} in"  # noqa: S608
                    f" (select value from raw_pii) or regexp_matches({value}, ?)",
                    [EMAIL_PATTERN]).fetchone()[0]
                if hits:
                    found[f"{path.name}:{name}.{column}"] = hits
            if path.suffix != ".parquet":
                con.execute(f"detach {_quote(path.stem)}")
    return found


def published_files(published_dir: Path) -> list[Path]:
    """The published DuckDB file and Parquet exports (what readers open)."""
    files = [published_dir / PUBLISHED_FILE_NAME] if (
        published_dir / PUBLISHED_FILE_NAME).exists() else []
    return files + sorted((published_dir / "parquet").glob("*.parquet"))


# ---------------------------------------------------------------------------------------------
# The report (a dbt docs block)


def _short(source_key: str) -> str:
    """`source.retail_ml.shop.customers.email` -> `shop.customers.email`."""
    return ".".join(source_key.split(".")[2:])


def _grouped(check: LineageCheck) -> list[tuple[str, list[str], frozenset[Origin]]]:
    """(relation, columns, origins): a relation's columns with the same origins on one line."""
    groups: dict[tuple[str, frozenset[Origin]], list[str]] = {}
    for column in check.columns:
        groups.setdefault((column.relation, column.origins), []).append(column.column)
    return [(relation, columns, origins) for (relation, origins), columns in groups.items()]


def _origin_markdown(source: str, hashed: bool, pii: Mapping[str, str]) -> str:
    name = f"`{_short(source)}`"
    if source in pii:
        return f"**{name}** ({'hashed' if hashed else 'RAW'})"
    return name


def render_report(check: LineageCheck) -> str:
    """The lineage report as a dbt docs block (markdown): every published column and the source
    columns it derives from; PII marked, pseudonymised paths marked as hashed."""
    relations = sorted({c.relation for c in check.columns})
    pii_reached = [c for c in check.columns
                   if any(source in check.pii_columns for source, _ in c.origins)]
    tagged = ", ".join(f"`{_short(key)}` ({kind})" for key, kind in sorted(
        check.pii_columns.items()))
    outcome = (f"- Published columns derived from a PII column: **{len(pii_reached)}**, every one"
               " through the keyed hash; violations: **0**." if not check.violations else
               f"- **Violations: {len(check.violations)}**: run `make governance`.")
    lines = [
        # outside the block: dbt ignores it, the docs site would show it as text
        "<!-- Generated by `make lineage` (python -m retail_ml.lineage): do not edit. -->",
        f"{{% docs {REPORT_DOC_NAME} %}}",
        "# PII lineage report",
        "",
        "Every column readers can reach in the published copy (`warehouse/published/`: the"
        " public models in `main`; in `internal`, the tables the public views read), with the"
        " source columns its value derives from. `retail_ml.lineage` traces them through the"
        " compiled SQL of every model (sqlglot: CTEs, `select *`, unions, upstream models) and"
        " the inputs of the Python models, and `make governance` / `make test` fail if a"
        " PII-tagged source column (`meta.pii`, in **bold**) reaches one other than through the"
        " keyed pseudonym `hash_pii` (HMAC-SHA-256, marked *hashed*). A value derives from the"
        " columns its select expression computes it from; conditions (`where`, `join`,"
        " `case when`, `filter`, window partitions) choose rows and branches and are not"
        " followed. The published files are also scanned for raw e-mails, names and review"
        " texts. The same lineage, as rows: this analysis's SQL.",
        "",
        f"- Published columns: **{len(check.columns)}** in {len(relations)} relations; traced to"
        f" at least one source column: **{check.traced_to_sources}** (the others are counts,"
        " constants, seed values or computed by the model itself).",
        f"- PII-tagged source columns: {tagged}.",
        outcome,
        "",
        "| published relation | columns | source columns |",
        "|---|---|---|",
    ]
    for relation, columns, origins in _grouped(check):
        sources = ", ".join(_origin_markdown(source, hashed, check.pii_columns)
                            for source, hashed in sorted(origins)) or "—"
        names = ", ".join(f"`{name}`" for name in columns)
        lines.append(f"| `{relation}` | {names} | {sources} |")
    lines += ["", "{% enddocs %}", ""]
    return "\n".join(lines)


def render_analysis(check: LineageCheck) -> str:
    """The lineage as rows (an analysis: compiled by dbt, run by hand, never built)."""
    rows = []
    for column in check.columns:
        for source, hashed in sorted(column.origins) or [(None, False)]:
            path = "none" if source is None else (
                "hashed" if hashed else ("raw" if source in check.pii_columns else "value"))
            source_sql = "null" if source is None else f"'{_short(source)}'"
            rows.append(f"        ('{column.relation}', '{column.column}', {source_sql},"
                        f" '{path}')")
    return "\n".join([
        "-- Generated by `make lineage` (python -m retail_ml.lineage): do not edit. One row per",
        "-- published column x source column it derives from; path: value, hashed (through",
        "-- hash_pii), raw (a PII column's value: a violation), none (no source column).",
        "with",
        "",
        "lineage as (",
        "    select * from (",
        "        values",
        ",\n".join(rows),
        "    ) as lineage (published_column_relation, published_column, source_column, path)",
        "),",
        "",
        "final as (",
        "    select",
        "        published_column_relation,",
        "        published_column,",
        "        source_column,",
        "        path",
        "    from lineage",
        ")",
        "",
        "select * from final",
        "",
    ])


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=Path("target/manifest.json"),
                        help="a manifest with compiled SQL (after dbt compile or a build)")
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    parser.add_argument("--published-dir", type=Path, default=None,
                        help="scan this published copy for raw PII (skipped if absent)")
    parser.add_argument("--raw-dir", type=Path,
                        default=Path(os.environ.get("RETAIL_ML_RAW_DIR", "data/raw")))
    parser.add_argument("--report", type=Path, default=None,
                        help="write the lineage report (a dbt docs block) here")
    parser.add_argument("--analysis", type=Path, default=None,
                        help="write the lineage as rows (a dbt analysis) here")
    args = parser.parse_args(argv)

    manifest = json.loads(args.manifest.read_text())
    check = check_lineage(manifest, args.project_dir)
    problems = check.violations
    print(f"lineage: {len(check.columns)} published columns, {check.traced_to_sources} traced"
          f" to source columns, {len(check.pii_columns)} PII-tagged source columns,"
          f" {len(problems)} violation(s)")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(render_report(check))
        print(f"lineage: report written to {args.report}")
    if args.analysis:
        args.analysis.parent.mkdir(parents=True, exist_ok=True)
        args.analysis.write_text(render_analysis(check))
    if args.published_dir is not None:
        files = published_files(args.published_dir)
        if not files:
            print(f"scan: no published copy in {args.published_dir} yet: nothing to scan")
        elif not args.raw_dir.exists():
            print(f"scan: no raw data in {args.raw_dir}: cannot scan")
            problems.append(f"scan: no raw data in {args.raw_dir}")
        else:
            found = scan_for_raw_pii(files, args.raw_dir, check.pii_columns)
            print(f"scan: {len(files)} published file(s), {len(found)} column(s) holding raw PII")
            problems += [f"{where} holds {count} raw PII value(s)"
                         for where, count in sorted(found.items())]
    for problem in problems:
        print(f"  FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
