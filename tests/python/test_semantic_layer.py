"""The analysts' front door on a small build: the semantic layer answers from the published copy,
its metrics equal the marts and features they mirror, every query recipe runs, and `make sql` /
`make metrics` work.

MetricFlow reads `<project>/target/semantic_manifest.json` only, so these tests run `mf` (and
make) in a copy of the project in a temp directory: nothing is written into the repository.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR, BuiltWarehouse
from retail_ml.publish import publish_from_target
from retail_ml.recipes import RECIPES_FILE, load_recipes

BIN = Path(sys.executable).parent
# What a copy of the project needs to parse and run make; the rest (data, warehouses, artefacts,
# secrets, the venv) stays behind.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", ".secrets", "target", "logs", "warehouse", "data", "__pycache__",
    ".pytest_cache", ".ruff_cache", "dbt_packages", ".lock-venv")
RECIPES = load_recipes(PROJECT_DIR / RECIPES_FILE)
pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class SemanticProject:
    """A copy of the project whose `published` target is the published copy of the session build."""

    project_dir: Path
    published_db: Path
    private: BuiltWarehouse
    make_metrics: subprocess.CompletedProcess

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "RETAIL_ML_TARGET": "published",
                "RETAIL_ML_PUBLISHED_PATH": str(self.published_db),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}

    def mf(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(BIN / "mf"), *args], cwd=self.project_dir, env=self.env,  # noqa: S603
                              capture_output=True, text=True, check=False)
        if check:
            assert done.returncode == 0, (
                f"mf {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def mf_rows(self, *args: str, out: Path) -> list[dict[str, str]]:
        """`mf <args> --csv out`, read back as dicts keyed by column name."""
        self.mf(*args, "--csv", str(out))
        with out.open(newline="") as handle:
            return list(csv.DictReader(handle))

    def published(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.published_db), read_only=True)


def make(project_dir: Path, target: str, published_dir: Path, *, stdin: str | None = None,
         extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`make <target>` in a project copy with this venv (not rebuilt: -o its stamp)."""
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["make", "--no-print-directory", "-C", str(project_dir), target,  # noqa: S607
         f"BIN={BIN}", f"PUBLISHED_DIR={published_dir}", "-o", f"{BIN}/.installed", *extra],
        input=stdin, capture_output=True, text=True, check=False,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})


def copy_project(destination: Path) -> Path:
    shutil.copytree(PROJECT_DIR, destination, ignore=NOT_COPIED)
    return destination


@pytest.fixture(scope="session")
def semantic(built_warehouse: BuiltWarehouse, tmp_path_factory) -> SemanticProject:
    """Publishes the session build, then runs `make metrics` in a project copy: it parses the
    project for the `published` target and asks the documented example query."""
    work = tmp_path_factory.mktemp("semantic")
    published = publish_from_target(built_warehouse.db_path,
                                    built_warehouse.db_path.parent / "target", work / "published")
    project_dir = copy_project(work / "project")
    run = make(project_dir, "metrics", published.db_path.parent)
    assert run.returncode == 0, run.stdout + run.stderr
    return SemanticProject(project_dir=project_dir, published_db=published.db_path,
                           private=built_warehouse, make_metrics=run)


def test_make_metrics_answers_net_sales_by_month_and_country_from_the_published_copy(semantic):
    out = semantic.make_metrics.stdout
    header = next(line for line in out.splitlines() if line.startswith("metric_time__month"))
    assert header.split() == ["metric_time__month", "customer__country_code", "net_sales"]
    with semantic.published() as con:
        countries = {row[0] for row in
                     con.sql("select distinct country_code from dim_customers").fetchall()}
    shown = {line.split()[1] for line in out.splitlines() if line[:4].isdigit()}
    assert shown and shown <= countries
    # The build's own manifest was left alone: only the semantic manifest was copied.
    assert (semantic.project_dir / "target" / "semantic_manifest.json").exists()
    assert not (semantic.project_dir / "target" / "manifest.json").exists()


def test_mf_validate_configs_passes_against_the_published_copy(semantic):
    done = semantic.mf("validate-configs")
    assert "Successfully validated metrics against data warehouse" in done.stdout + done.stderr
    assert "ERRORS: 0" in done.stdout + done.stderr


