"""The landing simulator, source freshness at the landing clock, the xl tiling and the scaling
table: tiny Parquet files written in the test."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_ml import landing
from retail_ml.bench.incremental import render_scaling, scaling_rows
from retail_ml.bench.tile import shift_ids
from retail_ml.freshness import check_freshness

DAY0 = date(2026, 11, 20)


def _ts(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _future(tmp_path: Path) -> Path:
    """A future area with one orders partition per day (rows at 01:00, 09:30 and 23:00) and a
    customers partition on the first day only."""
    future = tmp_path / "future"
    for offset in range(3):
        day = DAY0 + timedelta(days=offset)
        loaded = [_ts(day, 1), _ts(day, 9, 30), _ts(day, 23)]
        table = pa.table({"id": [offset * 10 + i for i in range(3)],
                          "_loaded_at": pa.array(loaded, pa.timestamp("us", tz="UTC"))})
        folder = future / "orders" / f"load_date={day.isoformat()}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet")
    folder = future / "customers" / f"load_date={DAY0.isoformat()}"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"id": [1], "_loaded_at": pa.array(
        [_ts(DAY0, 5)], pa.timestamp("us", tz="UTC"))}), folder / "part-0.parquet")
    (future / "_manifest.json").write_text(json.dumps(
        {"end_date": (DAY0 + timedelta(days=2)).isoformat()}))
    return future


def _raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    landing.write_state(raw, landing.LandingState(_future(tmp_path), landing.midnight(DAY0)))
    return raw


def _files(raw: Path) -> dict[str, bytes]:
    return {str(p.relative_to(raw)): p.read_bytes() for p in sorted(raw.glob("*/*/*.parquet"))}


def test_hours_then_the_rest_of_the_day_land_as_new_files_never_rewriting_one(tmp_path):
    raw = _raw(tmp_path)
    landed = landing.land_until(raw, _ts(DAY0, 9))
    assert landed["orders"] == 1 and landed["customers"] == 1
    first = _files(raw)
    assert list(first) == ["customers/load_date=2026-11-20/part-000000.parquet",
                           "orders/load_date=2026-11-20/part-000000.parquet"]
    landed = landing.land_until(raw, landing.next_day_end(landing.read_state(raw)))
    assert landed["orders"] == 2 and landed["customers"] == 0
    after = _files(raw)
    assert {k: after[k] for k in first} == first  # landed files are untouched
    assert "orders/load_date=2026-11-20/part-090000.parquet" in after
    rows = pq.read_table(raw / "orders/load_date=2026-11-20/part-090000.parquet")["id"]
    assert rows.to_pylist() == [1, 2]
    assert landing.read_state(raw).landed_through == landing.midnight(DAY0 + timedelta(days=1))


def test_a_whole_day_is_one_file_with_the_future_bytes(tmp_path):
    raw = _raw(tmp_path)
    landing.land_until(raw, landing.midnight(DAY0 + timedelta(days=2)))
    day1 = DAY0 + timedelta(days=1)
    landed = raw / f"orders/load_date={day1.isoformat()}/part-000000.parquet"
    future_dir = landing.read_state(raw).future_dir
    future = future_dir / f"orders/load_date={day1.isoformat()}/part-0.parquet"
    assert landed.read_bytes() == future.read_bytes()


def test_landing_again_after_a_crash_gives_the_same_files(tmp_path):
    raw = _raw(tmp_path)
    landing.land_until(raw, _ts(DAY0, 12))
    once = _files(raw)
    # A crash after the files were written but before the state moved: the state is behind.
    landing.write_state(raw, landing.LandingState(landing.read_state(raw).future_dir,
                                                  landing.midnight(DAY0)))
    landing.land_until(raw, _ts(DAY0, 12))
    assert _files(raw) == once
    assert not list(raw.glob("*/*/*.tmp"))


def test_landing_past_the_future_area_is_refused(tmp_path):
    raw = _raw(tmp_path)
    with pytest.raises(SystemExit, match="nothing is left to land"):
        landing.land_until(raw, landing.midnight(DAY0 + timedelta(days=4)))


def _manifest(**freshness: dict | None) -> dict:
    return {"sources": {f"source.retail_ml.shop.{t}": {"source_name": "shop", "name": t,
                                                        "freshness": f}
                        for t, f in freshness.items()}}


RULE = {"warn_after": {"count": 26, "period": "hour"},
        "error_after": {"count": 50, "period": "hour"}}


def test_freshness_passes_warns_and_errors_at_the_landing_clock(tmp_path):
    raw = _raw(tmp_path)
    landing.land_until(raw, landing.midnight(DAY0 + timedelta(days=1)))
    manifest = _manifest(orders=RULE, customers=RULE, products=None)
    newest_order = _ts(DAY0, 23)
    clock = newest_order + timedelta(hours=2)
    verdicts = {v.table: v for v in check_freshness(raw, manifest, clock)}
    assert set(verdicts) == {"orders", "customers"}  # products: no freshness declared
    assert verdicts["orders"].status == "pass" and verdicts["customers"].status == "pass"
    clock = newest_order + timedelta(hours=33)
    verdicts = {v.table: v for v in check_freshness(raw, manifest, clock)}
    assert verdicts["orders"].status == "warn"
    assert verdicts["customers"].status == "error"  # newest customer row: 05:00, 51 h earlier
    line = verdicts["customers"].line(clock)
    assert line.startswith("source shop.customers is stale") and "error_after of 50 h" in line


def test_a_table_with_no_landed_rows_is_an_error(tmp_path):
    raw = _raw(tmp_path)
    verdicts = check_freshness(raw, _manifest(orders=RULE), landing.midnight(DAY0))
    assert [v.status for v in verdicts] == ["error"]


def test_tiling_shifts_every_id_and_keeps_nulls():
    table = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "customer_id": pa.array([7, None], pa.int64()),
        "viewed_product_ids": pa.array([[3, 4], None], pa.list_(pa.int64())),
        "line_number": pa.array([1, 2], pa.int32()),
    })
    shifted = shift_ids(table, 1000).to_pydict()
    assert shifted == {"id": [1001, 1002], "customer_id": [1007, None],
                       "viewed_product_ids": [[1003, 1004], None], "line_number": [1, 2]}
    assert shift_ids(table, 0) is table


def test_scaling_table_reads_every_bench_file(tmp_path):
    def write(name: str, scale: str, rows: int, wall: float) -> None:
        (tmp_path / name).write_text(json.dumps({
            "scale": scale, "raw_rows": {"orders": rows},
            "steps": {"dbt_build": {"wall_s": wall, "ok": True, "peak_rss_bytes": 2**30}}}))

    write("bench_default.json", "default", 2_000_000, 60.0)
    write("bench_large.json", "large", 8_000_000, 240.0)
    write("bench_build_xl.json", "xl", 32_000_000, 1000.0)
    rows = scaling_rows(tmp_path)
    assert [r["scale"] for r in rows] == ["default", "large", "xl"]
    table = render_scaling(rows)
    assert "| `xl` | 32,000,000 | 16 min 40 s | 31.25 |" in table


def test_a_failed_bench_step_never_meets_a_target():
    """A run that stops at a parse error takes seconds: the verdict must not say "met"."""
    from retail_ml.bench.incremental import daily_targets

    def step(wall_s: float, ok: bool = True) -> dict:
        return {"wall_s": wall_s, "ok": ok}

    green = {"first_run_full_refresh": step(400.0), "daily_incremental": step(30.0),
             "intraday_refresh": step(20.0)}
    assert all(t["met"] for t in daily_targets(green))
    failed = {**green, "daily_incremental": step(5.0, ok=False),
              "intraday_refresh": step(6.0, ok=False)}
    assert not any(t["met"] for t in daily_targets(failed))
