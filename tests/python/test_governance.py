"""The governance gates pass on the project and each fails on a seeded violation.

Three judges read dbt's manifest (`make governance`): the project's rules
(retail_ml.governance), dbt-bouncer (dbt-bouncer.yml) and dbt-score (pyproject.toml's minimum).
The manifest comes from `dbt parse` (no build); a seeded violation is a mutated copy of it, run
through the real tool.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT_DIR, run_dbt
from retail_ml.governance import (
    FEATURE_META_KEYS,
    KNOWN_EXCEPTIONS,
    check,
    stale_exceptions,
    unexcused,
)
from retail_ml.publish import plan_publication

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> Path:
    """The target directory of a real `dbt parse` of the project."""
    work_dir = tmp_path_factory.mktemp("governance")
    run = run_dbt(["parse"], raw_dir=work_dir / "raw", db_path=work_dir / "parse.duckdb",
                  work_dir=work_dir)
    assert run.returncode == 0, run.output[-3000:]
    return work_dir / "target"


@pytest.fixture(scope="module")
def manifest(parsed) -> dict:
    return json.loads((parsed / "manifest.json").read_text())


def test_the_project_passes_every_rule(manifest):
    results = check(manifest)
    assert unexcused(results) == {}
    assert stale_exceptions(results) == []


def test_every_public_model_is_read_by_an_exposure_or_a_model_and_exposures_exist(manifest):
    exposures = manifest["exposures"].values()
    assert {e["name"] for e in exposures} >= {
        "crm_purchase_campaign", "onsite_recommendations_widget", "analyst_feature_dashboard"}
    read = {parent for e in exposures for parent in e["depends_on"]["nodes"]}
    assert {"model.retail_ml.ml_customer_scores", "model.retail_ml.ml_product_recommendations",
            "model.retail_ml.feat_customer_daily.v2"} <= read


def violations_after(manifest: dict, mutate) -> dict[str, list[str]]:
    seeded = copy.deepcopy(manifest)
    mutate(seeded)
    return unexcused(check(seeded))


def node(manifest: dict, name: str, version: int | None = None) -> dict:
    return next(n for n in manifest["nodes"].values()
                if n["resource_type"] in {"model", "seed"} and n["name"] == name
                and (version is None or n.get("version") == version))


def column(manifest: dict, name: str, column_name: str) -> dict:
    return node(manifest, name)["columns"][column_name]


def unset_meta(column_node: dict, key: str) -> None:  # a model node works too
    """Removes a meta key of a node or column (the manifest holds it under meta and
    config.meta)."""
    column_node["meta"].pop(key, None)
    column_node["config"]["meta"].pop(key, None)


def set_meta(column_node: dict, **values) -> None:
    column_node["meta"].update(values)
    column_node["config"]["meta"].update(values)


def drop_description(m):
    node(m, "ml_customer_scores")["description"] = ""


def drop_owner(m):
    node(m, "stg_shop__orders")["config"]["meta"].pop("owner")


def ungroup_seed(m):
    node(m, "countries")["config"]["group"] = None


def publish_staging(m):
    node(m, "stg_shop__orders")["access"] = "public"


def drop_contract(m):
    node(m, "feat_product_daily")["config"]["contract"]["enforced"] = False


def drop_primary_key_test(m):
    target = node(m, "ml_customer_scores")["unique_id"]
    for unique_id in [k for k, n in m["nodes"].items() if n["resource_type"] == "test"
                      and n.get("attached_node") == target]:
        del m["nodes"][unique_id]


def expose_private_model(m):
    exposure = next(iter(m["exposures"].values()))
    exposure["depends_on"]["nodes"].append(node(m, "stg_shop__customers")["unique_id"])


def unowned_exposure(m):
    next(iter(m["exposures"].values()))["owner"] = {"name": None, "email": None}


def undescribe_column(m):
    column(m, "int_order_lines_netted", "order_id")["description"] = ""


def undescribe_source(m):
    next(iter(m["sources"].values()))["description"] = ""


def untype_public_column(m):
    column(m, "ml_customer_scores", "probability")["data_type"] = None


def unclassify_public_column(m):
    unset_meta(column(m, "ml_model_metrics", "metric_value"), "sensitivity")


def publish_direct_identifier(m):
    set_meta(column(m, "ml_customer_scores", "customer_id"), pii="direct")


def underclassify_identifier(m):
    set_meta(column(m, "feat_product_daily", "product_id"), pii="pseudonym",
             sensitivity="internal")


def unknown_pii_kind(m):
    set_meta(column(m, "feat_product_daily", "units_7d"), pii="maybe")


def feature_without_notebook_cell(m):
    unset_meta(column(m, "feat_customer_serving", "orders_30d"), "notebook_cell")


def feature_with_missing_definition(m):
    set_meta(column(m, "ml_training_set__purchase_30d", "net_sales_30d"),
             definition="models/_retail_ml__docs.md#no_such_block")


def undeprecate_old_version(m):
    node(m, "feat_customer_serving", version=1)["deprecation_date"] = None


@pytest.mark.parametrize(("mutate", "rule", "fragment"), [
    (drop_description, "descriptions_and_owners", "ml_customer_scores: no description"),
    (drop_owner, "descriptions_and_owners", "stg_shop__orders: no meta.owner"),
    (ungroup_seed, "descriptions_and_owners", "countries: not in a group with an owner"),
    (publish_staging, "staging_intermediate_not_public", "stg_shop__orders: staging"),
    (drop_contract, "public_sql_models_contracted", "feat_product_daily"),
    (drop_primary_key_test, "primary_key_tests", "ml_customer_scores: no primary-key test"),
    (expose_private_model, "exposures_owned_and_public_only", "non-public"),
    (unowned_exposure, "exposures_owned_and_public_only", "no owner"),
    (undescribe_column, "columns_and_sources_described", "netted.order_id: column without"),
    (undescribe_source, "columns_and_sources_described", "no description"),
    (untype_public_column, "public_columns_typed_and_classified", "probability: no data_type"),
    (unclassify_public_column, "public_columns_typed_and_classified", "meta.sensitivity None"),
    (publish_direct_identifier, "public_columns_typed_and_classified", "a direct identifier"),
    (underclassify_identifier, "public_columns_typed_and_classified",
     "pii pseudonym needs sensitivity >= confidential"),
    (unknown_pii_kind, "public_columns_typed_and_classified", "meta.pii 'maybe'"),
    (feature_without_notebook_cell, "feature_columns_explained",
     "orders_30d: feature without meta.notebook_cell"),
    (feature_with_missing_definition, "feature_columns_explained", "no_such_block"),
    (undeprecate_old_version, "old_versions_deprecated", "feat_customer_serving.v1: old version"),
])
def test_each_rule_fails_on_a_seeded_violation(manifest, mutate, rule, fragment):
    found = violations_after(manifest, mutate)
    assert rule in found, found
    assert any(fragment in problem for problem in found[rule]), found


def test_a_fixed_known_exception_must_be_removed(manifest):
    results = check(manifest)
    first = next(iter(KNOWN_EXCEPTIONS))
    for problems in results.values():
        if first in problems:
            problems.remove(first)
    assert stale_exceptions(results) == [first]


def test_every_public_column_is_typed_classified_and_features_explained(manifest):
    """The figures of the check (README, Governance): every public column classified; every
    feature column with its window, grain, definition and notebook cell."""
    public = [n for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n.get("access") == "public"]
    columns = [c for n in public for c in n["columns"].values()]
    assert len(columns) >= 270
    assert all(c["data_type"] and {"pii", "sensitivity"} <= set(c["config"]["meta"])
               for c in columns)
    features = [c for c in columns if "feature_kind" in c["config"]["meta"]]
    assert len(features) > 100
    assert all(c["config"]["meta"][key] for c in features for key in FEATURE_META_KEYS)


def test_the_old_feature_table_versions_are_deprecated_and_published(manifest):
    """feat_customer_serving / feat_customer_daily: v2 latest under the unversioned name, v1
    deprecated with a date; both published (the analysts' reads keep working)."""
    for name in ("feat_customer_serving", "feat_customer_daily"):
        latest, old = node(manifest, name, version=2), node(manifest, name, version=1)
        assert latest["latest_version"] == 2 and latest["alias"] == name
        assert old["deprecation_date"] and old["alias"] == f"{name}_v1"
        assert "lifetime_net_sales" in old["columns"]
        assert "net_sales_lifetime" not in old["columns"]
        assert "net_sales_lifetime" in latest["columns"]
    plan = plan_publication(manifest)
    published = {r.name for r in (*plan.public_tables, *plan.public_views)}
    assert {"feat_customer_serving", "feat_customer_serving_v1", "feat_customer_daily",
            "feat_customer_daily_v1"} <= published


# --- dbt-bouncer -----------------------------------------------------------------------------

def run_bouncer(manifest: dict, work_dir: Path) -> tuple[int, set[str], str]:
    """Runs dbt-bouncer with the project's config on `manifest`; returns its exit code, the
    names of the failing checks and its output."""
    artifacts = work_dir / "target"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "manifest.json").write_text(json.dumps(manifest))
    config = yaml.safe_load((PROJECT_DIR / "dbt-bouncer.yml").read_text())
    config["dbt_artifacts_dir"] = str(artifacts)
    (work_dir / "dbt-bouncer.yml").write_text(yaml.safe_dump(config))
    report = work_dir / "bouncer.json"
    completed = subprocess.run(  # noqa: S603 - fixed argv
        [str(BIN / "dbt-bouncer"), "run", "--config-file", str(work_dir / "dbt-bouncer.yml"),
         "--output-file", str(report), "--output-only-failures"],
        cwd=work_dir, capture_output=True, text=True, check=False)
    failing = ({row["check_run_id"].split(":")[0] for row in json.loads(report.read_text())}
               if report.exists() else set())
    return completed.returncode, failing, completed.stdout + completed.stderr


