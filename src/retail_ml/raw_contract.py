"""The raw data contract as data, and the pre-flight check of the landing zone against it.

The domain of every raw column is declared once, in `macros/staging/shop_raw_domains.sql` (a YAML
block that dbt turns into the quarantine rules). This module reads the same block for the checks
that must run before dbt: each Parquet file's schema against the declared columns and types.

Schema drift is reported, not guessed (docs/raw_data_contract.md, "Schema drift"):
- a column a file has beyond the contract: a warning naming table, file and column; the column
  is ignored (the source reads files with `union_by_name`, staging selects declared columns);
- a declared column missing from a file, a column of another type, a file that cannot be read
  as Parquet, a table with no file at all: an error, one line each naming table, file and
  problem, and `make build` stops before dbt runs (exit code 2). Nothing is guessed or half
  loaded; fix or remove the file and re-run.
- an empty partition folder, or a file with no rows, is fine.

    python -m retail_ml.raw_contract --raw-dir data/raw
    python -m retail_ml.raw_contract --print-domains   # the domain tables of the contract page
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
DOMAINS_FILE = Path("macros") / "staging" / "shop_raw_domains.sql"
_SPEC_BLOCK = re.compile(r"\{%-?\s*set spec\s*-?%\}(.*?)\{%-?\s*endset\s*-?%\}", re.DOTALL)


def load_domains(project_dir: Path = PROJECT_DIR) -> dict[str, dict]:
    """Table -> {key, columns: {column: domain}, ...}, as declared for dbt."""
    text = (project_dir / DOMAINS_FILE).read_text()
    match = _SPEC_BLOCK.search(text)
    if match is None:
        raise ValueError(f"no `set spec` block in {project_dir / DOMAINS_FILE}")
    return yaml.safe_load(match.group(1))


def describe_domain(domain: dict) -> str:
    """One column's domain in words, for docs/raw_data_contract.md."""
    parts = []
    if "min" in domain or "max" in domain:
        parts.append(f"{domain.get('min', '−∞')} … {domain.get('max', '∞')}")
    if domain["type"] == "double":
        parts.append("finite")
    if "accepted" in domain:
        parts.append("one of " + ", ".join(f"`{v}`" for v in domain["accepted"]))
    if "reference" in domain:
        match = domain["reference"]["match"]
        parts.append(f"in seed `{domain['reference']['seed']}` ("
                     + ", ".join(f"{k} = {v}" for k, v in match.items()) + ")")
    if "parent" in domain:
        match = domain["parent"]["match"]
        parts.append(f"a {domain['parent']['table']} "
                     + ", ".join(f"`{v}`" for v in match.values()))
    if "max_length" in domain:
        parts.append(f"≤ {domain['max_length']} chars")
    if domain["type"] == "string" and not domain.get("allow_blank"):
        parts.append("not blank")
    if "format" in domain:
        parts.append(f"matches `{domain['format']}`")
    if "max_items" in domain:
        parts.append(f"≤ {domain['max_items']} items, each ≥ {domain['item_min']}")
    if domain.get("event_time"):
        lead = domain.get("lead_days")
        parts.append("≥ shop opening, ≤ `_loaded_at`" + (f" + {lead} days" if lead else ""))
    if domain.get("load_time"):
        parts.append("≥ shop opening, on its file's `load_date`")
    if "pii" in domain:
        parts.append({"hash": "PII: hashed", "drop": "PII: hashed in quarantine, not staged",
                      "length": "PII: only its length is kept"}[domain["pii"]])
    return "; ".join(parts)


def render_domain_tables(domains: dict[str, dict]) -> str:
    """The markdown of every table's column domains and row checks."""
    lines = []
    for table, spec in domains.items():
        key = f"Key: ({', '.join(spec['key'])})"
        for unique in spec.get("unique", []):
            key += (f"; ({', '.join(unique['columns'])}) unique among staged rows, else"
                    f" `{unique['rule']}`")
        lines += [f"### {table}", "", key, "",
                  "| column | type | nullable | domain |", "|---|---|---|---|"]
        for column, domain in spec["columns"].items():
            nullable = "yes" if domain.get("nullable") else "no"
            described = describe_domain(domain)
            lines.append(f"| {column} | {domain['type']} | {nullable} | {described} |")
        checks = spec.get("checks", []) + [
            {"name": lookup["missing_rule"], "when": f"no {lookup['table']} row matches "
             + ", ".join(lookup["match"])} for lookup in spec.get("lookups", [])]
        if checks:
            lines += ["", "Row checks (quarantined when):", ""]
            lines += [f"- `{check['name']}`: `{check['when']}`" for check in checks]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def arrow_type_matches(declared: str, actual: pa.DataType) -> bool:
    """Whether a file's Arrow type is the declared contract type."""
    if declared == "timestamp":
        return pa.types.is_timestamp(actual) and actual.tz in {"UTC", "+00:00", "Etc/UTC"}
    if declared.startswith("list<") and declared.endswith(">"):
        return (pa.types.is_list(actual) or pa.types.is_large_list(actual)) and (
            arrow_type_matches(declared[5:-1], actual.value_type)
        )
    if declared == "string":
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    expected = {"int32": pa.int32(), "int64": pa.int64(), "double": pa.float64(),
                "bool": pa.bool_()}[declared]
    return actual == expected


