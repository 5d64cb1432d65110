"""Shared fixtures: small generated data and one real `dbt build` on it, in a temp directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
END_DATE = date(2026, 11, 25)
# The PII key of every dbt build the tests run (subprocesses inherit it): fixed, so the tests
# never create or read the developer's .secrets/pii.key. CI may set its own.
os.environ.setdefault("RETAIL_ML_PII_KEY", "retail-ml-tests-only-pii-key")


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse built by `dbt build` from generated raw data."""

    raw_dir: Path
    db_path: Path
    manifest: dict

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db_path), read_only=True)


def run_dbt(args: list[str], *, raw_dir: Path, db_path: Path, work_dir: Path) -> DbtRun:
    """Runs the venv's dbt on the repo's project, writing only under work_dir.

    A subprocess, not dbtRunner: dbt-duckdb keeps its DuckDB connection open in the process
    after a run, and the tests must open the warehouse read-only afterwards, as an analyst would.
    """
    env = {
        **os.environ,
        "RETAIL_ML_RAW_DIR": str(raw_dir),
        "RETAIL_ML_DB_PATH": str(db_path),
        "RETAIL_ML_TARGET": "ci",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    target_path = work_dir / "target"
    completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            str(Path(sys.executable).with_name("dbt")),
            *args,
            "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(target_path),
            "--log-path", str(work_dir / "logs"),
            "--no-use-colors",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    results_file = target_path / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    return DbtRun(returncode=completed.returncode, output=completed.stdout + completed.stderr,
                  results=results)


@dataclass(frozen=True)
class DbtRun:
    """What a dbt invocation left: its exit code, its output and run_results.json's results."""

    returncode: int
    output: str
    results: list[dict]

    def failures(self) -> list[str]:
        return [
            f"{r['unique_id']}: {r['status']} {r.get('message') or ''}"
            for r in self.results
            if r["status"] not in {"success", "pass", "no-op"}  # no-op: exposures
        ]


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    from retail_ml.generate import generate

    work_dir = tmp_path_factory.mktemp("e2e")
    raw_dir = work_dir / "raw"
    db_path = work_dir / "warehouse.duckdb"
    manifest = generate(raw_dir, scale="small", seed=42, end_date=END_DATE)
    run = run_dbt(["build"], raw_dir=raw_dir, db_path=db_path, work_dir=work_dir)
    assert run.returncode == 0 and not run.failures(), (
        "dbt build failed:\n" + "\n".join(run.failures()) + "\n" + run.output[-5000:]
    )
    yield BuiltWarehouse(raw_dir=raw_dir, db_path=db_path, manifest=manifest)

