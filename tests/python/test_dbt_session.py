"""retail_ml.dbt_session: its argument handling, and when it warms the Python models' imports (the
session itself runs in every daily e2e)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from retail_ml.dbt_session import parse_args_of, target_path_of


def test_the_parse_keeps_only_the_arguments_dbt_parse_takes():
    build = ["--selector", "intraday_refresh", "--project-dir", "p", "--profiles-dir=p",
             "--full-refresh", "--no-use-colors", "--target-path", "t1", "--log-path", "l",
             "--threads", "2", "--target-path", "t2"]
    assert parse_args_of(build) == ["--project-dir", "p", "--profiles-dir=p",
                                    "--no-use-colors", "--target-path", "t1",
                                    "--log-path", "l", "--target-path", "t2"]


def test_the_target_path_is_the_last_one_given_or_dbts_default():
    assert target_path_of(["--target-path", "a", "--target-path", "b"]) == Path("b")
    assert target_path_of(["--project-dir", "p"]) == Path("target")


# A real session on the repo's project (its own target path: a full parse) in a child process,
# where nothing else has imported the Python models' modules yet.
SESSION_ORDER = """
import json, sys, time
from retail_ml.dbt_session import MODEL_IMPORTS, DbtSession

work = sys.argv[1]
dbt_args = ["--project-dir", sys.argv[2], "--profiles-dir", sys.argv[2], "--no-use-colors",
            "--log-path", work + "/logs", "--target-path", work + "/target"]
session = DbtSession(
    dbt_args,
    {"RETAIL_ML_DB_PATH": work + "/warehouse.duckdb", "RETAIL_ML_RAW_DIR": work + "/raw"},
)
session.manifest()
time.sleep(3)  # ample time for the imports to run, were they not waiting for the build
before = [module for module in MODEL_IMPORTS if module in sys.modules]
returncode, _ = session.build(["--select", "tag:no_such_tag", *dbt_args])
deadline = time.monotonic() + 120
while time.monotonic() < deadline and not set(MODEL_IMPORTS) <= set(sys.modules):
    time.sleep(0.1)
after = [module for module in MODEL_IMPORTS if module in sys.modules]
print(json.dumps({"before": before, "after": after, "returncode": returncode}))
"""


def test_the_python_models_imports_are_warmed_once_the_build_starts(tmp_path):
    """Not while the landing and the pre-flight run beside the parse: warmed then, they held
    the GIL the pre-flight needs and delayed the build by 2-4 s at `large`."""
    project = Path(__file__).resolve().parents[2]
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", SESSION_ORDER, str(tmp_path), str(project)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["returncode"] == 0
    assert seen["before"] == []
    assert seen["after"] == ["retail_ml.ml", "retail_ml.recommend"]
