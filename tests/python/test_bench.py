"""Unit tests of `retail_ml.bench` on tiny inputs: no dbt run, no timing assertions."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from retail_ml.bench.dates import latest_complete_day, model_dates, month_end, training_cutoffs
from retail_ml.bench.report import format_bytes, format_seconds, render_markdown
from retail_ml.bench.run_results import (
    aggregate_steps,
    classify_node,
    feature_layer_source,
    manifest_nodes,
    node_timings,
    slowest_nodes,
    union_seconds,
)
from retail_ml.bench.runner import check_scale
from retail_ml.bench.targets import Measures, evaluate_targets, ratios

# --- dates -----------------------------------------------------------------------------------


def test_month_end_handles_leap_years_and_december() -> None:
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)


def test_training_cutoffs_are_the_latest_fully_labelled_month_ends() -> None:
    cutoffs = training_cutoffs(date(2026, 11, 25), cutoffs=12, label_window_days=30)
    assert len(cutoffs) == 12
    assert cutoffs[0] == date(2025, 10, 31)
    # 2026-10-31 + 30 days = 2026-11-30 > 2026-11-25: not labelled yet.
    assert cutoffs[-1] == date(2026, 9, 30)
    assert cutoffs == sorted(cutoffs)


def test_a_label_window_ending_on_the_latest_day_counts() -> None:
    assert training_cutoffs(date(2026, 10, 30), cutoffs=1)[-1] == date(2026, 9, 30)
    assert training_cutoffs(date(2026, 10, 29), cutoffs=1)[-1] == date(2026, 8, 31)


def test_cutoffs_stop_at_the_first_feature_date() -> None:
    cutoffs = training_cutoffs(date(2026, 11, 25), cutoffs=12, first_day=date(2026, 7, 15))
    assert cutoffs == [date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30)]


def test_model_dates_add_the_latest_day_once() -> None:
    dates = model_dates(date(2026, 11, 25))
    assert len(dates) == 13 and dates[-1] == date(2026, 11, 25)
    # A month-end latest day is served, not trained on (its label window has not passed).
    month_end_dates = model_dates(date(2026, 11, 30))
    assert month_end_dates[-2:] == [date(2026, 10, 31), date(2026, 11, 30)]
    assert len(month_end_dates) == 13


def test_latest_complete_day_is_the_max_utc_landing_date(tmp_path: Path) -> None:
    for day, loaded_at in [("2026-11-24", "2026-11-24 10:00:00+00"),
                           ("2026-11-25", "2026-11-25 23:30:00-02")]:  # 01:30 UTC on the 26th
        folder = tmp_path / "orders" / f"load_date={day}"
        folder.mkdir(parents=True)
        duckdb.sql(
            f"copy (select 1 as id, timestamptz '{loaded_at}' as _loaded_at) "
            f"to '{folder / 'part-0.parquet'}' (format parquet)"
        )
    assert latest_complete_day(tmp_path) == date(2026, 11, 26)


def test_invalid_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        training_cutoffs(date(2026, 11, 25), cutoffs=-1)


# --- run_results aggregation -----------------------------------------------------------------


def _node(name: str, path: str, *, resource_type: str = "model", language: str = "sql",
          tags: list[str] | None = None) -> dict:
    return {"name": name, "original_file_path": path, "resource_type": resource_type,
            "language": language, "tags": tags or []}


def _result(uid: str, start: str, end: str, seconds: float) -> dict:
    return {
        "unique_id": uid, "status": "success", "execution_time": seconds,
        "timing": [
            {"name": "compile", "started_at": f"2026-01-01T00:00:{start}Z",
             "completed_at": f"2026-01-01T00:00:{start}Z"},
            {"name": "execute", "started_at": f"2026-01-01T00:00:{start}Z",
             "completed_at": f"2026-01-01T00:00:{end}Z"},
        ],
    }


MANIFEST = {
    "nodes": {
        "model.p.stg_a": _node("stg_a", "models/staging/shop/stg_a.sql"),
        "model.p.stg_b": _node("stg_b", "models/staging/shop/stg_b.sql"),
        "model.p.int_x": _node("int_x", "models/intermediate/customers/int_x.sql"),
        "model.p.feat_customer_daily": _node(
            "feat_customer_daily", "models/marts/customers/feat_customer_daily.sql"),
        "model.p.feat_customer_serving": _node(
            "feat_customer_serving", "models/marts/customers/feat_customer_serving.sql"),
        "model.p.ml_training_set__purchase_30d": _node(
            "ml_training_set__purchase_30d", "models/marts/ml/ml_training_set__purchase_30d.sql"),
        "model.p.ml_model_registry": _node(
            "ml_model_registry", "python_models/ml/ml_model_registry.py", language="python"),
        "test.p.not_null_x": _node("not_null_x", "models/x.yml", resource_type="test"),
        "seed.p.countries": _node("countries", "seeds/countries.csv", resource_type="seed"),
    },
    "unit_tests": {
        "unit_test.p.window_edges": _node("window_edges", "models/y.yml",
                                          resource_type="unit_test"),
    },
}
RESULTS = [
    _result("seed.p.countries", "00", "01", 1.0),
    _result("model.p.stg_a", "01", "05", 4.0),
    _result("model.p.stg_b", "02", "04", 2.0),  # overlaps stg_a: wall 4 s, node time 6 s
    _result("model.p.int_x", "05", "08", 3.0),
    _result("model.p.feat_customer_daily", "08", "18", 10.0),
    _result("model.p.feat_customer_serving", "18", "19", 1.0),
    _result("model.p.ml_training_set__purchase_30d", "18", "20", 2.0),
    _result("model.p.ml_model_registry", "20", "27", 7.0),
    _result("test.p.not_null_x", "27", "28", 0.5),
    {"unique_id": "unit_test.p.window_edges", "status": "pass", "execution_time": 0.25,
     "timing": []},
]


def test_nodes_are_classified_by_path_language_and_type() -> None:
    steps = {t.name: t.step for t in node_timings(RESULTS, manifest_nodes(MANIFEST))}
    assert steps == {
        "countries": "seeds", "stg_a": "staging", "stg_b": "staging", "int_x": "feature_layer",
        "feat_customer_daily": "feature_layer", "feat_customer_serving": "training_serving",
        "ml_training_set__purchase_30d": "training_serving", "ml_model_registry": "ml_python",
        "not_null_x": "tests", "window_edges": "tests",
    }
    assert feature_layer_source(manifest_nodes(MANIFEST)).startswith("fallback")


def test_the_feature_layer_tag_replaces_the_path_fallback() -> None:
    nodes = manifest_nodes(MANIFEST)
    nodes["model.p.feat_customer_daily"] = {**nodes["model.p.feat_customer_daily"],
                                            "tags": ["feature_layer"]}
    steps = {t.name: t.step for t in node_timings(RESULTS, nodes)}
    assert steps["feat_customer_daily"] == "feature_layer"
    assert steps["int_x"] == "other"  # untagged: no longer counted as feature layer
    assert feature_layer_source(nodes) == "tag:feature_layer"
    tagged_serving = {**nodes["model.p.feat_customer_serving"], "tags": ["feature_layer"]}
    assert classify_node(tagged_serving, tagged=True) == "feature_layer"


def test_step_wall_time_is_the_union_of_node_intervals() -> None:
    steps = aggregate_steps(node_timings(RESULTS, manifest_nodes(MANIFEST)))
    assert list(steps) == ["staging", "feature_layer", "training_serving", "ml_python", "tests",
                           "seeds"]
    assert (steps["staging"].wall_s, steps["staging"].node_s, steps["staging"].nodes) == (4, 6, 2)
    assert steps["feature_layer"].wall_s == 13
    assert steps["training_serving"].wall_s == 2  # 18-19 within 18-20
    # The unit test has no timing entries: its execution time counts as if run alone.
    assert steps["tests"].wall_s == pytest.approx(1.25)
    assert steps["feature_layer"].node_names == ["feat_customer_daily", "int_x"]


def test_union_seconds_merges_overlaps_and_keeps_gaps() -> None:
    from datetime import datetime, timedelta

    t0 = datetime(2026, 1, 1)

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    assert union_seconds([]) == 0
    assert union_seconds([(at(0), at(4)), (at(1), at(2)), (at(3), at(6)), (at(10), at(11))]) == 7


def test_slowest_nodes_sorted_by_execution_time() -> None:
    slowest = slowest_nodes(node_timings(RESULTS, manifest_nodes(MANIFEST)), n=3)
    assert [t.name for t in slowest] == ["feat_customer_daily", "ml_model_registry", "stg_a"]


def test_results_missing_from_the_manifest_are_other() -> None:
    timings = node_timings([_result("model.p.gone", "00", "01", 1.0)], {})
    assert (timings[0].name, timings[0].step) == ("gone", "other")


# --- ratios and targets ----------------------------------------------------------------------

GB = 1024**3


def test_targets_met_and_not_met() -> None:
    measures = Measures(
        pandas_wall_s=88.0, pandas_peak_rss_bytes=8 * GB, raw_to_training_serving_wall_s=40.0,
        feature_layer_wall_s=75.0, build_wall_s=240.0, build_peak_rss_bytes=12 * GB,
        raw_load_wall_s=10.0,
    )
    targets = {t.name: t for t in evaluate_targets(measures)}
    assert targets["speedup_vs_pandas"].value == pytest.approx(2.2)
    assert targets["speedup_vs_pandas"].met is True
    assert targets["feature_layer_wall"].met is False
    assert targets["build_peak_rss_vs_pandas"].value == pytest.approx(1.5)
    assert targets["build_peak_rss_vs_pandas"].met is False
    assert targets["build_wall"].met is True  # the bound is inclusive
    assert ratios(measures)["raw_to_training_serving_over_raw_load"] == pytest.approx(4.0)


def test_missing_measures_are_not_measured_rather_than_failed() -> None:
    measures = Measures(None, None, None, None, None, None)
    assert all(t.met is None and t.value is None for t in evaluate_targets(measures))
    assert all(value is None for value in ratios(measures).values())


# --- markdown --------------------------------------------------------------------------------


def _result_dict() -> dict:
    measures = Measures(30.0, 2 * GB, 60.0, 70.0, 300.0, 6 * GB, 5.0)
    step = {"wall_s": 12.5, "peak_rss_bytes": GB, "ok": True}
    return {
        "scale": "default", "started_at": "2026-11-30T00:00:00+00:00",
        "machine": {"cores": 2, "usable_cores": 2, "memory_bytes": 24 * GB,
                    "load_average_1m": 0.3, "python": "3.11.7", "dbt_core": "1.11.0",
                    "dbt_duckdb": "1.11.0", "duckdb": "1.5.0", "pandas": "2.2.0"},
        "load_average_1m_after": 1.0, "dbt_target": "dev", "threads": 2, "memory_limit": "8GB",
        "raw_dir": "/data/raw", "raw_rows": {"orders": 1_002_876},
        "latest_day": "2026-11-25", "as_of_dates": ["2026-09-30", "2026-11-25"],
        "steps": {"raw_load": step, "dbt_build": {**step, "wall_s": 300.0, "ok": False}},
        "build_nodes": 3, "build_nodes_wall_s": 290.0,
        "build_steps": {"staging": {"nodes": 2, "wall_s": 61.0, "node_s": 100.0}},
        "feature_layer_source": "tag:feature_layer",
        "slowest_nodes": [{"name": "feat_customer_daily", "step": "feature_layer",
                           "execution_s": 42.0}],
        "ratios": ratios(measures),
        "targets": [t.__dict__ for t in evaluate_targets(measures)],
    }


def test_markdown_has_every_section_as_a_table() -> None:
    markdown = render_markdown(_result_dict())
    assert markdown.startswith("# Benchmark at scale `default`")
    assert "| orders | 1,002,876 |" in markdown
    assert "| raw-load floor: DuckDB reads every raw table into tables | 12.5 s | 1.00 GB | yes |" \
        in markdown
    assert "| whole `dbt build`, fresh warehouse (seeds included) | 5 min 00 s | 1.00 GB | **no**" \
        in markdown
    assert "| staging (`models/staging`) | 2 | 1 min 01 s | 1 min 40 s |" in markdown
    assert "| `feat_customer_daily` | feature_layer | 42.0 s |" in markdown
    assert "| feature layer wall time in `dbt build` | 70.0 s | <= 60.0 s | **not met** |" \
        in markdown
    assert "0.50x | >= 2.00x | **not met** |" in markdown
    assert "pandas_over_raw_load = 6.00" in markdown


def test_a_busy_machine_is_flagged() -> None:
    busy = {**_result_dict(), "load_average_1m_after": 3.5}
    assert "**Busy machine**: load average up to 3.5 on 2 cores" in render_markdown(busy)
    assert "Busy machine" not in render_markdown({**_result_dict(), "load_average_1m_after": 0.2})


def test_formatting_helpers() -> None:
    assert (format_seconds(None), format_seconds(9.94), format_seconds(125)) == (
        "—", "9.9 s", "2 min 05 s")
    assert (format_bytes(None), format_bytes(512 * 1024**2), format_bytes(7.6 * GB)) == (
        "—", "512 MB", "7.60 GB")


# --- scale check and measurement -------------------------------------------------------------


def test_raw_data_of_another_scale_is_refused() -> None:
    assert check_scale({"scale": "default"}, "default") is None
    assert check_scale({}, "large") is None  # no manifest: trust the label
    message = check_scale({"scale": "default"}, "large")
    assert message is not None and "make data-force SCALE=large" in message


MEASURE_THREE_STEPS = """
import json, sys
from pathlib import Path
from retail_ml.bench.measure import run_measured
work = Path(sys.argv[1])
steps = {
    "big": "b = bytearray(300 * 1024**2); b[::4096] = b'x' * len(b[::4096])",
    "small": "print('hi')",
    "failing": "raise SystemExit(3)",
}
runs = {name: run_measured(name, [sys.executable, "-c", code], env={}, cwd=work,
                           log_path=work / f"{name}.log") for name, code in steps.items()}
