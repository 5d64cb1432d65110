"""The governance rules pass on the project's manifest and each fails on a seeded violation."""

from __future__ import annotations

import copy
import json

import pytest

from retail_ml.governance import (
    KNOWN_EXCEPTIONS,
    check,
    stale_exceptions,
    unexcused,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def manifest(built_warehouse) -> dict:
    """The manifest of the session's real `dbt build` (conftest writes it under work_dir)."""
    return json.loads((built_warehouse.db_path.parent / "target" / "manifest.json").read_text())


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


def node(manifest: dict, name: str) -> dict:
    return next(n for n in manifest["nodes"].values()
                if n["resource_type"] in {"model", "seed"} and n["name"] == name)


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


@pytest.mark.parametrize(("mutate", "rule", "fragment"), [
    (drop_description, "descriptions_and_owners", "ml_customer_scores: no description"),
    (drop_owner, "descriptions_and_owners", "stg_shop__orders: no meta.owner"),
    (ungroup_seed, "descriptions_and_owners", "countries: not in a group with an owner"),
    (publish_staging, "staging_intermediate_not_public", "stg_shop__orders: staging"),
    (drop_contract, "public_sql_models_contracted", "feat_product_daily"),
    (drop_primary_key_test, "primary_key_tests", "ml_customer_scores: no primary-key test"),
    (expose_private_model, "exposures_owned_and_public_only", "non-public"),
    (unowned_exposure, "exposures_owned_and_public_only", "no owner"),
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
