"""Daily, intraday and scale-out benchmarks (make bench-daily, bench-build, bench-scaling).

    python -m retail_ml.bench.incremental daily --scale large --future-dir F --end-date 2026-11-25
    python -m retail_ml.bench.incremental build --scale xl --raw-dir /path/to/xl
    python -m retail_ml.bench.incremental scaling

daily: in a temp dir, the landing zone is initialised from a future world F (generated to a
later end date, retail_ml.landing) through `--end-date`, then, each step a measured child:
  1. `daily --no-land` on an empty warehouse: the first run, a full refresh (baseline);
  2. `daily`: lands the next day and runs incrementally (the number to compare);
  3. `refresh --hours H`: lands the next H hours and recomputes the fresh customers'
     features, scores and recommendations (the intraday number), then `refresh --hours 1`
     (the hourly cadence of `make refresh`);
  4. `daily --no-land -- --full-refresh`: a full rebuild of the landed files (those of the
     daily run plus the refresh's hours), last so a run cut short keeps steps 2 and 3.
Each run includes the landing, the pre-flight and freshness checks, dbt and the publication:
what `make daily` / `make refresh` cost. All runs share one dbt target path, as `make` keeps
`target/` (dbt then parses only what changed). Per-step dbt times come from run_results.json.
build: one whole `dbt build` on a fresh warehouse (the xl scale-out point: the pandas
reference of `make bench` would not fit in memory there).
scaling: the table and plot of build time against raw events from every bench_*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from retail_ml import landing
from retail_ml.bench.measure import StepRun, machine_info, run_measured
from retail_ml.bench.report import format_bytes, format_seconds
from retail_ml.bench.run_results import aggregate_steps, manifest_nodes, node_timings
from retail_ml.heap import allocator_env

DAILY_MAX_SHARE = 0.10  # a daily run within 1/10 of the full refresh's time, at large
REFRESH_MAX_S = 30.0  # an intraday refresh within 30 s, at large
XL_MAX_FACTOR = 4.0  # the xl build within 4x the large build
SCALES_IN_ORDER = ("small", "default", "large", "xl")


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _summary(run: StepRun, target: Path | None = None) -> dict:
    out: dict = {"wall_s": run.wall_s, "peak_rss_bytes": run.peak_rss_bytes, "ok": run.ok,
                 "returncode": run.returncode}
    if target is not None:
        results = _read_json(target / "run_results.json").get("results", [])
        nodes = manifest_nodes(_read_json(target / "manifest.json"))
        timings = node_timings(results, nodes)
        out["dbt_steps"] = {name: round(step.wall_s, 1)
                            for name, step in aggregate_steps(timings).items()}
        out["slowest_nodes"] = [
            {"name": t.name, "execution_s": round(t.execution_s, 1)}
            for t in sorted(timings, key=lambda t: -t.execution_s)[:6]]
    return out


def _env(raw_dir: Path, db: Path) -> dict[str, str]:
    return {**allocator_env(os.environ), "RETAIL_ML_RAW_DIR": str(raw_dir),
            "RETAIL_ML_DB_PATH": str(db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def bench_daily(scale: str, future_dir: Path, end_date: date, project_dir: Path,
                refresh_hours: float, work_parent: Path | None,
                progress: Path | None = None) -> dict:
    """The four runs (module docstring); `progress` gets the steps measured so far after each
    one, so a run cut short leaves its numbers."""
    started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    work = Path(tempfile.mkdtemp(prefix=f"retail_ml_bench_daily_{scale}_", dir=work_parent))
    try:
        raw, db = work / "raw", work / "wh" / "warehouse.duckdb"
        db.parent.mkdir(parents=True)
        manifest = _read_json(future_dir / "_manifest.json")
        landing.init_landing(raw, future_dir, manifest["scale"], manifest["seed"], end_date,
                             (date.fromisoformat(manifest["end_date"]) - end_date).days)
        env = _env(raw, db)

        # One target path for every run, as `make daily` / `make refresh` keep `target/`: dbt
        # parses only what changed (a new target path would cost a full parse, ~15 s at large,
        # that no production run pays). Each step's artefacts are copied out after it.
        shared_target = work / "target"

        def daily(name: str, mode: str, *args: str, dbt_args: tuple[str, ...] = ()) -> dict:
            target = work / f"target_{name}"
            (shared_target / "run_results.json").unlink(missing_ok=True)  # never the last step's
            argv = [sys.executable, "-m", "retail_ml.daily", mode, "--db", str(db),
                    "--raw-dir", str(raw), "--target-path", str(shared_target), *args, "--",
                    "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
                    "--log-path", str(work / "logs"), "--no-use-colors", *dbt_args]
            print(f"[bench] {name} ...", flush=True)
            run = run_measured(name, argv, env=env, cwd=project_dir,
                               log_path=work / "logs" / f"{name}.log")
            print(f"[bench] {name}: {run.wall_s:.1f} s, exit {run.returncode}", flush=True)
            target.mkdir()
            for artefact in ("run_results.json", "manifest.json"):
                if (shared_target / artefact).exists():
                    shutil.copy2(shared_target / artefact, target / artefact)
            if not run.ok:
                print(run.log_tail(), file=sys.stderr, flush=True)
            summary = _summary(run, target)
            summary["landed"] = next((line for line in Path(run.log_path).read_text(
                errors="replace").splitlines() if line.startswith("landed")), None)
            return summary

        steps: dict[str, dict] = {}

        def record(name: str, summary: dict) -> None:
            steps[name] = summary
            if progress is not None:
                progress.write_text(json.dumps(steps, indent=2) + "\n")
            if not summary["ok"]:
                # Each step starts from the warehouse the one before left: nothing after a
                # failed step measures what it claims.
                raise SystemExit(f"[bench] {name} failed (exit {summary['returncode']}): "
                                 "stopped; the steps so far are in the partial JSON")

        record("first_run_full_refresh", daily("first_run_full_refresh", "daily", "--no-land"))
        record("daily_incremental", daily("daily_incremental", "daily"))
        for name, hours in (("intraday_refresh", refresh_hours), ("hourly_refresh", 1.0)):
            before = _new_customers(raw)
            refresh = daily(name, "refresh", "--hours", f"{hours:g}")
            refresh["customer_rows_landed"] = _new_customers(raw) - before
            refresh["fresh_customers"] = _fresh_customers(db)
            record(name, refresh)
        # Last, so that a run cut short still has the daily and intraday numbers; it rebuilds
        # the landed files of the daily run plus the refresh's hours (a fraction of a day
        # more than the daily run saw, of two years).
        record("full_refresh_same_data", daily("full_refresh_same_data", "daily", "--no-land",
                                               dbt_args=("--full-refresh",)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "kind": "daily", "scale": scale, "machine": machine_info(),
        "started_at": started_at,
        "finished_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "future_manifest": {k: manifest.get(k) for k in ("scale", "seed", "end_date")},
        "landed_through_before": end_date.isoformat(), "refresh_hours": refresh_hours,
        "memory_limit": os.environ.get("RETAIL_ML_MEMORY_LIMIT", "8GB"),
        "threads": int(os.environ.get("RETAIL_ML_THREADS", "2")),
        "steps": steps,
        "targets": daily_targets(steps),
    }


def daily_targets(steps: dict[str, dict]) -> list[dict]:
    """The daily run against a full refresh (the one of the same files, or else the first run:
    one day fewer of two years), and the intraday refresh's wall time."""
    full = steps.get("full_refresh_same_data", {})
    comparator = "full_refresh_same_data"
    if not full.get("ok"):
        full, comparator = steps["first_run_full_refresh"], "first_run_full_refresh"
    daily_s, full_s = steps["daily_incremental"]["wall_s"], full["wall_s"]
    refresh_s = steps["intraday_refresh"]["wall_s"]
    # A failed run is fast for the wrong reason: it never meets a target.
    daily_ok = steps["daily_incremental"]["ok"] and full.get("ok", False)
    return [
        {"name": "daily_share_of_full_refresh", "value": round(daily_s / full_s, 3),
         "threshold": DAILY_MAX_SHARE,
         "met": daily_ok and daily_s <= DAILY_MAX_SHARE * full_s,
         "compared_with": comparator},
        {"name": "intraday_refresh_s", "value": refresh_s, "threshold": REFRESH_MAX_S,
         "met": steps["intraday_refresh"]["ok"] and refresh_s <= REFRESH_MAX_S},
    ]


