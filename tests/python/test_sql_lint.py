"""The SQL lint gate (`make lint`: sqlfluff, the project's .sqlfluff) fails on a seeded violation.

Two seeded breaches of the house style in a copy of a real model: a comma after the last select
column (DuckDB accepts it, others do not) and an uppercase keyword. The fast test renders with
sqlfluff's jinja templater (dbt's `ref`/`config` built in) and the project's config otherwise
unchanged; the slower one runs the real gate, the CLI with the dbt templater, in a temporary
copy of the project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlfluff.core import FluffConfig, Linter

PROJECT_DIR = Path(__file__).resolve().parents[2]
MODEL = Path("models/staging/shop/stg_shop__reviews.sql")
LAST_COLUMN = "        known_at\n    from checked"


def seeded(sql: str) -> str:
    """The model with a trailing comma after its last select column and an uppercase FROM."""
    assert LAST_COLUMN in sql, "the seeded model changed: update LAST_COLUMN"
    return sql.replace(LAST_COLUMN, "        known_at,\n    FROM checked")


def lint_codes(sql: str) -> set[str]:
    """Rule codes sqlfluff reports on sql with the project's .sqlfluff, jinja templater."""
    config = FluffConfig.from_path(str(PROJECT_DIR), overrides={"templater": "jinja"})
    result = Linter(config=config).lint_string(sql, fname=str(PROJECT_DIR / MODEL))
    return {violation.rule_code() for violation in result.get_violations()}


def test_project_config_encodes_the_house_style() -> None:
    config = FluffConfig.from_path(str(PROJECT_DIR))
    assert config.get("dialect") == "duckdb"
    assert config.get("templater") == "dbt"
    assert config.get("max_line_length") == 100
    assert config.get("line_position", ["layout", "type", "comma"]) == "trailing"
    rules = config.get_section(["rules"])
    assert rules["convention.select_trailing_comma"]["select_clause_trailing_comma"] == "forbid"
    assert rules["capitalisation.keywords"]["capitalisation_policy"] == "lower"
    assert rules["aliasing.column"]["aliasing"] == "explicit"


def test_clean_model_passes() -> None:
    assert lint_codes((PROJECT_DIR / MODEL).read_text()) == set()


def test_seeded_trailing_comma_and_uppercase_keyword_fail() -> None:
    codes = lint_codes(seeded((PROJECT_DIR / MODEL).read_text()))
    assert {"CV03", "CP01"} <= codes, codes


@pytest.mark.e2e
def test_make_lint_sqlfluff_fails_on_seeded_model(tmp_path: Path) -> None:
    """The gate's own command (dbt templater) in a copy of the project exits 1 with both codes."""
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", ".venv", "__pycache__")
    for name in (
        "models",
        "python_models",
        "macros",
        "tests",
        "seeds",
        "features",
        "docs",
        "assets",
    ):
        if (PROJECT_DIR / name).exists():
            shutil.copytree(PROJECT_DIR / name, project / name, ignore=ignore)
    for name in ("dbt_project.yml", "profiles.yml", ".sqlfluff", ".sqlfluffignore"):
        shutil.copy2(PROJECT_DIR / name, project / name)
    model = project / MODEL
    model.write_text(seeded(model.read_text()))

    env = {
        **os.environ,
        "RETAIL_ML_TARGET": "ci",
        "RETAIL_ML_DB_PATH": str(tmp_path / "lint.duckdb"),
        "RETAIL_ML_RAW_DIR": str(tmp_path / "raw"),
        "RETAIL_ML_PII_KEY": "sqlfluff-compile-only",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
    }
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [str(sqlfluff), "lint", str(MODEL), "--disable-progress-bar"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CV03" in result.stdout and "CP01" in result.stdout, result.stdout
