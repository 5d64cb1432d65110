"""CLI: `python -m retail_ml.generate --scale small --seed 42 --out data/raw [--force]`."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path

from .config import DEFAULT_END_DATE, DEFAULT_SCALE, DEFAULT_SEED, SCALES
from .pipeline import generate
from .writer import existing_outputs, read_manifest


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m retail_ml.generate",
        description="Generate the synthetic raw landing zone (see docs/raw_data_contract.md).",
    )
    p.add_argument("--scale", choices=sorted(SCALES), default=DEFAULT_SCALE)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE,
                   help="last day of history, YYYY-MM-DD (fixed default %(default)s so runs "
                        "are reproducible)")
    p.add_argument("--out", type=Path, default=Path("data/raw"))
    p.add_argument("--force", action="store_true",
                   help="delete the generator's previous output in --out and regenerate")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    wanted = {"scale": args.scale, "seed": args.seed, "end_date": args.end_date.isoformat()}
    if existing_outputs(args.out) and not args.force:
        manifest = read_manifest(args.out) or {}
        found = {key: manifest.get(key) for key in wanted}
        if found == wanted:
            print(f"{args.out} already holds scale={args.scale} seed={args.seed} "
                  f"end_date={wanted['end_date']}; skipping (use --force to regenerate).",
                  file=sys.stderr)
            return 0
        print(f"{args.out} already holds generated data ({found}), not {wanted}; refusing to "
              "overwrite it. Re-run with --force to replace it.", file=sys.stderr)
        return 1

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    manifest = generate(args.out, args.scale, args.seed, args.end_date, force=args.force)
    elapsed = time.perf_counter() - started
    print(f"generated scale={manifest['scale']} seed={manifest['seed']} "
          f"{manifest['start_date']}..{manifest['end_date']} into {args.out} in {elapsed:.1f}s")
    for name, n in manifest["rows"].items():
        dirty = sum(manifest["dirty_rows"][name].values())
        print(f"  {name:<13} {n:>10,} rows ({dirty:,} dirty)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
