"""Training and serving come from one definition.

Replays the landing zone as it stood at the end of a training cutoff D (only partitions landed on
or before D) and builds the serving table from it: serving on D must equal, column by column,
the training rows the full build made for cutoff D.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import PROJECT_DIR, run_dbt

pytestmark = pytest.mark.e2e

CUTOFF = date(2026, 8, 31)


def landing_zone_as_of(raw_dir: Path, out_dir: Path, day: date) -> None:
    """Copies the partitions that had landed by the end of `day`."""
    for partition in sorted(raw_dir.glob("*/load_date=*")):
        if date.fromisoformat(partition.name.removeprefix("load_date=")) <= day:
            shutil.copytree(partition, out_dir / partition.parent.name / partition.name)


def serving_feature_columns() -> list[str]:
    models = yaml.safe_load(
        (PROJECT_DIR / "models/marts/customers/_customers__models.yml").read_text()
    )["models"]
    serving = next(m for m in models if m["name"] == "feat_customer_serving")
    return [c["name"] for c in serving["columns"] if c["name"] != "as_of_date"]


@pytest.fixture(scope="module")
def serving_built_on_cutoff(built_warehouse, tmp_path_factory) -> Path:
    work_dir = tmp_path_factory.mktemp("serving_on_cutoff")
    raw_dir = work_dir / "raw"
    landing_zone_as_of(built_warehouse.raw_dir, raw_dir, CUTOFF)
    db_path = work_dir / "warehouse.duckdb"
    run = run_dbt(
        [
            "build", "--select", "+feat_customer_serving", "--indirect-selection", "cautious",
            "--exclude", "resource_type:unit_test",
        ],
        raw_dir=raw_dir, db_path=db_path, work_dir=work_dir,
    )
    assert run.returncode == 0, "\n".join(run.failures()) + run.output[-3000:]
    return db_path


def test_serving_on_cutoff_equals_training_rows_of_that_cutoff(
    built_warehouse, serving_built_on_cutoff
):
    columns = ", ".join(serving_feature_columns())
    with duckdb.connect() as con:
        con.execute(f"attach '{built_warehouse.db_path}' as full_build (read_only)")
        con.execute(f"attach '{serving_built_on_cutoff}' as as_of_cutoff (read_only)")
        serving_day = con.execute(
            "select distinct as_of_date from as_of_cutoff.feat_customer_serving"
        ).fetchall()
        training = f"""
            select {columns} from full_build.ml_training_set__purchase_30d
            where cutoff_date = date '{CUTOFF.isoformat()}'
        """  # noqa: S608 - module constants
        serving = f"select {columns} from as_of_cutoff.feat_customer_serving"  # noqa: S608
        n_training = con.execute(f"select count(*) from ({training})").fetchone()[0]  # noqa: S608
        n_serving = con.execute(f"select count(*) from ({serving})").fetchone()[0]  # noqa: S608
        differing = con.execute(
            f"""
            select count(*) from (
                ({training} except all {serving}) union all ({serving} except all {training})
            )
            """  # noqa: S608
        ).fetchone()[0]
    assert serving_day == [(CUTOFF,)]
    assert n_training == n_serving > 0
    assert differing == 0
