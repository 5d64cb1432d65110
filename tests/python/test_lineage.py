"""PII lineage (retail_ml.lineage): published columns traced to source columns through the
compiled SQL and Python model inputs; raw PII reaching one, or found in the published files,
fails the check.

Unit tests trace hand-written compiled SQL with the real sqlglot (the keyed hash is the real
macro's expansion); e2e tests run the check on the session build's manifest and published copy,
and on a copy of the project with a seeded leaking model compiled by dbt.
"""

# The SQL here is the tests' own compiled-model text, built from constants.
# ruff: noqa: S608
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR
from retail_ml.lineage import (
    check_lineage,
    pii_source_columns,
    published_files,
    render_analysis,
    render_report,
    scan_for_raw_pii,
)
from retail_ml.publish import publish_from_target

SOURCE = "source.retail_ml.shop.customers"
RAW_READER = "read_parquet('raw/customers/*/*.parquet', filename = true)"


def hash_pii(column: str) -> str:
    """What dbt compiles `{{ hash_pii(column) }}` to on DuckDB: the macro's own body."""
    macro = (PROJECT_DIR / "macros" / "staging" / "hash_pii.sql").read_text()
    body = re.search(r"macro duckdb__hash_pii\(column\) -%}(.*?){%- endmacro", macro, re.S)
    return body.group(1).replace("{{ column }}", column)


def model(name: str, sql: str = "", *, access: str = "protected", language: str = "sql",
          materialized: str = "table", reads: tuple[str, ...] = (), columns: tuple = (),
          meta: dict | None = None) -> dict:
    depends = [SOURCE if read == "source" else f"model.retail_ml.{read}" for read in reads]
    return {
        "unique_id": f"model.retail_ml.{name}", "name": name, "alias": name,
        "database": "wh", "schema": "main", "resource_type": "model", "access": access,
        "language": language, "relation_name": f'"wh"."main"."{name}"', "compiled_code": sql,
        "config": {"materialized": materialized, "meta": meta or {}},
        "depends_on": {"nodes": depends}, "columns": {c: {"name": c} for c in columns},
    }


def manifest_of(*models: dict) -> dict:
    source = {
        "unique_id": SOURCE, "source_name": "shop", "name": "customers",
        "relation_name": RAW_READER,
        "columns": {
            "id": {"name": "id"},
            "email": {"name": "email", "config": {"meta": {"pii": "email"}}},
            "full_name": {"name": "full_name", "config": {"meta": {"pii": "name"}}},
            "country": {"name": "country"},
        },
    }
    return {"sources": {SOURCE: source}, "nodes": {m["unique_id"]: m for m in models}}


# A private base model like the project's: the e-mail pseudonymised, the name dropped.
BASE = model("base_customers", f"""
with source as (select * from {RAW_READER}),
final as (
    select
        id,
        {hash_pii('email')} as email_hash,
        case when email is null or full_name is null then 'missing_value' end as rule,
        country,
        filename
    from source
)
select * from final
""", reads=("source",))


def violations_of(public_sql: str, *more: dict) -> list[str]:
    public = model("feat_contacts", public_sql, access="public", reads=("base_customers",
                                                                       "source"))
    return check_lineage(manifest_of(BASE, public, *more)).violations


@pytest.mark.parametrize("expression", [
    "source.email",
    "lower(source.email)",
    "sha256(source.email)",  # a hash, but not keyed: an outside list of e-mails reverses it
    # half of the HMAC: one pad only is not the macro's construction
    "sha256(cast(getvariable('retail_ml_pii_ipad') as blob) || encode(source.email))",
    "json_object('contact', source.email, 'id', source.id)",
    "case when source.id > 0 then source.full_name end",
    "coalesce(source.full_name, source.country)",
])
def test_raw_pii_or_a_reversible_transform_reaching_a_public_model_fails(expression):
    found = violations_of(f"""
        with source as (select * from {RAW_READER})
        select source.id, {expression} as contact from source
    """)
    assert found and all(v.startswith("main.feat_contacts.contact derives from raw PII")
                         for v in found), found


def test_pii_through_ctes_select_star_and_a_union_fails():
    found = violations_of(f"""
        with source as (select * from {RAW_READER}),
        renamed as (select *, email as contact from source),
        unioned as (
            select id, country from base_customers_placeholder
            union all
            select id, contact from renamed
        )
        select * from unioned
    """.replace("base_customers_placeholder", '"wh"."main"."base_customers"'))
    assert found == [f"main.feat_contacts.country derives from raw PII {SOURCE}.email"
                     " (not through hash_pii)"]


@pytest.mark.parametrize("expression", [
    hash_pii("source.email"),  # the approved keyed hash
    "base.email_hash",  # its pseudonym, read downstream
    "count(distinct base.email_hash)",
    "base.rule",  # a quarantine rule decided on the PII, not carrying it
    "case when source.email is null then 'no e-mail' else 'has e-mail' end",
    "count(*) filter (where source.full_name is not null)",
    "source.country",
])
def test_pseudonyms_conditions_and_other_columns_pass(expression):
    found = violations_of(f"""
        with source as (select * from {RAW_READER}),
        base as (select * from "wh"."main"."base_customers")
        select {expression} as value
        from source
        inner join base on source.id = base.id
        group by all
    """)
    assert found == []