def _fresh_customers(db: Path) -> int | None:
    """Customers the last refresh recomputed (int_customers_fresh), or None if unreadable."""
    import duckdb

    try:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("select count(*) from int_customers_fresh").fetchone()[0]
    except duckdb.Error:
        return None


def _new_customers(raw: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in (raw / "customers").glob("*/*.parquet"))


def bench_build(scale: str, raw_dir: Path, project_dir: Path, work_parent: Path | None) -> dict:
    started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    work = Path(tempfile.mkdtemp(prefix=f"retail_ml_bench_build_{scale}_", dir=work_parent))
    try:
        db = work / "warehouse.duckdb"
        argv = [str(Path(sys.executable).with_name("dbt")), "build",
                "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
                "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
                "--no-use-colors"]
        print("[bench] dbt_build ...", flush=True)
        run = run_measured("dbt_build", argv, env=_env(raw_dir, db), cwd=project_dir,
                           log_path=work / "logs" / "dbt_build.log")
        print(f"[bench] dbt_build: {run.wall_s:.1f} s, exit {run.returncode}", flush=True)
        if not run.ok:
            print(run.log_tail(), file=sys.stderr, flush=True)
        summary = _summary(run, work / "target")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    manifest = _read_json(raw_dir / "_manifest.json")
    return {"kind": "build", "scale": scale, "machine": machine_info(),
            "started_at": started_at,
            "finished_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "raw_manifest": {k: manifest.get(k) for k in ("scale", "seed", "end_date")},
            "raw_rows": manifest.get("rows", {}),
            "steps": {"dbt_build": summary}}


