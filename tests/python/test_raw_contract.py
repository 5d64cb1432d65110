"""The raw contract as data: the pre-flight schema check and the contract page.

Tiny landing zones written in the test: a new column warns, a missing or retyped column and a
corrupt file stop the run with one line naming table, file and problem; an empty partition is
fine. The contract page's domain tables are the spec's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_ml.raw_contract import (
    PROJECT_DIR,
    arrow_type_matches,
    check_landing_zone,
    load_domains,
    render_domain_tables,
)

DOMAINS = load_domains()
ARROW = {"int32": pa.int32(), "int64": pa.int64(), "double": pa.float64(),
         "string": pa.string(), "bool": pa.bool_(), "timestamp": pa.timestamp("us", tz="UTC"),
         "list<int64>": pa.list_(pa.int64())}
SAMPLE = {"int32": 1, "int64": 1, "double": 1.5, "string": "x", "bool": True,
          "timestamp": datetime(2026, 1, 1, tzinfo=UTC), "list<int64>": [1]}


def contract_table(table: str, drop: str | None = None, retype: tuple[str, pa.DataType] | None
                   = None, extra: str | None = None) -> pa.Table:
    columns = {}
    for name, domain in DOMAINS[table]["columns"].items():
        if name == drop:
            continue
        kind = ARROW[domain["type"]]
        value = SAMPLE[domain["type"]]
        if retype and name == retype[0]:
            kind, value = retype[1], "1"
        columns[name] = pa.array([value], type=kind)
    if extra:
        columns[extra] = pa.array(["new"])
    return pa.table(columns)


@pytest.fixture
def landing_zone(tmp_path: Path) -> Path:
    for table in DOMAINS:
        folder = tmp_path / table / "load_date=2026-01-01"
        folder.mkdir(parents=True)
        pq.write_table(contract_table(table), folder / "part-0.parquet")
    return tmp_path


def write(raw: Path, table: str, data: pa.Table | bytes, name: str = "part-1.parquet") -> Path:
    folder = raw / table / "load_date=2026-01-02"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        pq.write_table(data, path)
    return path


def test_a_landing_zone_matching_the_contract_passes(landing_zone):
    report = check_landing_zone(landing_zone, DOMAINS)
    assert report.ok and report.warnings == [] and report.files_checked == len(DOMAINS)


def test_an_empty_partition_and_an_empty_file_are_fine(landing_zone):
    (landing_zone / "orders" / "load_date=2026-01-03").mkdir()
    write(landing_zone, "orders", contract_table("orders").slice(0, 0))
    assert check_landing_zone(landing_zone, DOMAINS).ok


def test_a_new_column_is_a_warning_naming_file_and_column(landing_zone):
    write(landing_zone, "orders", contract_table("orders", extra="coupon_campaign"))
    report = check_landing_zone(landing_zone, DOMAINS)
    assert report.ok
    assert report.warnings == [
        "raw table orders, file orders/load_date=2026-01-02/part-1.parquet:"
        " column 'coupon_campaign' is not in the contract; ignored"
    ]


def test_a_missing_column_is_an_error(landing_zone):
    write(landing_zone, "returns", contract_table("returns", drop="refund_amount"))
    report = check_landing_zone(landing_zone, DOMAINS)
    assert report.errors == [
        "raw table returns, file returns/load_date=2026-01-02/part-1.parquet:"
        " column 'refund_amount' is missing"
    ]


def test_a_retyped_column_is_an_error(landing_zone):
    write(landing_zone, "order_items", contract_table("order_items",
                                                      retype=("unit_price", pa.string())))
    report = check_landing_zone(landing_zone, DOMAINS)
    assert report.errors == [
        "raw table order_items, file order_items/load_date=2026-01-02/part-1.parquet:"
        " column 'unit_price' is string, the contract says double"
    ]


@pytest.mark.parametrize("content", [b"", b"not parquet at all", b"PAR1" + b"\0" * 64])
def test_a_corrupt_file_is_an_error(landing_zone, content):
    write(landing_zone, "reviews", content)
    report = check_landing_zone(landing_zone, DOMAINS)
    assert len(report.errors) == 1
    assert report.errors[0].startswith(
        "raw table reviews, file reviews/load_date=2026-01-02/part-1.parquet:"
        " unreadable Parquet file")


def test_a_truncated_file_is_an_error(landing_zone):
    good = write(landing_zone, "products", contract_table("products"), "part-2.parquet")
    write(landing_zone, "products", good.read_bytes()[:-20])
    report = check_landing_zone(landing_zone, DOMAINS)
    assert [line.split(":")[0] for line in report.errors] == [
        "raw table products, file products/load_date=2026-01-02/part-1.parquet"]


def test_passed_files_are_not_read_again_until_they_or_the_contract_change(landing_zone,
                                                                           tmp_path_factory):
    passed = tmp_path_factory.mktemp("state") / "preflight.json"
    good = write(landing_zone, "orders", contract_table("orders"))
    first = check_landing_zone(landing_zone, DOMAINS, passed=passed)
    assert first.ok and first.files_checked == len(DOMAINS) + 1
    # Same size and modification time but unreadable: a recorded file is not opened again ...
    stamp = good.stat()
    good.write_bytes(b"x" * stamp.st_size)
    os.utime(good, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert check_landing_zone(landing_zone, DOMAINS, passed=passed).ok
    # ... a new file is, and a failing one stays unrecorded ...
    write(landing_zone, "returns", contract_table("returns", drop="refund_amount"),
          "part-2.parquet")
    for _ in range(2):
        assert [e.split(":")[0] for e in check_landing_zone(landing_zone, DOMAINS,
                                                            passed=passed).errors] == [
            "raw table returns, file returns/load_date=2026-01-02/part-2.parquet"]
    # ... a rewritten file (new modification time) is read again ...
    os.utime(good, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1))
    assert len(check_landing_zone(landing_zone, DOMAINS, passed=passed).errors) == 2
    # ... and so is every file when the contract changes.
    pq.write_table(contract_table("orders"), good)
    check_landing_zone(landing_zone, DOMAINS, passed=passed)
    stamp = good.stat()
    good.write_bytes(b"x" * stamp.st_size)
    os.utime(good, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert len(check_landing_zone(landing_zone, DOMAINS, passed=passed).errors) == 1
    changed = {**DOMAINS, "orders": {**DOMAINS["orders"], "key": ["id"]}}
    assert len(check_landing_zone(landing_zone, changed, passed=passed).errors) == 2


def test_the_cli_stops_with_one_line_per_problem_and_no_traceback(landing_zone):
    write(landing_zone, "reviews", b"garbage")
    write(landing_zone, "orders", contract_table("orders", extra="coupon_campaign"))
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "retail_ml.raw_contract", "--raw-dir", str(landing_zone)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("WARNING raw table orders")
    assert lines[1].startswith("ERROR raw table reviews, file reviews/load_date=2026-01-02/")
    assert len(lines) == 3 and "Traceback" not in done.stderr


def test_types_match_the_generated_files():
    assert arrow_type_matches("timestamp", pa.timestamp("us", tz="UTC"))
    assert not arrow_type_matches("timestamp", pa.timestamp("us"))
    assert arrow_type_matches("list<int64>", pa.list_(pa.int64()))
    assert not arrow_type_matches("int32", pa.int64())


def test_every_column_has_a_type_and_every_table_a_key():
    for table, spec in DOMAINS.items():
        assert spec["key"] and set(spec["key"]) <= set(spec["columns"]), table
        assert "_loaded_at" in spec["columns"], table
        for column, domain in spec["columns"].items():
            assert domain["type"] in ARROW, (table, column)


def test_the_contract_page_lists_every_domain_as_declared():
    page = (PROJECT_DIR / "docs" / "raw_data_contract.md").read_text()
    block = page.split("<!-- domains:start -->\n", 1)[1].split("<!-- domains:end -->", 1)[0]
    assert block == render_domain_tables(DOMAINS), (
        "docs/raw_data_contract.md is out of step with macros/staging/shop_raw_domains.sql:"
        " paste `python -m retail_ml.raw_contract --print-domains` between the markers")
