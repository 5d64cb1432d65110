"""dbt in this process, parsed while the files land (retail_ml.daily).

A `dbt build` child process pays its start (importing dbt, ~2 s), loading the parsed project
(~1 s at this size) and, in its first Python model, importing scikit-learn (~1.5 s): seconds an
intraday refresh of ~30 s cannot spare, and each of them can be paid while the landing and the
pre-flight read files. So the session imports dbt and parses the project in a background
thread started before the landing (dbt's programmatic runner, `dbtRunner`), and builds with the
parsed manifest: the build starts on its first node. The same thread warms the imports of the
Python models once the build has started, while its first (SQL) nodes run: warmed before, they
held the GIL the pre-flight's per-file checks need, and delayed the build by 2-4 s at `large`.

The landing and the pre-flight are mostly Arrow and DuckDB work, which releases Python's GIL,
so the thread runs alongside them. The build's log goes to stdout as the CLI's does; the parse
is quiet unless it fails.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from retail_ml.build import LOCK_ERROR

# The dbt arguments `dbt parse` takes too (the others, e.g. --full-refresh, are build-only).
PARSE_OPTIONS = {"--project-dir", "--profiles-dir", "--target-path", "--log-path", "--vars",
                 "--target", "-t"}
PARSE_FLAGS = {"--no-use-colors", "--use-colors"}
# Imported by the Python models (python_models/): warmed while the files land.
MODEL_IMPORTS = ("retail_ml.ml", "retail_ml.recommend")


def parse_args_of(dbt_args: list[str]) -> list[str]:
    """The part of the build's dbt arguments that `dbt parse` accepts."""
    kept, i = [], 0
    while i < len(dbt_args):
        arg = dbt_args[i]
        if arg in PARSE_OPTIONS and i + 1 < len(dbt_args):
            kept += [arg, dbt_args[i + 1]]
            i += 2
            continue
        if arg in PARSE_FLAGS or arg.split("=", 1)[0] in PARSE_OPTIONS:
            kept.append(arg)
        i += 1
    return kept


def target_path_of(dbt_args: list[str]) -> Path:
    """The target path dbt writes to: the last `--target-path` given (the runner appends its
    own), else `target`."""
    if "--target-path" not in dbt_args:
        return Path("target")
    last = len(dbt_args) - 1 - dbt_args[::-1].index("--target-path")
    return Path(dbt_args[last + 1])


def close_warehouse() -> None:
    """Closes the DuckDB instance dbt-duckdb keeps for the process (it holds the warehouse
    file open until exit): publishing then attaches the same file, which DuckDB refuses while
    another instance of this process has it open."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV  # noqa: SLF001 - no public way to close it
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()  # cursors of Python models' relations keep the instance alive until freed


class DbtSession:
    """One parse, started at once in a background thread, then one build with its manifest.

    `env` is merged into this process's environment first: dbt renders the profile and the
    project's `env_var()` calls from it, in the parse as in the build.
    """

    def __init__(self, dbt_args: list[str], env: dict[str, str]) -> None:
        os.environ.update(env)
        self._dbt_args = list(dbt_args)
        self._manifest: Any = None
        self._error: BaseException | None = None
        self._failed_output = ""
        self._parsed = threading.Event()
        self._building = threading.Event()
        self._thread = threading.Thread(target=self._parse, name="dbt-parse", daemon=True)
        self._thread.start()

    def _parse(self) -> None:
        try:
            from dbt.cli.main import dbtRunner

            quiet = dbtRunner().invoke(["--quiet", "parse", *parse_args_of(self._dbt_args)])
            if not quiet.success:
                self._failed_output = str(quiet.exception or "dbt parse failed")
                return
            self._manifest = quiet.result
        except BaseException as error:  # noqa: BLE001 - reported by manifest()
            self._error = error
            return
        finally:
            self._parsed.set()
        # While the build's first nodes (SQL: DuckDB releases the GIL) run; Python's import
        # lock makes a model that imports one of them first wait for it, not import it twice.
        self._building.wait()
        for module in MODEL_IMPORTS:
            with contextlib.suppress(Exception):  # a model importing it reports the error
                importlib.import_module(module)

    def manifest(self) -> dict:
        """The parsed project's manifest (target/manifest.json), once the parse ends; a failed
        parse ends the run with dbt's error."""
        self._parsed.wait()
        if self._error is not None:
            raise self._error
        if self._manifest is None:  # --quiet still logs the errors
            print(f"dbt parse failed: {self._failed_output}", file=sys.stderr)
            raise SystemExit(2)
        return json.loads((target_path_of(self._dbt_args) / "manifest.json").read_text())

    def build(self, build_args: list[str]) -> tuple[int, bool]:
        """`dbt build` with the parsed manifest. Returns the CLI's exit code (0 green, 1 a node
        failed, 2 dbt itself failed) and whether DuckDB's file lock stopped it."""
        self.manifest()
        self._building.set()
        from dbt.cli.main import dbtRunner

        hit_lock = False

        def watch(event: Any) -> None:
            nonlocal hit_lock
            hit_lock = hit_lock or LOCK_ERROR in str(getattr(event.info, "msg", ""))

        try:
            result = dbtRunner(manifest=self._manifest, callbacks=[watch]).invoke(
                ["build", *build_args])
        finally:
            close_warehouse()
        for node in getattr(result.result, "results", None) or []:
            hit_lock = hit_lock or LOCK_ERROR in str(getattr(node, "message", "") or "")
        if result.exception is not None:
            hit_lock = hit_lock or LOCK_ERROR in str(result.exception)
            print(f"dbt build failed: {result.exception}", file=sys.stderr)
            return 2, hit_lock
        return (0 if result.success else 1), hit_lock
