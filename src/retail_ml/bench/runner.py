"""One benchmark run: every step in its own measured child, then ratios, targets and the report."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from retail_ml.bench.dates import latest_complete_day, model_dates, project_vars
from retail_ml.bench.measure import StepRun, machine_info, run_measured
from retail_ml.bench.report import render_markdown
from retail_ml.bench.run_results import (
    aggregate_steps,
    feature_layer_source,
    manifest_nodes,
    node_timings,
    slowest_nodes,
    union_seconds,
)
from retail_ml.bench.targets import Measures, evaluate_targets, ratios
from retail_ml.heap import allocator_env

TRAINING_SERVING_SELECT = ["+ml_training_set__purchase_30d", "+feat_customer_serving"]


def _step_summary(run: StepRun) -> dict[str, object]:
    return {"wall_s": run.wall_s, "peak_rss_bytes": run.peak_rss_bytes, "ok": run.ok,
            "returncode": run.returncode, "argv": run.argv}


class _Bench:
    """Runs the steps in one work directory; `failures` collects the steps that failed."""

    def __init__(self, project_dir: Path, raw_dir: Path, work_dir: Path) -> None:
        self.project_dir = project_dir
        self.raw_dir = raw_dir
        self.work_dir = work_dir
        self.failures: list[str] = []
        self.python = sys.executable
        self.dbt = str(Path(sys.executable).with_name("dbt"))
        self.base_env = {**allocator_env(os.environ), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}

    def run(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> StepRun:
        print(f"[bench] {name} ...", flush=True)
        run = run_measured(name, argv, env=env or self.base_env, cwd=self.project_dir,
                           log_path=self.work_dir / "logs" / f"{name}.log")
        print(f"[bench] {name}: {run.wall_s:.1f} s, peak RSS {run.peak_rss_bytes / 1024**3:.2f} GB,"
              f" exit {run.returncode}", flush=True)
        if not run.ok:
            self.failures.append(name)
            print(run.log_tail(), file=sys.stderr, flush=True)
        return run

    def dbt_run(self, name: str, args: list[str], home: Path) -> StepRun:
        env = {**self.base_env, "RETAIL_ML_RAW_DIR": str(self.raw_dir),
               "RETAIL_ML_DB_PATH": str(home / "warehouse.duckdb")}
        argv = [self.dbt, *args, "--project-dir", str(self.project_dir),
                "--profiles-dir", str(self.project_dir), "--target-path", str(home / "target"),
                "--log-path", str(home / "logs"), "--no-use-colors"]
        return self.run(name, argv, env)


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def check_scale(manifest: dict, scale: str) -> str | None:
    """An error message when the generator's manifest says the raw data is another scale."""
    found = manifest.get("scale")
    if found is not None and found != scale:
        return (f"the raw data is scale {found!r}, not {scale!r}: point RETAIL_ML_RAW_DIR at "
                f"{scale} data or regenerate it (make data-force SCALE={scale})")
    return None


