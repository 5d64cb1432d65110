"""A scale-out landing zone for the build benchmark: N copies of a generated one, ids disjoint.

    python -m retail_ml.bench.tile --source /path/to/large --copies 4 --out /path/to/xl

Why: the generator's `xl` preset (~20M orders) holds the whole world in memory while it
builds it, and needs more than the ~16 GB a shared 24 GiB machine can give one process. Tiling
`large` four times gives the same number of rows (~20M orders, ~100M sessions), the same
distributions and the same dirty-row kinds, written one partition file at a time (constant
memory). Copy k of a file lands next to the original as `part-<k>.parquet` in the same load-day
folder, with every id column (`id`, `*_id`, and the ids in `viewed_product_ids`) shifted by
k * ID_OFFSET, so the copies are four disjoint shops landing on the same days. What it does not
give: more products per category or longer customer histories than `large`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_ml.generate.config import TABLES
from retail_ml.generate.writer import COMPRESSION, MANIFEST

ID_OFFSET = 1_000_000_000


def is_id_column(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def shift_ids(table: pa.Table, offset: int) -> pa.Table:
    """Every id column (and the ids in list columns named *_ids) plus `offset`; nulls stay."""
    if offset == 0:
        return table
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if is_id_column(field.name):
            shifted = pc.add(column, pa.scalar(offset, field.type))
        elif field.name.endswith("_ids") and pa.types.is_list(field.type):
            chunks = []
            for chunk in column.chunks:
                # A sliced chunk's offsets do not start at 0 (and from_arrays refuses a null
                # mask with them): rebase them onto the chunk's own flattened values.
                values = pc.add(chunk.flatten(), pa.scalar(offset, chunk.type.value_type))
                offsets = pc.subtract(chunk.offsets, chunk.offsets[0])
                chunks.append(pa.ListArray.from_arrays(offsets, values, mask=chunk.is_null()))
            shifted = pa.chunked_array(chunks, type=field.type)
        else:
            continue
        table = table.set_column(index, field, shifted)
    return table


def tile(source: Path, copies: int, out: Path) -> dict:
    manifest = json.loads((source / MANIFEST).read_text())
    files = 0
    for table_name in TABLES:
        for path in sorted((source / table_name).glob("*/*.parquet")):
            table = pq.read_table(path)
            folder = out / table_name / path.parent.name
            folder.mkdir(parents=True, exist_ok=True)
            for copy in range(copies):
                pq.write_table(shift_ids(table, copy * ID_OFFSET),
                               folder / f"part-{copy}.parquet", compression=COMPRESSION)
                files += 1
    tiled = {
        **manifest,
        "scale": "xl",
        "tiled_from": {"source": str(source), "scale": manifest.get("scale"), "copies": copies,
                       "id_offset": ID_OFFSET},
        "rows": {k: v * copies for k, v in manifest["rows"].items()},
        "clean_rows": {k: v * copies for k, v in manifest.get("clean_rows", {}).items()},
    }
    (out / MANIFEST).write_text(json.dumps(tiled, indent=2, sort_keys=True) + "\n")
    return {"files": files, "rows": tiled["rows"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if (args.out / MANIFEST).exists():
        print(f"{args.out} already holds a landing zone; remove it first", file=sys.stderr)
        return 1
    result = tile(args.source, args.copies, args.out)
    print(f"tiled {args.source} x{args.copies} into {args.out}: {result['files']} files, "
          + ", ".join(f"{k} {v:,}" for k, v in result["rows"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