def test_only_what_readers_reach_counts_public_models_and_what_public_views_read():
    leaky = model("int_contacts", f'select id, email from {RAW_READER}', reads=("source",))
    reads_it = model("feat_ids", 'select id from "wh"."main"."int_contacts"', access="public",
                     reads=("int_contacts",))
    assert check_lineage(manifest_of(leaky, reads_it)).violations == []  # never published
    as_view = {**reads_it, "config": {"materialized": "view", "meta": {}}}
    # a public view is published over a copy of what it reads (schema internal)
    assert check_lineage(manifest_of(leaky, as_view)).violations == [
        f"internal.int_contacts.email derives from raw PII {SOURCE}.email (not through hash_pii)"]


def test_a_python_model_output_derives_from_all_its_inputs_unless_declared():
    leaky = model("int_contacts", f'select id, email from {RAW_READER}', reads=("source",))
    scores = model("ml_scores", access="public", language="python", reads=("int_contacts",),
                   columns=("id", "score"))
    assert sorted(check_lineage(manifest_of(leaky, scores)).violations) == [
        f"main.ml_scores.{c} derives from raw PII {SOURCE}.email (not through hash_pii)"
        for c in ("id", "score")]
    narrowed = {**scores, "config": {"materialized": "table", "meta": {
        "lineage": {"id": ["int_contacts.id"], "score": ["int_contacts.id"]}}}}
    check = check_lineage(manifest_of(leaky, narrowed))
    assert check.violations == []
    assert {c.column: c.origins for c in check.columns} == {
        "id": frozenset({(f"{SOURCE}.id", False)}), "score": frozenset({(f"{SOURCE}.id", False)})}


def test_a_python_model_reading_a_source_or_an_untraced_model_fails():
    reads_source = model("ml_scores", access="public", language="python", reads=("source",),
                         columns=("score",))
    assert check_lineage(manifest_of(reads_source)).violations == [
        f"main.ml_scores.score derives from raw PII {SOURCE}.{c} (not through hash_pii)"
        for c in ("email", "full_name")]
    broken = model("int_broken", "select from where", reads=("source",))
    reads_broken = model("ml_scores", access="public", language="python", reads=("int_broken",),
                         columns=("score",))
    assert check_lineage(manifest_of(broken, reads_broken)).violations == [
        "model.retail_ml.ml_scores: lineage unknown (reads the untraced"
        " model.retail_ml.int_broken)"]


def test_a_model_that_cannot_be_traced_fails_closed():
    found = violations_of("select from where")
    assert len(found) == 1 and "model.retail_ml.feat_contacts: lineage unknown" in found[0]


def test_the_report_lists_every_published_column_and_marks_pii():
    public = model("feat_contacts", """
        with base as (select * from "wh"."main"."base_customers")
        select base.id, base.email_hash, base.country, 1 as one from base
    """, access="public", reads=("base_customers",))
    check = check_lineage(manifest_of(BASE, public))
    report = render_report(check)
    assert report.splitlines()[1] == "{% docs pii_lineage_report %}"
    assert report.rstrip().endswith("{% enddocs %}")
    assert "| `main.feat_contacts` | `email_hash` | **`shop.customers.email`** (hashed) |" \
        in report
    assert "| `main.feat_contacts` | `one` | — |" in report
    assert "violations: **0**" in report
    with duckdb.connect() as con:
        rows = con.execute(render_analysis(check)).fetchall()
    assert ("main.feat_contacts", "email_hash", "shop.customers.email", "hashed") in rows
    assert ("main.feat_contacts", "one", None, "none") in rows


# --- the scan --------------------------------------------------------------------------------

PII_COLUMNS = [f"{SOURCE}.email", f"{SOURCE}.full_name",
               "source.retail_ml.shop.reviews.review_text"]


def write_raw(raw_dir: Path) -> None:
    for table, columns in {"customers": "'ella.nielsen1@example.com' as email,"
                                        " 'Ella Nielsen' as full_name",
                           "reviews": "'Below expectations.' as review_text"}.items():
        (raw_dir / table / "load_date=2026-01-01").mkdir(parents=True)
        with duckdb.connect() as con:
            con.execute(f"copy (select {columns}) to "  # noqa: S608
                        f"'{raw_dir}/{table}/load_date=2026-01-01/part.parquet' (format parquet)")