def run_bench(
    *, scale: str, raw_dir: Path, project_dir: Path, work_dir: Path | None = None,
    keep_work: bool = False,
) -> tuple[dict, bool]:
    """Runs every step once; returns the JSON-ready result and whether every step succeeded."""
    raw_dir, project_dir = raw_dir.resolve(), project_dir.resolve()
    manifest = _read_json(raw_dir / "_manifest.json")
    if (problem := check_scale(manifest, scale)) is not None:
        raise SystemExit(problem)
    work = Path(tempfile.mkdtemp(prefix=f"retail_ml_bench_{scale}_", dir=work_dir))
    bench = _Bench(project_dir, raw_dir, work)
    started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    machine = machine_info()
    try:
        cutoffs, label_days = project_vars(project_dir)
        latest_day = latest_complete_day(raw_dir)
        as_of_dates = model_dates(latest_day, cutoffs=cutoffs, label_window_days=label_days)

        (work / "raw_load").mkdir()
        raw_load = bench.run("raw_load", [
            bench.python, "-m", "retail_ml.bench.steps", "raw-load", "--raw-dir", str(raw_dir),
            "--db", str(work / "raw_load" / "raw.duckdb"), "--out", str(work / "raw_load.json"),
        ])
        raw_rows = _read_json(work / "raw_load.json").get("rows", {})
        shutil.rmtree(work / "raw_load")

        pandas = bench.run("pandas_reference", [
            bench.python, "-m", "retail_ml.bench.steps", "pandas",
            "--notebook", str(project_dir / "notebooks" / "customer_features.py"),
            "--raw-dir", str(raw_dir), "--seeds-dir", str(project_dir / "seeds"),
            *[arg for day in as_of_dates for arg in ("--as-of", day.isoformat())],
            "--out", str(work / "pandas.json"),
        ])
        pandas_rows = _read_json(work / "pandas.json").get("rows")

        subset_home = work / "dbt_subset"
        seed = bench.dbt_run("dbt_seed", ["seed"], subset_home)
        subset = bench.dbt_run("dbt_raw_to_training_serving",
                               ["run", "--select", *TRAINING_SERVING_SELECT], subset_home)
        shutil.rmtree(subset_home)

        build_home = work / "dbt_build"
        build = bench.dbt_run("dbt_build", ["build"], build_home)
        results = _read_json(build_home / "target" / "run_results.json").get("results", [])
        nodes = manifest_nodes(_read_json(build_home / "target" / "manifest.json"))
    finally:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)

    timings = node_timings(results, nodes)
    build_steps = aggregate_steps(timings)
    feature_layer = build_steps.get("feature_layer")
    measures = Measures(
        pandas_wall_s=pandas.wall_s if pandas.ok else None,
        pandas_peak_rss_bytes=pandas.peak_rss_bytes if pandas.ok else None,
        raw_to_training_serving_wall_s=subset.wall_s if subset.ok and seed.ok else None,
        feature_layer_wall_s=feature_layer.wall_s if feature_layer and build.ok else None,
        build_wall_s=build.wall_s if build.ok else None,
        build_peak_rss_bytes=build.peak_rss_bytes if build.ok else None,
        raw_load_wall_s=raw_load.wall_s if raw_load.ok else None,
    )
    result = {
        "scale": scale,
        "started_at": started_at,
        "machine": machine,
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "dbt_target": os.environ.get("RETAIL_ML_TARGET", "dev"),
        "threads": int(os.environ.get("RETAIL_ML_THREADS", "2")),
        "memory_limit": os.environ.get(
            "RETAIL_ML_MEMORY_LIMIT",
            "4GB" if os.environ.get("RETAIL_ML_TARGET") == "ci" else "8GB",
        ),
        "raw_dir": str(raw_dir),
        "raw_manifest": {key: manifest.get(key) for key in ("scale", "seed", "end_date")},
        "raw_rows": raw_rows,
        "latest_day": latest_day.isoformat(),
        "as_of_dates": [day.isoformat() for day in as_of_dates],
        "pandas_rows": pandas_rows,
        "steps": {run.name: _step_summary(run) for run in (raw_load, pandas, seed, subset, build)},
        "seed_excluded_from": "dbt_raw_to_training_serving",
        "build_nodes": len(timings),
        "build_nodes_wall_s": round(union_seconds(
            (t.started, t.completed) for t in timings if t.started and t.completed), 3),
        "build_steps": {name: asdict(step) for name, step in build_steps.items()},
        "feature_layer_source": feature_layer_source(nodes),
        "slowest_nodes": [
            {"name": t.name, "step": t.step, "execution_s": round(t.execution_s, 3)}
            for t in slowest_nodes(timings)
        ],
        "ratios": {k: None if v is None else round(v, 3) for k, v in ratios(measures).items()},
        "targets": [asdict(target) for target in evaluate_targets(measures)],
        "failed_steps": bench.failures,
    }
    return result, not bench.failures


def write_report(result: dict, out_dir: Path) -> tuple[Path, Path, str]:
    """Writes bench_<scale>.json and bench_<scale>.md; returns both paths and the markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(result)
    json_path = out_dir / f"bench_{result['scale']}.json"
    md_path = out_dir / f"bench_{result['scale']}.md"
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    md_path.write_text(markdown)
    return json_path, md_path, markdown
