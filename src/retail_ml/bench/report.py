"""The benchmark result (a JSON-ready dict) rendered as markdown tables."""

from __future__ import annotations

from collections.abc import Mapping

STEP_LABELS = {
    "raw_load": "raw-load floor: DuckDB reads every raw table into tables",
    "pandas_reference": "pandas reference: the notebook, {n} dates (12 cutoffs + latest day)",
    "dbt_seed": "dbt seed (not timed in the next row)",
    "dbt_raw_to_training_serving": (
        "dbt run `+ml_training_set__purchase_30d +feat_customer_serving` (raw → training + serving)"
    ),
    "dbt_build": "whole `dbt build`, fresh warehouse (seeds included)",
}
BUILD_STEP_LABELS = {
    "staging": "staging (`models/staging`)",
    "feature_layer": "feature layer",
    "training_serving": "training + serving marts",
    "ml_python": "ML Python models",
    "tests": "tests (data + unit)",
    "seeds": "seeds",
    "other": "other",
}


def format_seconds(seconds: float | None) -> str:
    """'12.3 s', '4 min 05 s' from 60 s on, '—' when missing."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def format_bytes(size: float | None) -> str:
    """Binary units: '512 MB', '7.60 GB', '—' when missing."""
    if size is None:
        return "—"
    if size >= 1024**3:
        return f"{size / 1024**3:.2f} GB"
    return f"{size / 1024**2:.0f} MB"


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:.2f}{unit}"


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def load_warning(machine: Mapping, load_after: float | None) -> str | None:
    """A warning when other work shared the machine: 1-min load average >= half the cores."""
    cores = machine.get("usable_cores") or machine.get("cores") or 1
    loads = [x for x in (machine.get("load_average_1m"), load_after) if x is not None]
    if loads and max(loads) >= cores / 2:
        return (f"**Busy machine**: load average up to {max(loads)} on {cores} cores during the "
                "run; other processes competed for CPU and the wall times are inflated.")
    return None


def render_markdown(result: Mapping) -> str:
    """The whole benchmark as markdown: machine, raw rows, steps, build breakdown, targets."""
    machine = result["machine"]
    lines = [
        f"# Benchmark at scale `{result['scale']}`",
        "",
        f"Run {result['started_at']} on {machine['cores']} cores "
        f"({machine['usable_cores']} usable), {format_bytes(machine['memory_bytes'])} RAM, "
        f"load average (1 min) {machine['load_average_1m']} before / "
        f"{result.get('load_average_1m_after', '—')} after; Python {machine['python']}, "
        f"dbt-core {machine['dbt_core']}, dbt-duckdb {machine['dbt_duckdb']}, "
        f"duckdb {machine['duckdb']}, pandas {machine['pandas']}. "
        f"dbt target `{result['dbt_target']}`, threads {result['threads']}, "
        f"DuckDB memory limit {result['memory_limit']}.",
        "",
        *([warning, ""] if (warning := load_warning(
            machine, result.get("load_average_1m_after"))) else []),
        f"Raw data `{result['raw_dir']}`; latest complete day {result['latest_day']}; "
        f"model dates: {', '.join(result['as_of_dates'])}.",
        "",
        "| raw table | rows |",
        "|---|---:|",
    ]
    lines += [f"| {table} | {rows:,} |" for table, rows in result["raw_rows"].items()]
    lines += [
        "",
        "## Steps (each in its own process)",
        "",
        "Peak RSS is the largest resident size of the step's process. The raw-load floor writes "
        "its tables to a fresh DuckDB file, as dbt does; dbt runs with a fresh target and log "
        "directory, so its times include parsing the project.",
        "",
        "| step | wall | peak RSS | ok |",
        "|---|---:|---:|---|",
    ]
    for name, step in result["steps"].items():
        label = STEP_LABELS.get(name, name).format(n=len(result["as_of_dates"]))
        lines.append(
            f"| {label} | {format_seconds(step['wall_s'])} | "
            f"{format_bytes(step['peak_rss_bytes'])} | {'yes' if step['ok'] else '**no**'} |"
        )
    lines += [
        "",
        "## Whole `dbt build`, per step (from `run_results.json`)",
        "",
        f"Feature layer = {result['feature_layer_source']}. Wall = time during which at least "
        "one node of the step ran (threads overlap); node time = sum of the nodes' own times.",
    ]
    if result.get("build_nodes_wall_s") is not None:
        lines.append(
            f"All {result['build_nodes']} nodes ran within "
            f"{format_seconds(result['build_nodes_wall_s'])} of the build's "
            f"{format_seconds(result['steps']['dbt_build']['wall_s'])}; the rest is dbt start-up, "
            "parsing and compilation outside the nodes."
        )
    lines += ["", "| step | nodes | wall | node time |", "|---|---:|---:|---:|"]
    for name, step in result["build_steps"].items():
        lines.append(
            f"| {BUILD_STEP_LABELS.get(name, name)} | {step['nodes']} | "
            f"{format_seconds(step['wall_s'])} | {format_seconds(step['node_s'])} |"
        )
    lines += ["", "Slowest nodes:", "", "| node | step | time |", "|---|---|---:|"]
    lines += [
        f"| `{node['name']}` | {node['step']} | {format_seconds(node['execution_s'])} |"
        for node in result["slowest_nodes"]
    ]
    lines += [
        "",
        f"## Targets (they apply at `large`; this run is `{result['scale']}`)",
        "",
        "| target | measured | required | verdict |",
        "|---|---:|---:|---|",
    ]
    for target in result["targets"]:
        required = f"{target['comparison']} {format_value(target['threshold'], target['unit'])}"
        lines.append(
            f"| {target['description']} | {format_value(target['value'], target['unit'])} | "
            f"{required} | {_verdict(target['met'])} |"
        )
    lines += ["", "Ratios: " + "; ".join(
        f"{name} = {'—' if value is None else f'{value:.2f}'}"
        for name, value in result["ratios"].items()
    ) + "."]
    return "\n".join(lines) + "\n"