print(json.dumps({name: [run.ok, run.returncode, run.peak_rss_bytes, run.log_tail().strip()]
                  for name, run in runs.items()}))
"""


def test_each_step_reports_its_own_peak_rss(tmp_path: Path) -> None:
    # From a fresh, small interpreter, like the bench CLI: a child's peak RSS includes what its
    # parent held when it forked, and pytest's own process holds hundreds of MB by now.
    measured = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", MEASURE_THREE_STEPS, str(tmp_path)],
        capture_output=True, text=True, check=True,
    )
    runs = json.loads(measured.stdout.strip().splitlines()[-1])
    big_ok, _, big_rss, _ = runs["big"]
    _, _, small_rss, small_log = runs["small"]
    failing_ok, failing_code, _, _ = runs["failing"]
    assert big_ok and big_rss > 300 * 1024**2
    assert small_rss < 200 * 1024**2  # the earlier child's peak does not leak in
    assert small_log == "hi"
    assert (failing_ok, failing_code) == (False, 3)


def test_tiling_shifts_ids_in_sliced_list_chunks_with_nulls():
    import pyarrow as pa

    from retail_ml.bench.tile import shift_ids

    table = pa.table({
        "id": [1, 2, 3, 4],
        "viewed_product_ids": pa.array([[1, 2], None, [3], [4, 5, 6]], pa.list_(pa.int64())),
    }).slice(1, 3)  # a slice: its list offsets do not start at 0
    assert shift_ids(table, 100).to_pylist() == [
        {"id": 102, "viewed_product_ids": None},
        {"id": 103, "viewed_product_ids": [103]},
        {"id": 104, "viewed_product_ids": [104, 105, 106]},
    ]


def test_the_committed_daily_bench_renders_to_its_markdown_with_start_and_finish() -> None:
    from retail_ml.bench.incremental import render_daily

    benchmarks = Path(__file__).resolve().parents[2] / "docs" / "benchmarks"
    result = json.loads((benchmarks / "bench_daily_large.json").read_text())
    assert result["started_at"] < result["finished_at"]
    assert render_daily(result) == (benchmarks / "bench_daily_large.md").read_text()
    older = {k: v for k, v in result.items() if k != "finished_at"}
    header = render_daily(older).splitlines()[2]
    assert header.startswith(f"Started {result['started_at']}, load average after ")