def test_dbt_bouncer_passes_on_the_project(manifest, tmp_path):
    returncode, failing, output = run_bouncer(manifest, tmp_path)
    assert returncode == 0 and not failing, output[-3000:]


def test_dbt_bouncer_fails_on_each_seeded_violation(manifest, tmp_path):
    """One manifest copy, one violation per check (each on a different node): every check
    named below must fail."""
    seeded = copy.deepcopy(manifest)
    node(seeded, "feat_product_daily")["config"]["contract"]["enforced"] = False
    unset_meta(node(seeded, "int_refunds_converted"), "owner")
    node(seeded, "stg_shop__orders")["access"] = "public"
    column(seeded, "ml_model_metrics", "metric")["description"] = ""
    column(seeded, "ml_score_realised_lift", "decile")["data_type"] = None
    unset_meta(column(seeded, "ml_model_calibration", "brier"), "pii")
    drop_tests(seeded, "ml_customer_scores", "columns_match_yaml")
    drop_tests(seeded, "int_returned_units_capped", "unique", "unique_combination_of_columns")
    expose_private_model(seeded)
    next(iter(seeded["exposures"].values()))["owner"]["email"] = None
    returncode, failing, output = run_bouncer(seeded, tmp_path)
    assert returncode != 0
    assert failing == {
        "check_model_contract_enforced_for_public_model",
        "check_model_has_meta_keys",
        "check_model_access",
        "check_model_column_description_populated",
        "check_model_columns_have_types",
        "check_model_columns_have_meta_keys",
        "check_model_has_tests_by_name",
        "check_model_has_unique_test",
        "check_exposure_based_on_non_public_models",
        "check_exposure_has_owner",
    }, output[-3000:]