def scaling_rows(bench_dir: Path) -> list[dict]:
    """Build time vs raw events per scale, from bench_<scale>.json (make bench) and
    bench_build_<scale>.json (the build-only bench)."""
    rows = []
    for scale in SCALES_IN_ORDER:
        for name in (f"bench_build_{scale}.json", f"bench_{scale}.json"):
            data = _read_json(bench_dir / name)
            step = data.get("steps", {}).get("dbt_build")
            if step:
                events = sum((data.get("raw_rows") or {}).values())
                rows.append({"scale": scale, "raw_rows": events,
                             "build_s": step["wall_s"] if step.get("ok") else None,
                             "stopped_after_s": None if step.get("ok") else step["wall_s"],
                             "peak_rss_bytes": step["peak_rss_bytes"], "source": name,
                             "started_at": data.get("started_at")})
                break
    return rows


def render_scaling(rows: list[dict]) -> str:
    lines = ["| scale | raw rows (events) | whole `dbt build` | s per million rows | peak RSS |"
             " source |", "|---|---|---|---|---|---|"]
    for row in rows:
        if row["build_s"] is None:
            lines.append(f"| `{row['scale']}` | {row['raw_rows']:,} | did not complete "
                         f"(stopped after {format_seconds(row['stopped_after_s'])}) | — | "
                         f"{format_bytes(row['peak_rss_bytes'])} | {row['source']} |")
            continue
        per_million = row["build_s"] / (row["raw_rows"] / 1e6) if row["raw_rows"] else None
        lines.append(f"| `{row['scale']}` | {row['raw_rows']:,} | "
                     f"{format_seconds(row['build_s'])} | "
                     f"{'—' if per_million is None else f'{per_million:.2f}'} | "
                     f"{format_bytes(row['peak_rss_bytes'])} | {row['source']} |")
    return "\n".join(lines) + "\n"