def test_the_scan_finds_raw_pii_in_a_duckdb_file_and_a_parquet_export(tmp_path):
    write_raw(tmp_path / "raw")
    published = tmp_path / "published"
    (published / "parquet").mkdir(parents=True)
    with duckdb.connect(str(published / "retail_ml.duckdb")) as con:
        con.execute("create table clean as select 'x' as v, 3 as n")
        con.execute("create table leaky as select 'Ella Nielsen' as name, 'a' as other")
        con.execute("copy (select 'write to ella.nielsen1@example.com' as note) to"
                    f" '{published}/parquet/notes.parquet' (format parquet)")
        con.execute(f"copy clean to '{published}/parquet/clean.parquet' (format parquet)")
    files = published_files(published)
    assert [f.name for f in files] == ["retail_ml.duckdb", "clean.parquet", "notes.parquet"]
    assert scan_for_raw_pii(files, tmp_path / "raw", PII_COLUMNS) == {
        "retail_ml.duckdb:main.leaky.name": 1, "notes.parquet:notes.parquet.note": 1}


# --- e2e: the project ------------------------------------------------------------------------


def run_lineage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retail_ml.lineage", *args],  # noqa: S603
                          capture_output=True, text=True, check=False, timeout=600)


@pytest.mark.e2e
def test_the_project_passes_and_its_committed_report_is_current(built_warehouse):
    manifest = json.loads((built_warehouse.db_path.parent / "target" / "manifest.json")
                          .read_text())
    check = check_lineage(manifest, PROJECT_DIR)
    assert check.violations == []
    assert set(pii_source_columns(manifest).values()) == {"email", "name", "free_text"}
    # every public model is traced, and what reaches PII reaches it hashed
    public = {n["alias"] for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n.get("access") == "public"}
    assert public <= {c.relation.removeprefix("main.") for c in check.columns}
    assert check.traced_to_sources > len(check.columns) // 2
    stale = "stale: run `make lineage` and commit docs/pii_lineage.md and the analysis"
    assert (PROJECT_DIR / "docs" / "pii_lineage.md").read_text() == render_report(check), stale
    assert (PROJECT_DIR / "analyses" / "pii_lineage_report.sql").read_text() == \
        render_analysis(check), stale


@pytest.mark.e2e
def test_the_cli_scans_the_published_copy_and_fails_on_a_seeded_raw_email(built_warehouse,
                                                                         tmp_path):
    target = built_warehouse.db_path.parent / "target"
    published = tmp_path / "published"
    publish_from_target(built_warehouse.db_path, target, published)
    args = ["--manifest", str(target / "manifest.json"), "--published-dir", str(published),
            "--raw-dir", str(built_warehouse.raw_dir)]
    clean = run_lineage(*args)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 violation(s)" in clean.stdout and "0 column(s) holding raw PII" in clean.stdout

    with duckdb.connect() as con:
        email = con.execute(f"select email from read_parquet('{built_warehouse.raw_dir}"  # noqa: S608
                            "/customers/*/*.parquet') where email like '%@%' limit 1"
                            ).fetchone()[0]
    published_db = published / "retail_ml.duckdb"
    published_db.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with duckdb.connect(str(published_db)) as con:
        con.execute("create table crm_export as select 1 as customer_id, ? as contact", [email])
    leaky = run_lineage(*args)
    assert leaky.returncode == 1
    assert "FAIL retail_ml.duckdb:main.crm_export.contact holds 1 raw PII value(s)" in \
        leaky.stdout


SEEDED_MODEL = """
with

customers as (
    select * from {{ source('shop', 'customers') }}
),

final as (
    select
        customers.id as customer_id,
        customers.email as contact_email,
        lower(trim(customers.email)) as contact_key,
        {{ hash_pii('customers.email') }} as email_hash
    from customers
)

select * from final
"""


@pytest.mark.e2e
def test_a_seeded_public_model_passing_email_through_fails(tmp_path):
    """A public model reading the source's e-mail as it is and lower-cased, compiled by dbt in a
    copy of the project: `make lineage`'s command fails, naming exactly those two columns."""
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", ".venv", "__pycache__")
    for name in ("models", "python_models", "macros", "tests", "seeds", "features", "docs",
                 "assets", "analyses"):
        shutil.copytree(PROJECT_DIR / name, project / name, ignore=ignore)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(PROJECT_DIR / name, project / name)
    (project / "models" / "marts" / "customers" / "feat_customer_contacts.sql").write_text(
        SEEDED_MODEL)
    env = {**os.environ, "RETAIL_ML_TARGET": "ci",
           "RETAIL_ML_DB_PATH": str(tmp_path / "compile.duckdb"),
           "RETAIL_ML_RAW_DIR": str(tmp_path / "raw"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    compiled = subprocess.run(  # noqa: S603 - fixed argv
        [str(Path(sys.executable).with_name("dbt")), "compile", "--project-dir", str(project),
         "--profiles-dir", str(project), "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs"), "--quiet"],
        env=env, capture_output=True, text=True, check=False, timeout=600)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    result = run_lineage("--manifest", str(tmp_path / "target" / "manifest.json"))
    assert result.returncode == 1
    failures = sorted(line.strip() for line in result.stdout.splitlines() if "FAIL" in line)
    assert failures == [
        f"FAIL main.feat_customer_contacts.{column} derives from raw PII {SOURCE}.email"
        " (not through hash_pii)" for column in ("contact_email", "contact_key")]
