"""Shared fixtures: small generated data and one real `dbt build` on it, in a temp directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
END_DATE = date(2026, 11, 25)


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse built by `dbt build` from generated raw data."""

    raw_dir: Path
    db_path: Path
    manifest: dict

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db_path), read_only=True)


def run_dbt(args: list[str], *, raw_dir: Path, db_path: Path, work_dir: Path):
    """Runs dbt in-process against the repo's project, writing only under work_dir."""
    from dbt.cli.main import dbtRunner

    env = {
        "RETAIL_ML_RAW_DIR": str(raw_dir),
        "RETAIL_ML_DB_PATH": str(db_path),
        "RETAIL_ML_TEMP_DIR": str(work_dir / "duckdb_tmp"),
        "RETAIL_ML_TARGET": "ci",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        return dbtRunner().invoke(
            [
                *args,
                "--project-dir", str(PROJECT_DIR),
                "--profiles-dir", str(PROJECT_DIR),
                "--target-path", str(work_dir / "target"),
                "--log-path", str(work_dir / "logs"),
                "--no-use-colors",
                "--quiet",
            ]
        )


def failed_nodes(result) -> list[str]:
    """Names and messages of the nodes a dbt invocation did not pass."""
    if result.result is None:
        return [repr(result.exception)]
    return [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in result.result
        if str(r.status) not in {"success", "pass"}
    ]


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    from retail_ml.generate import generate

    work_dir = tmp_path_factory.mktemp("e2e")
    raw_dir = work_dir / "raw"
    db_path = work_dir / "warehouse.duckdb"
    manifest = generate(raw_dir, scale="small", seed=42, end_date=END_DATE)
    result = run_dbt(["build"], raw_dir=raw_dir, db_path=db_path, work_dir=work_dir)
    problems = failed_nodes(result)
    assert result.success and not problems, "dbt build failed:\n" + "\n".join(problems)
    yield BuiltWarehouse(raw_dir=raw_dir, db_path=db_path, manifest=manifest)

