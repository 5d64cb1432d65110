"""Prints what `make build` built: row counts of the main tables and how to query them.

After a failed build it also says which tables of the private warehouse are stale: a model that
errored or was skipped keeps the table of the previous build (or has none), next to tables this
build replaced. The list comes from dbt's `target/run_results.json`. Readers never see that mix:
they query the published copy (retail_ml.publish), replaced only after a fully green build.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb

MAIN_TABLES: tuple[str, ...] = (
    "stg_shop__customers",
    "stg_shop__orders",
    "stg_shop__order_items",
    "stg_shop__quarantined_rows",
    # Not feat_customer_daily: a view, counting it would compute every customer x day.
    "int_customer_features_requested",
    "feat_customer_serving",
    "feat_product_daily",
    "ml_training_set__purchase_30d",
    "ml_model_registry",
    "ml_model_metrics",
    "ml_model_champions",
    "ml_customer_scores",
    "ml_feature_drift",
    "ml_product_recommendations",
    "ml_recommendation_metrics",
)

EXAMPLE_QUERY = "select * from ml_customer_scores order by probability desc limit 10"


NOT_BUILT_STATUSES = frozenset({"error", "skipped", "fail", "runtime error"})
BUILT_RESOURCE_TYPES = ("model.", "seed.", "snapshot.")


def stale_tables(run_results_path: Path) -> dict[str, str]:
    """Table -> status ("error"/"skipped") of every model, seed or snapshot the last dbt run
    did not (re)build. Empty when every node succeeded or when there are no run results."""
    if not run_results_path.exists():
        return {}
    results = json.loads(run_results_path.read_text())["results"]
    return {
        result["unique_id"].rsplit(".", 1)[-1]: result["status"]
        for result in results
        if result["unique_id"].startswith(BUILT_RESOURCE_TYPES)
        and result["status"] in NOT_BUILT_STATUSES
    }


def table_row_counts(
    db_path: Path, tables: tuple[str, ...] = MAIN_TABLES
) -> dict[str, int | None]:
    """Row counts of the given tables (None for a table that does not exist), read-only."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        existing = {row[0] for row in con.execute("select table_name from duckdb_tables()"
                                                  " union select view_name from duckdb_views()"
                                                  ).fetchall()}
        return {
            table: con.execute(f'select count(*) from "{table}"').fetchone()[0]  # noqa: S608
            if table in existing else None
            for table in tables
        }


def render_summary(
    db_path: Path,
    counts: dict[str, int | None],
    stale: dict[str, str] | None = None,
    query_path: Path | None = None,
) -> str:
    """The text `make build` ends with; stale tables are marked and listed first. The query hint
    names `query_path` (the published copy readers use) when given, else `db_path`."""
    stale = stale or {}
    query_path = query_path or db_path
    width = max(len(name) for name in counts)
    lines = []
    if stale:
        lines += [
            f"BUILD FAILED: {len(stale)} table(s) were not rebuilt and are STALE"
            " (previous build's data, or missing); do not read them as current:",
            *(f"  {name}  ({status})" for name, status in sorted(stale.items())),
            "",
        ]
    lines += [f"Built {db_path}:" if not stale else f"Warehouse {db_path} (partly rebuilt):"]
    for name, count in counts.items():
        shown = "missing" if count is None else f"{count:,}"
        mark = "  STALE" if name in stale else ""
        lines.append(f"  {name:<{width}}  {shown:>12}{mark}")
    lines += [
        "",
        f"Query {'the published copy' if query_path != db_path else 'it'} (read-only):",
        f"  duckdb -readonly {query_path} \"{EXAMPLE_QUERY}\"",
        "  python -c \"import duckdb; print(duckdb.connect("
        f"'{query_path}', read_only=True).sql('from feat_customer_serving limit 5'))\"",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("warehouse/retail_ml.duckdb"))
    parser.add_argument("--run-results", type=Path, default=Path("target/run_results.json"),
                        help="dbt's run_results.json of the build, to list stale tables")
    args = parser.parse_args()
    print(render_summary(args.db, table_row_counts(args.db), stale_tables(args.run_results)))


if __name__ == "__main__":
    main()