def test_mf_validate_configs_fails_on_a_dimension_whose_column_does_not_exist(semantic, tmp_path):
    """The gate can fail: dbt parses a dimension over a missing column; MetricFlow's warehouse
    validation refuses it."""
    project_dir = copy_project(tmp_path / "project")
    models = project_dir / "models" / "semantic" / "_semantic__semantic_models.yml"
    text = models.read_text()
    seeded = text.replace("      - name: channel\n        type: categorical\n",
                          "      - name: channel\n        type: categorical\n"
                          "        expr: no_such_column\n")
    assert seeded != text
    models.write_text(seeded)
    seeded_project = SemanticProject(project_dir=project_dir, published_db=semantic.published_db,
                                     private=semantic.private, make_metrics=semantic.make_metrics)
    parse = subprocess.run(  # noqa: S603
        [str(BIN / "dbt"), "parse", "--project-dir", str(project_dir),
         "--profiles-dir", str(project_dir), "--no-use-colors", "--quiet"],
        cwd=project_dir, env=seeded_project.env, capture_output=True, text=True, check=False)
    assert parse.returncode == 0, parse.stdout + parse.stderr
    done = seeded_project.mf("validate-configs", check=False)
    assert done.returncode != 0
    assert "no_such_column" in done.stdout + done.stderr


def latest_complete_day(con: duckdb.DuckDBPyConnection) -> date:
    return con.sql("select as_of_date from int_feature_dates_spined where is_latest").fetchone()[0]


def test_net_sales_per_customer_over_30_days_equals_net_sales_30d_when_every_row_had_landed(
        semantic, tmp_path):
    """MetricFlow's net sales of a customer over D-29 … D (event time, everything staged) equals
    net_sales_30d on D (known by D) for every customer whose lines and refunds of the window had
    all landed by D and none of whose window's orders was cancelled after D (the feature uses
    the status known on D, the metric the current one). D is ten days before the latest complete
    day: late rows of the window have had time to land, and the window is full of activity. The
    customers with a late row or a later cancellation show the two differ exactly there, so the
    comparison is not vacuous."""
    with semantic.private.connect() as con:
        as_of = latest_complete_day(con) - timedelta(days=10)
        first = as_of - timedelta(days=29)
        window = {"first": first, "as_of": as_of}
        features = dict(con.execute(
            "select customer_id, net_sales_30d from feat_customer_daily where as_of_date = $as_of",
            {"as_of": as_of}).fetchall())
        late = {row[0] for row in con.execute("""
            select customer_id from int_order_lines_netted
            where not is_cancelled and order_date between $first and $as_of
                and cast(known_at as date) > $as_of
            union
            select customer_id from int_refunds_converted
            where return_date between $first and $as_of and cast(known_at as date) > $as_of
            union
            -- cancelled after D: the feature counted the order on D (status known then), the
            -- metric (current status) never does
            select customer_id from int_order_lines_netted
            where is_cancelled and order_date between $first and $as_of
                and greatest(cast(cancellation_known_at as date), cast(cancelled_at as date))
                    > $as_of
        """, window).fetchall()}
    rows = semantic.mf_rows(
        "query", "--metrics", "net_sales", "--group-by", "customer",
        "--where", f"{{{{ TimeDimension('metric_time', 'day') }}}} between '{first}' and '{as_of}'",
        out=tmp_path / "net_sales.csv")
    metric = {int(row["customer"]): Decimal(row["net_sales"]) for row in rows}

    landed = set(features) - late
    assert len(landed) >= 100 and len(metric) >= 100
    assert set(metric) <= set(features)
    differ = {c for c in features if metric.get(c, Decimal(0)) != features[c]}
    assert not differ & landed, {
        c: (metric.get(c), features[c]) for c in sorted(differ & landed)[:5]}
    assert differ, "no late row in the window: the comparison would not show a difference"
    assert differ <= late


