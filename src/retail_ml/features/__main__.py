"""``python -m retail_ml.features [--check]``: regenerate (or check) what the specs imply."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from retail_ml.features.codegen import stale_files, write_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.project_dir)
        for path in stale:
            print(f"stale: {path} (run `make features`)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_files(args.project_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
