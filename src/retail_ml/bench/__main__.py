"""`python -m retail_ml.bench --scale large --raw-dir data/raw`: run the benchmark, print it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from retail_ml.bench.runner import run_bench, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retail_ml.bench",
        description="Raw-load floor, pandas reference and dbt, measured in one run.",
    )
    parser.add_argument("--scale", required=True,
                        help="label of the raw data (small, default, large): names the output")
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="default: <project-dir>/docs/benchmarks")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="parent of the temp directory (warehouses, dbt target and logs)")
    parser.add_argument("--keep-work", action="store_true", help="keep the temp directory")
    args = parser.parse_args(argv)

    result, ok = run_bench(scale=args.scale, raw_dir=args.raw_dir, project_dir=args.project_dir,
                           work_dir=args.work_dir, keep_work=args.keep_work)
    out_dir = args.out_dir or args.project_dir / "docs" / "benchmarks"
    json_path, md_path, markdown = write_report(result, out_dir)
    print()
    print(markdown)
    print(f"written: {json_path}, {md_path}")
    if not ok:
        print(f"failed steps: {', '.join(result['failed_steps'])}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
