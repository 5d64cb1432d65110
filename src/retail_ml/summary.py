"""Prints what `make build` built: row counts of the main tables and how to query them."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

MAIN_TABLES: tuple[str, ...] = (
    "stg_shop__customers",
    "stg_shop__orders",
    "stg_shop__order_items",
    "stg_shop__quarantined_rows",
    "feat_customer_daily",
    "feat_customer_serving",
    "feat_product_daily",
    "ml_training_set__purchase_30d",
    "ml_model_registry",
    "ml_model_metrics",
    "ml_customer_scores",
    "ml_product_recommendations",
    "ml_recommendation_metrics",
)

EXAMPLE_QUERY = "select * from ml_customer_scores order by probability desc limit 10"


def table_row_counts(db_path: Path, tables: tuple[str, ...] = MAIN_TABLES) -> dict[str, int]:
    """Row counts of the given tables, read through a read-only connection."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return {
            table: con.execute(f'select count(*) from "{table}"').fetchone()[0]  # noqa: S608
            for table in tables
        }


def render_summary(db_path: Path, counts: dict[str, int]) -> str:
    """The text `make build` ends with."""
    width = max(len(name) for name in counts)
    lines = [f"Built {db_path}:"]
    lines += [f"  {name:<{width}}  {count:>12,}" for name, count in counts.items()]
    lines += [
        "",
        "Query it (after the build; DuckDB allows one writer or many readers):",
        f"  duckdb -readonly {db_path} \"{EXAMPLE_QUERY}\"",
        "  python -c \"import duckdb; print(duckdb.connect("
        f"'{db_path}', read_only=True).sql('from feat_customer_serving limit 5'))\"",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("warehouse/retail_ml.duckdb"))
    args = parser.parse_args()
    print(render_summary(args.db, table_row_counts(args.db)))


if __name__ == "__main__":
    main()
