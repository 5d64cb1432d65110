"""The landing simulator: files arrive in the landing zone over time, as in production.

    python -m retail_ml.landing init  --raw-dir data/raw --future-dir data/future \\
        --scale default --seed 42 --end-date 2026-11-25 [--horizon-days 30]
    python -m retail_ml.landing day   --raw-dir data/raw      # the next whole day
    python -m retail_ml.landing hours --raw-dir data/raw --hours 1
    python -m retail_ml.landing status --raw-dir data/raw

The generator writes a whole world at once. To exercise daily and intraday runs, the world is
generated once to a later end date (`end_date + horizon_days`) into the *future* area, and its
rows are landed into the raw dir as time passes: every row lands at its `_loaded_at`, so late
rows (1% of rows arrive 1-7 days after their event), customers signing up, orders, returns and
reviews of earlier orders all land on their own day, exactly as the world says.

Rules of the landing zone (what incremental runs rely on):
- A landed file is never rewritten or deleted. Landing appends new files only:
  `<table>/load_date=D/part-HHMMSS.parquet` holds the rows of day D with `_loaded_at` in
  [that time, the next landing's time). A whole day landed at once is one `part-000000` file.
- Files are written under a temporary name and renamed, so a reader (or a crash) never sees a
  half-written file; landing the same slice again after a crash writes identical bytes and skips
  files that exist.
- The clock of the landing zone (`landed_through` in `_landing.json`, exclusive) is what "now" is
  for freshness checks and for the next landing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_ml.generate.config import TABLES
from retail_ml.generate.writer import COMPRESSION, MANIFEST, clear_outputs, read_manifest

STATE_FILE = "_landing.json"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class LandingState:
    """Where the landing zone stands: rows with `_loaded_at` < landed_through have landed."""

    future_dir: Path
    landed_through: datetime

    def to_json(self) -> str:
        return json.dumps({"future_dir": str(self.future_dir),
                           "landed_through": self.landed_through.isoformat()},
                          indent=2, sort_keys=True) + "\n"


def read_state(raw_dir: Path) -> LandingState | None:
    """The landing state of `raw_dir`, or None when it was not landed by this simulator."""
    path = raw_dir / STATE_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return LandingState(Path(data["future_dir"]), datetime.fromisoformat(data["landed_through"]))


def write_state(raw_dir: Path, state: LandingState) -> None:
    """Atomically: a crash leaves either the old or the new state, never half of one."""
    tmp = raw_dir / (STATE_FILE + ".tmp")
    tmp.write_text(state.to_json(), encoding="utf-8")
    os.replace(tmp, raw_dir / STATE_FILE)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _slice_name(start: datetime) -> str:
    return f"part-{start:%H%M%S}.parquet"


def _write_atomically(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")  # not matched by the sources' `*/*.parquet` glob
    pq.write_table(table, tmp, compression=COMPRESSION)
    os.replace(tmp, path)


def _land_file(source: Path, target: Path, start: datetime, end: datetime) -> int:
    """Lands the rows of one future partition file with start <= _loaded_at < end into
    `target`; returns the number of rows (0: nothing written)."""
    if target.exists():
        return pq.ParquetFile(target).metadata.num_rows
    whole_day = start.timetz() == time(0, tzinfo=UTC) and end - start == DAY
    target.parent.mkdir(parents=True, exist_ok=True)
    if whole_day:
        tmp = target.with_name(target.name + ".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)  # same bytes, no copy; the future file is never modified
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return pq.ParquetFile(target).metadata.num_rows
    table = pq.read_table(source)
    loaded = table["_loaded_at"]
    mask = pc.and_(pc.greater_equal(loaded, pa.scalar(start, loaded.type)),
                   pc.less(loaded, pa.scalar(end, loaded.type)))
    part = table.filter(mask)
    if part.num_rows == 0:
        return 0
    _write_atomically(part, target)
    return part.num_rows


def land_until(raw_dir: Path, until: datetime) -> dict[str, int]:
    """Lands every future row with landed_through <= `_loaded_at` < until; returns rows landed
    per table. Idempotent: re-running after a crash completes the same files."""
    state = read_state(raw_dir)
    if state is None:
        raise SystemExit(f"{raw_dir} is not a simulated landing zone (no {STATE_FILE}); run "
                         "`python -m retail_ml.landing init` first")
    manifest = read_manifest(state.future_dir) or {}
    future_end = date.fromisoformat(manifest["end_date"])
    if until > midnight(future_end + DAY):
        raise SystemExit(f"the future area {state.future_dir} ends on {future_end}; nothing is "
                         f"left to land after it (generate it with a longer --horizon-days)")
    landed = dict.fromkeys(TABLES, 0)
    start = state.landed_through
    while start < until:
        day = start.date()
        end = min(until, midnight(day + DAY))
        for table in TABLES:
            source = state.future_dir / table / f"load_date={day.isoformat()}" / "part-0.parquet"
            if source.exists():
                target = raw_dir / table / f"load_date={day.isoformat()}" / _slice_name(start)
                landed[table] += _land_file(source, target, start, end)
        start = end
    write_state(raw_dir, LandingState(state.future_dir, until))
    return landed


def init_landing(raw_dir: Path, future_dir: Path, scale: str, seed: int, end_date: date,
                 horizon_days: int) -> LandingState:
    """Generates the future world (once) and makes `raw_dir` its landed prefix through
    `end_date`. A raw dir already landed from the same future area is left as it is."""
    from retail_ml.generate.pipeline import generate

    state = read_state(raw_dir)
    if state is not None:
        return state
    future_end = end_date + timedelta(days=horizon_days)
    manifest = read_manifest(future_dir) or {}
    wanted = {"scale": scale, "seed": seed, "end_date": future_end.isoformat()}
    if {key: manifest.get(key) for key in wanted} != wanted:
        generate(future_dir, scale, seed, future_end, force=True)
        manifest = read_manifest(future_dir) or {}
    # The generator's own files in raw_dir were a different world (generated to end_date): the
    # landing zone restarts as the future world's prefix. The warehouse built on the old files
    # is then stale: the first daily run rebuilds it in full (retail_ml.daily).
    raw_dir.mkdir(parents=True, exist_ok=True)
    clear_outputs(raw_dir)
    start = date.fromisoformat(manifest["start_date"])
    write_state(raw_dir, LandingState(future_dir.resolve(), midnight(start)))
    (raw_dir / MANIFEST).write_text(
        json.dumps({**manifest, "landed_from": str(future_dir.resolve())}, indent=2,
                   sort_keys=True) + "\n", encoding="utf-8")
    land_until(raw_dir, midnight(end_date + DAY))
    state = read_state(raw_dir)
    assert state is not None
    return state


def next_day_end(state: LandingState) -> datetime:
    """The end of the day being landed: the next midnight after the clock (or the one after
    that when the clock is at midnight)."""
    return midnight(state.landed_through.date() + DAY)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("init", "day", "hours", "status"):
        command = sub.add_parser(name)
        command.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
        if name == "init":
            command.add_argument("--future-dir", type=Path, default=Path("data/future"))
            command.add_argument("--scale", default="default")
            command.add_argument("--seed", type=int, default=42)
            command.add_argument("--end-date", type=date.fromisoformat,
                                 default=date(2026, 11, 25))
            command.add_argument("--horizon-days", type=int, default=30)
        if name == "hours":
            command.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.command == "init":
        state = init_landing(args.raw_dir, args.future_dir, args.scale, args.seed, args.end_date,
                             args.horizon_days)
    elif args.command == "status":
        state = read_state(args.raw_dir)
        if state is None:
            print(f"{args.raw_dir}: not a simulated landing zone")
            return 1
    else:
        state = read_state(args.raw_dir)
        if state is None:
            raise SystemExit(f"{args.raw_dir}: not a simulated landing zone; run init first")
        until = (next_day_end(state) if args.command == "day"
                 else state.landed_through + timedelta(hours=args.hours))
        rows = land_until(args.raw_dir, until)
        print("landed " + ", ".join(f"{t} {n}" for t, n in rows.items() if n))
        state = read_state(args.raw_dir)
        assert state is not None
    print(f"{args.raw_dir}: landed through {state.landed_through.isoformat()} "
          f"from {state.future_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