def plot_scaling(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["build_s"] is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [r["raw_rows"] / 1e6 for r in rows]
    ys = [r["build_s"] / 60 for r in rows]
    ax.plot(xs, ys, marker="o")
    for x, y, r in zip(xs, ys, rows, strict=True):
        ax.annotate(r["scale"], (x, y), textcoords="offset points", xytext=(5, -12))
    if len(rows) >= 2:  # the line through the origin and the first point: linear in events
        slope = ys[0] / xs[0]
        ax.plot([0, max(xs)], [0, slope * max(xs)], linestyle="--", color="grey",
                label=f"linear from {rows[0]['scale']}")
        ax.legend()
    ax.set_xlabel("raw rows landed (millions)")
    ax.set_ylabel("whole dbt build (minutes)")
    ax.set_title("dbt build time vs scale (2 cores)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def render_daily(result: dict) -> str:
    steps = result["steps"]
    labels = {
        "first_run_full_refresh": "first run on an empty warehouse (full refresh)",
        "daily_incremental": "**daily run**: land the next day, incremental build, publish",
        "intraday_refresh": f"**intraday refresh**: land {result['refresh_hours']:g} h, "
                            "the fresh customers' features, scores and recommendations, publish",
        "hourly_refresh": "hourly refresh: land the next hour, the same",
        "full_refresh_same_data": "full refresh of the landed files (+ the refresh's hours)",
    }
    lines = [f"# Daily and intraday runs at `{result['scale']}`", "",
             f"Started {result['started_at']}"
             + (f", finished {result['finished_at']}" if result.get("finished_at") else "")
             + ", load average after "
             f"{result['load_average_1m_after']} (2 cores; other sessions shared the machine); "
             f"DuckDB memory_limit {result.get('memory_limit')}, threads {result.get('threads')}.",
             "", "| run | wall | peak RSS | dbt steps (wall s) | landed |", "|---|---|---|---|---|"]
    for name, label in labels.items():
        step = steps.get(name)
        if step is None:
            continue
        dbt_steps = ", ".join(f"{k} {v:g}" for k, v in step.get("dbt_steps", {}).items())
        if not step.get("ok", True):
            label += f" — **failed** (exit {step.get('returncode')})"
        fresh = (f"; fresh customers recomputed: {step['fresh_customers']}"
                 if step.get("fresh_customers") is not None else "")
        lines.append(f"| {label} | {format_seconds(step['wall_s'])} | "
                     f"{format_bytes(step['peak_rss_bytes'])} | {dbt_steps} | "
                     f"{step.get('landed') or ''}{fresh} |")
    lines += ["", "| target | value | threshold | verdict |", "|---|---|---|---|"]
    for target in result["targets"]:
        against = f" (vs {target['compared_with']})" if target.get("compared_with") else ""
        lines.append(f"| {target['name']}{against} | {target['value']} | "
                     f"{target['threshold']} | {'met' if target['met'] else '**not met**'} |")
    for name, title in (("daily_incremental", "daily run"),
                        ("intraday_refresh", "intraday refresh")):
        if steps.get(name, {}).get("slowest_nodes"):
            lines += ["", f"Slowest nodes of the {title}:", ""]
            lines += [f"- {n['name']}: {n['execution_s']} s" for n in steps[name]["slowest_nodes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    daily = sub.add_parser("daily")
    daily.add_argument("--scale", required=True)
    daily.add_argument("--future-dir", type=Path, required=True)
    daily.add_argument("--end-date", type=date.fromisoformat, required=True)
    daily.add_argument("--refresh-hours", type=float, default=24.0)
    build = sub.add_parser("build")
    build.add_argument("--scale", required=True)
    build.add_argument("--raw-dir", type=Path, required=True)
    sub.add_parser("scaling")
    render = sub.add_parser("render", help="re-render bench_daily_<scale>.md from its JSON")
    render.add_argument("--scale", required=True)
    for command in (daily, build, sub.choices["scaling"], render):
        command.add_argument("--project-dir", type=Path, default=Path("."))
        command.add_argument("--out-dir", type=Path, default=None)
        command.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    project_dir = args.project_dir.resolve()
    out_dir = args.out_dir or project_dir / "docs" / "benchmarks"
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.command == "daily":
        result = bench_daily(args.scale, args.future_dir.resolve(), args.end_date, project_dir,
                             args.refresh_hours, args.work_dir,
                             progress=out_dir / f"bench_daily_{args.scale}.partial.json")
        (out_dir / f"bench_daily_{args.scale}.json").write_text(
            json.dumps(result, indent=2, default=str) + "\n")
        markdown = render_daily(result)
        (out_dir / f"bench_daily_{args.scale}.md").write_text(markdown)
        print(markdown)
        return 0 if all(s["ok"] for s in result["steps"].values()) else 1
    if args.command == "render":
        path = out_dir / f"bench_daily_{args.scale}.json"
        result = json.loads(path.read_text())
        result["targets"] = daily_targets(result["steps"])
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        (out_dir / f"bench_daily_{args.scale}.md").write_text(render_daily(result))
        print(render_daily(result))
        return 0
    if args.command == "build":
        result = bench_build(args.scale, args.raw_dir.resolve(), project_dir, args.work_dir)
        (out_dir / f"bench_build_{args.scale}.json").write_text(
            json.dumps(result, indent=2, default=str) + "\n")
        print(json.dumps(result["steps"], indent=2))
        return 0 if result["steps"]["dbt_build"]["ok"] else 1
    rows = scaling_rows(out_dir)
    markdown = "# Build time vs scale\n\n" + render_scaling(rows)
    large = next((r for r in rows if r["scale"] == "large" and r["build_s"]), None)
    xl = next((r for r in rows if r["scale"] == "xl" and r["build_s"]), None)
    if large and xl:
        factor = xl["build_s"] / large["build_s"]
        verdict = "met" if factor <= XL_MAX_FACTOR else "**not met**"
        markdown += (f"\nxl build / large build: {factor:.2f}x (target <= {XL_MAX_FACTOR:g}x: "
                     f"{verdict}); raw rows {xl['raw_rows'] / large['raw_rows']:.2f}x.\n")
    (out_dir / "scaling.md").write_text(markdown)
    (out_dir / "scaling.json").write_text(json.dumps(rows, indent=2) + "\n")
    if rows:
        plot_scaling(rows, out_dir / "scaling.png")
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())