def test_active_churned_and_new_customers_on_a_day_equal_the_feature_flags(semantic, tmp_path):
    """The documented windows, customer by customer on D: active (an order in D-89 … D), churned
    (ordered before, not in that window) and new (signed up in D-29 … D) from MetricFlow's
    cumulative metrics equal is_active_customer, is_churned_customer and is_new_customer of
    feat_customer_daily, except for customers whose order or customer record landed after D
    (the metrics count by event time; the features by what was known on D). A window one day
    off would change customers whose last order or signup sits on its edge."""
    with semantic.private.connect() as con:
        as_of = latest_complete_day(con) - timedelta(days=10)
        flags = {row[0]: tuple(row[1:]) for row in con.execute("""
            select customer_id, cast(is_active_customer as int), cast(is_churned_customer as int),
                cast(is_new_customer as int)
            from feat_customer_daily where as_of_date = $as_of
        """, {"as_of": as_of}).fetchall()}
        late = {row[0] for row in con.execute("""
            select customer_id from stg_shop__orders
            where not is_cancelled and cast(ordered_at as date) <= $as_of
                and cast(loaded_at as date) > $as_of
            union
            select customer_id from int_customers_signed_up
            where signup_date <= $as_of and first_known_date > $as_of
        """, {"as_of": as_of}).fetchall()}
    rows = semantic.mf_rows(
        "query", "--metrics", "active_customers,churned_customers,new_customers",
        "--group-by", "metric_time__day,customer",
        "--where", f"{{{{ TimeDimension('metric_time', 'day') }}}} = '{as_of}'",
        out=tmp_path / "customers.csv")
    names = ("active_customers", "churned_customers", "new_customers")
    metric = {int(row["customer"]): tuple(int(row[name] or 0) for name in names) for row in rows}

    assert sum(active for active, _, _ in flags.values()) >= 100
    differ = {c for c in set(flags) | set(metric)
              if metric.get(c, (0, 0, 0)) != flags.get(c, (0, 0, 0))}
    assert differ <= late, {c: (metric.get(c), flags.get(c)) for c in sorted(differ - late)[:5]}


def test_total_net_sales_per_month_equals_the_marts(semantic, tmp_path):
    """Net sales by month from MetricFlow equal the SQL over int_order_lines_netted (lines of
    non-cancelled orders, by order date) minus int_refunds_converted (by return date)."""
    rows = semantic.mf_rows("query", "--metrics", "net_sales", "--group-by", "metric_time__month",
                            out=tmp_path / "by_month.csv")
    metric = {date.fromisoformat(row["metric_time__month"][:10]): Decimal(row["net_sales"])
              for row in rows}
    with semantic.private.connect() as con:
        expected = dict(con.sql("""
            with lines as (
                select date_trunc('month', order_date) as month, sum(net_sales_eur) as sales
                from int_order_lines_netted where not is_cancelled group by 1
            ),
            refunds as (
                select date_trunc('month', return_date) as month, sum(refund_eur) as refunds
                from int_refunds_converted group by 1
            )
            select cast(coalesce(lines.month, refunds.month) as date),
                coalesce(lines.sales, 0) - coalesce(refunds.refunds, 0)
            from lines full outer join refunds on lines.month = refunds.month
        """).fetchall())
    assert len(expected) >= 12
    assert metric == expected


def test_every_saved_query_answers(semantic, tmp_path):
    saved = ["sales_by_country_month", "customer_activity_month", "returns_by_category_month"]
    for name in saved:
        rows = semantic.mf_rows("query", "--saved-query", name, out=tmp_path / f"{name}.csv")
        assert rows, name
    # Cumulative metrics stop at the data's last day (the time spine is the data's calendar).
    with semantic.published() as con:
        last_day = con.sql("select max(date_day) from metricflow_time_spine").fetchone()[0]
    with (tmp_path / "customer_activity_month.csv").open(newline="") as handle:
        months = [date.fromisoformat(row["metric_time__month"][:10])
                  for row in csv.DictReader(handle)]
    assert max(months) == last_day.replace(day=1)


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_every_query_recipe_runs_on_the_published_copy(semantic, recipe, tmp_path):
    if recipe.sql is not None:
        with semantic.published() as con:
            rows = con.sql(recipe.sql).fetchall()
    else:
        rows = semantic.mf_rows(*recipe.mf_args, out=tmp_path / "recipe.csv")
    assert rows or recipe.may_be_empty, f"{recipe.name} returned no rows"


def test_make_sql_opens_the_published_copy_read_only(semantic):
    run = make(semantic.project_dir, "sql", semantic.published_db.parent,
               stdin="select count(*) as n_orders from fct_orders;\n"
                     "create table scratch as select 1 as one;\n")
    with semantic.published() as con:
        n_orders = con.sql("select count(*) from fct_orders").fetchone()[0]
    assert str(n_orders) in run.stdout
    assert "read-only" in (run.stdout + run.stderr).lower()
    with semantic.published() as con:
        assert not con.sql("select * from duckdb_tables() where table_name = 'scratch'").fetchall()