@dataclass
class PreflightReport:
    """What the check found: warnings (run goes on) and errors (run stops)."""

    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def check_file(table: str, path: Path, columns: dict[str, dict], raw_dir: Path) -> tuple[
        list[str], list[str]]:
    """(warnings, errors) of one Parquet file against the table's declared columns."""
    where = f"raw table {table}, file {path.relative_to(raw_dir)}"
    try:
        # Opening the file reads and parses its footer: the row groups must parse.
        with pq.ParquetFile(path) as parquet:
            schema = parquet.schema_arrow
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported the same way
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return [], [f"{where}: unreadable Parquet file ({reason})"]
    warnings, errors = [], []
    for name in schema.names:
        if name not in columns:
            warnings.append(f"{where}: column {name!r} is not in the contract; ignored")
    for name, domain in columns.items():
        if name not in schema.names:
            errors.append(f"{where}: column {name!r} is missing")
            continue
        actual = schema.field(name).type
        if not arrow_type_matches(domain["type"], actual):
            errors.append(
                f"{where}: column {name!r} is {actual}, the contract says {domain['type']}"
            )
    return warnings, errors


def _file_stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _read_passed(passed: Path | None, contract: str) -> dict[str, list[int]]:
    if passed is None or not passed.is_file():
        return {}
    try:
        data = json.loads(passed.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("files", {}) if data.get("contract") == contract else {}


def check_landing_zone(raw_dir: Path, domains: dict[str, dict] | None = None,
                       passed: Path | None = None) -> PreflightReport:
    """Every file of every raw table against the contract (footers only: fast at any scale).

    `passed` (optional) records the files that passed cleanly (no warning) with their size
    and modification time, under a digest of the contract: a landed file is never rewritten,
    so a daily or intraday run re-reads only the files that are new, changed or had a finding,
    and all of them again when the contract changes. Written atomically after the check.
    """
    domains = domains if domains is not None else load_domains()
    contract = hashlib.sha256(json.dumps(domains, sort_keys=True, default=str).encode()).hexdigest()
    known = _read_passed(passed, contract)
    clean: dict[str, list[int]] = {}
    report = PreflightReport()
    for table, spec in domains.items():
        files = sorted((raw_dir / table).glob("*/*.parquet"))
        if not files:
            report.errors.append(f"raw table {table}: no Parquet file under {raw_dir / table}")
            continue
        for path in files:
            name, stamp = str(path.relative_to(raw_dir)), _file_stamp(path)
            report.files_checked += 1
            if known.get(name) == stamp:
                clean[name] = stamp
                continue
            warnings, errors = check_file(table, path, spec["columns"], raw_dir)
            report.warnings += warnings
            report.errors += errors
            if not warnings and not errors:
                clean[name] = stamp
    if passed is not None:
        tmp = passed.with_name(passed.name + ".tmp")
        tmp.write_text(json.dumps({"contract": contract, "files": clean}, sort_keys=True),
                       encoding="utf-8")
        os.replace(tmp, passed)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    parser.add_argument("--print-domains", action="store_true",
                        help="print the domain tables of docs/raw_data_contract.md and exit")
    args = parser.parse_args(argv)
    if args.print_domains:
        print(render_domain_tables(load_domains()), end="")
        return 0
    report = check_landing_zone(args.raw_dir)
    for line in report.warnings:
        print(f"WARNING {line}", file=sys.stderr)
    for line in report.errors:
        print(f"ERROR {line}", file=sys.stderr)
    if not report.ok:
        print(f"raw data pre-flight failed: {len(report.errors)} problem(s); dbt was not run",
              file=sys.stderr)
        return 2
    print(f"raw data pre-flight: {report.files_checked} files match the contract"
          f" ({len(report.warnings)} warning(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