def drop_tests(m: dict, model: str, *test_names: str) -> None:
    target = node(m, model)["unique_id"]
    for unique_id in [k for k, n in m["nodes"].items() if n["resource_type"] == "test"
                      and n.get("attached_node") == target
                      and (n.get("test_metadata") or {}).get("name") in test_names]:
        del m["nodes"][unique_id]


# --- dbt-score -------------------------------------------------------------------------------

def run_score(manifest: dict, work_dir: Path, *options: str) -> subprocess.CompletedProcess:
    """dbt-score on `manifest`, from the project directory so pyproject.toml's config (the
    minimum, the project rules) applies."""
    path = work_dir / "manifest.json"
    path.write_text(json.dumps(manifest))
    return subprocess.run(  # noqa: S603 - fixed argv
        [str(BIN / "dbt-score"), "lint", "--manifest", str(path), "--show", "failing-items",
         *options],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


def test_dbt_score_passes_its_minimum_on_the_project(manifest, tmp_path):
    run = run_score(manifest, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"Project score: \S*10\.0", run.stdout), run.stdout[-500:]


def test_dbt_score_fails_under_its_item_minimum_on_one_unclassified_public_column(
        manifest, tmp_path):
    seeded = copy.deepcopy(manifest)
    unset_meta(column(seeded, "ml_customer_scores", "decile"), "sensitivity")
    run = run_score(seeded, tmp_path)
    assert run.returncode == 1, run.stdout[-3000:]
    assert "public_columns_typed_and_classified" in run.stdout
    assert "ml_customer_scores" in run.stdout


def test_dbt_score_fails_under_its_item_minimum_on_a_model_without_owner(manifest, tmp_path):
    seeded = copy.deepcopy(manifest)
    unset_meta(node(seeded, "int_refunds_converted"), "owner")
    run = run_score(seeded, tmp_path)
    assert run.returncode == 1, run.stdout[-3000:]
    assert "fail_any_item_under = 9.5" in run.stdout
    assert "int_refunds_converted" in run.stdout and "has_owner" in run.stdout


def test_dbt_score_fails_under_its_project_minimum(manifest, tmp_path):
    """Descriptions gone from every staging model (the item minimum switched off on the command
    line, so the project minimum of pyproject.toml is what fails)."""
    seeded = copy.deepcopy(manifest)
    for n in seeded["nodes"].values():
        if n["resource_type"] == "model" and n["name"].startswith(("stg_", "base_", "int_")):
            n["description"] = ""
            for col in n["columns"].values():
                col["description"] = ""
    run = run_score(seeded, tmp_path, "--fail-any-item-under", "0")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "project score too low, fail_project_under = 9.9" in run.stdout


# --- the example queries of the public models ------------------------------------------------

def test_every_public_example_query_runs(manifest, built_warehouse):
    """The ```sql examples in public models' descriptions run on a real build (what analysts
    copy must work)."""
    examples = {
        n["unique_id"]: block
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n.get("access") == "public"
        for block in re.findall(r"```sql\n(.*?)```", n["description"], flags=re.DOTALL)
    }
    assert len(examples) >= 11
    with built_warehouse.connect() as con:
        for unique_id, sql in examples.items():
            assert con.execute(sql).fetchall() is not None, unique_id
