"""Write tables as load-date partitioned Parquet, plus the run manifest."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .config import TABLES
from .world import US_PER_DAY

MANIFEST = "_manifest.json"
COMPRESSION = "zstd"
_EPOCH = date(1970, 1, 1)


def existing_outputs(out_dir: Path) -> list[Path]:
    """Generator outputs already present in `out_dir` (table folders and the manifest)."""
    paths = [out_dir / t for t in TABLES] + [out_dir / MANIFEST]
    return [p for p in paths if p.exists()]


def clear_outputs(out_dir: Path) -> None:
    """Remove only what the generator writes; anything else in `out_dir` is left alone."""
    for path in existing_outputs(out_dir):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _sort_keys(table: pa.Table, keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Row order (load day, key columns with nulls last, then `_loaded_at`) and load days."""
    loaded = table["_loaded_at"].cast(pa.int64()).to_numpy()
    day = loaded // US_PER_DAY
    lex: list[np.ndarray] = [loaded]
    for name in reversed(keys):
        col = table[name]
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        lex.append(pc.fill_null(col, 0).to_numpy())
        lex.append(pc.is_null(col).to_numpy(zero_copy_only=False))
    lex.append(day)
    order = np.lexsort(lex)
    return order, day[order]


def write_partitioned(table: pa.Table, name: str, keys: tuple[str, ...], out_dir: Path) -> int:
    """Write `out/<name>/load_date=YYYY-MM-DD/part-0.parquet`; return the number of files."""
    order, day = _sort_keys(table, keys)
    table = table.take(pa.array(order))
    cuts = np.flatnonzero(np.diff(day)) + 1
    starts = np.r_[0, cuts]
    ends = np.r_[cuts, len(day)]
    for lo, hi in zip(starts, ends, strict=True):
        load_date = _EPOCH + timedelta(days=int(day[lo]))
        folder = out_dir / name / f"load_date={load_date.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.slice(lo, hi - lo), folder / "part-0.parquet",
                       compression=COMPRESSION)
    return len(starts)


def write_manifest(manifest: dict, out_dir: Path) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out_dir / MANIFEST).write_text(text, encoding="utf-8")


def read_manifest(out_dir: Path) -> dict | None:
    path = out_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
