"""PII: keyed pseudonyms (HMAC-SHA-256) in staging and the quarantine JSON, and no raw value of
an e-mail, name or review text readable from the private or the published warehouse."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR, run_dbt
from retail_ml.lineage import published_files, scan_for_raw_pii
from retail_ml.pii_key import (
    KEY_ENV,
    hmac_pads,
    hmac_sha256_hex,
    load_or_create_key,
    set_key_variables,
)
from retail_ml.publish import publish_from_target

HASH_PII_SQL = (PROJECT_DIR / "macros" / "staging" / "hash_pii.sql").read_text()


def test_the_pads_give_rfc_2104_hmac_for_short_and_long_keys():
    for key in (b"k", b"x" * 64, b"long key " * 20):
        inner, outer = hmac_pads(key)
        value = b"ella@example.com"
        ours = hashlib.sha256(outer + hashlib.sha256(inner + value).digest()).hexdigest()
        assert ours == hmac.new(key, value, hashlib.sha256).hexdigest()


def test_the_duckdb_expression_of_the_macro_is_hmac_and_fails_without_a_key():
    expression = ("sha256(coalesce(cast(getvariable('retail_ml_pii_opad') as blob), "
                  "error('no key')) || unhex(sha256(coalesce(cast(getvariable("
                  "'retail_ml_pii_ipad') as blob), error('no key')) || encode(lower(trim(v))))))")
    # the macro's construction (its error messages are longer)
    assert "coalesce(cast(getvariable('retail_ml_pii_opad') as blob), error(" in HASH_PII_SQL
    with duckdb.connect() as con:
        with pytest.raises(duckdb.Error, match="no key"):
            con.execute(f"select {expression} from (values ('a')) as t(v)")  # noqa: S608
        set_key_variables(con, b"key one")
        got = con.execute(f"select {expression} from (values (' Ella@Example.com ')) as t(v)"  # noqa: S608
                          ).fetchone()[0]
    assert got == hmac_sha256_hex(b"key one", "ella@example.com")
    assert got != hmac_sha256_hex(b"key two", "ella@example.com")
    assert got != hashlib.sha256(b"ella@example.com").hexdigest()


def test_the_key_file_is_created_once_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    key_file = tmp_path / ".secrets" / "pii.key"
    first = load_or_create_key(key_file)
    assert len(first) == 64 and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert load_or_create_key(key_file) == first
    monkeypatch.setenv(KEY_ENV, "from the environment")
    assert load_or_create_key(key_file) == b"from the environment"


def raw_values(con: duckdb.DuckDBPyConnection, raw_dir: Path, table: str, column: str) -> list:
    return [row[0] for row in con.execute(
        f"select distinct {column} from read_parquet('{raw_dir}/{table}/*/*.parquet')"  # noqa: S608
        f" where {column} is not null and length(trim({column})) >= 6").fetchall()]


@pytest.mark.e2e
def test_staging_and_quarantine_pseudonyms_are_keyed_hmacs(built_warehouse):
    key = os.environ[KEY_ENV].encode()
    with built_warehouse.connect() as con:
        emails = raw_values(con, built_warehouse.raw_dir, "customers", "email")
        expected = {hmac_sha256_hex(key, email) for email in emails}
        staged = {row[0] for row in con.execute(
            "select email_hash from stg_shop__customers").fetchall()}
        quarantined = [row[0] for row in con.execute(
            "select json_extract_string(raw_row_json, '$.email') as email"
            " from stg_shop__quarantined_rows"
            " where source_table = 'customers' and email is not null").fetchall()]
    assert staged and staged <= expected
    assert quarantined and set(quarantined) <= expected | {
        hmac_sha256_hex(key, "")}, "quarantine JSON must use the same keyed pseudonym"


@pytest.mark.e2e
def test_another_key_gives_other_pseudonyms(built_warehouse, tmp_path, monkeypatch):
    db = tmp_path / built_warehouse.db_path.name
    shutil.copyfile(built_warehouse.db_path, db)
    sql = "select raw_row_id, email_hash from base_shop__customers where email_hash is not null"
    with duckdb.connect(str(db), read_only=True) as con:
        before = dict(con.execute(sql).fetchall())
    monkeypatch.setenv(KEY_ENV, "another key")
    # Staging is incremental: a new key re-pseudonymises on a full refresh (which make build
    # and make daily run when the key changes, retail_ml.warehouse_state).
    run = run_dbt(["run", "--select", "base_shop__customers", "--full-refresh"],
                  raw_dir=built_warehouse.raw_dir, db_path=db, work_dir=tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        after = dict(con.execute(sql).fetchall())
    assert after.keys() == before.keys()
    assert all(after[row] != before[row] for row in before)


PII_COLUMNS = [f"source.retail_ml.shop.{column}" for column in (
    "customers.email", "customers.full_name", "reviews.review_text")]


@pytest.mark.e2e
def test_no_raw_pii_is_readable_from_the_warehouse_or_its_published_copy(built_warehouse,
                                                                         tmp_path):
    """The scan of retail_ml.lineage (tested on a seeded raw e-mail in test_lineage.py) on the
    private warehouse and on its published copy (DuckDB file and Parquet exports)."""
    assert scan_for_raw_pii([built_warehouse.db_path], built_warehouse.raw_dir,
                            PII_COLUMNS) == {}
    result = publish_from_target(built_warehouse.db_path, built_warehouse.db_path.parent / "target",
                                 tmp_path / "published")
    files = published_files(result.db_path.parent)
    assert len(files) > 10
    assert scan_for_raw_pii(files, built_warehouse.raw_dir, PII_COLUMNS) == {}
