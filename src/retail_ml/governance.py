"""Governance rules checked on dbt's manifest.json, not just written in YAML.

Each rule returns the violations it finds (empty when the project passes):

- every model and seed is described and belongs to a group that has an owner;
- every model has `meta.owner`;
- staging and intermediate models are not public;
- every public SQL model has an enforced contract;
- every model has a primary-key test (`unique` on a column, or a unique combination of columns);
- every exposure has an owner and depends only on public models;
- every model, seed, source and declared column is described;
- every column of a public model is typed and classified: column ``meta`` with ``pii`` (one of
  PII_KINDS; never ``direct`` in a public model) and ``sensitivity`` (one of SENSITIVITY_LEVELS;
  a column that identifies or singles out a person is at least ``confidential``);
- every feature column (``meta.feature_kind``, generated from ``features/*.yml``) carries
  ``window``, ``grain``, ``definition`` (an existing docs block) and ``notebook_cell``;
- a versioned model names its ``latest_version`` and every older version has a
  ``deprecation_date`` and a description (what changed, how to migrate).

dbt-bouncer (``dbt-bouncer.yml``) and dbt-score (``pyproject.toml``) judge the same manifest
from outside; these rules are what they cannot express. The vocabulary (PII_KINDS,
SENSITIVITY_LEVELS) is documented in the docs block ``data_classification``.

Violations listed in KNOWN_EXCEPTIONS (with a reason) are reported but do not fail.

    python -m retail_ml.governance --manifest target/manifest.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Manifest = Mapping[str, Any]
PRIMARY_KEY_TESTS = frozenset({"unique", "unique_combination_of_columns"})
PRIVATE_LAYERS = ("models/staging/", "models/intermediate/")
#: What a column says about a person: nothing; an internal surrogate key that singles one out
#: (customer_id); a keyed pseudonym of a direct identifier (HMAC, macro hash_pii); an attribute
#: that narrows one down combined with others (country, signup date); the identifier itself
#: (e-mail, name, free text): never in a public model.
PII_KINDS = ("none", "identifier", "pseudonym", "quasi_identifier", "direct")
#: Who may read a column, least to most restricted.
SENSITIVITY_LEVELS = ("public", "internal", "confidential", "restricted")
#: Public columns that identify or single out a person need at least this sensitivity.
PERSONAL_MIN_SENSITIVITY = "confidential"
FEATURE_META_KEYS = ("window", "grain", "definition", "notebook_cell")


def _models(manifest: Manifest) -> list[Mapping[str, Any]]:
    return [n for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["package_name"] == _project(manifest)]


def _project(manifest: Manifest) -> str:
    return manifest.get("metadata", {}).get("project_name", "retail_ml")


def _owned_groups(manifest: Manifest) -> set[str]:
    return {group["name"] for group in manifest.get("groups", {}).values()
            if (group.get("owner") or {}).get("email") or (group.get("owner") or {}).get("name")}


def undescribed_or_unowned(manifest: Manifest) -> list[str]:
    """Models and seeds without a description, a group with an owner, or (models) meta.owner."""
    groups = _owned_groups(manifest)
    problems = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in {"model", "seed"} or node["package_name"] != _project(
                manifest):
            continue
        name = node["unique_id"]
        if not (node.get("description") or "").strip():
            problems.append(f"{name}: no description")
        if node["config"].get("group") not in groups:
            problems.append(f"{name}: not in a group with an owner")
        if node["resource_type"] == "model" and not (node["config"].get("meta") or {}).get(
                "owner"):
            problems.append(f"{name}: no meta.owner")
    return problems


def public_private_layers(manifest: Manifest) -> list[str]:
    """Staging and intermediate models must not be public."""
    return [f"{n['unique_id']}: {n['original_file_path'].split('/')[1]} model is public"
            for n in _models(manifest)
            if n.get("access") == "public" and n["original_file_path"].startswith(PRIVATE_LAYERS)]


def public_sql_without_contract(manifest: Manifest) -> list[str]:
    """Public SQL models need an enforced contract (Python models are checked by their
    columns_match_yaml test instead: dbt cannot enforce a contract on them)."""
    return [f"{n['unique_id']}: public SQL model without an enforced contract"
            for n in _models(manifest)
            if n.get("access") == "public" and n.get("language", "sql") == "sql"
            and not n["config"].get("contract", {}).get("enforced")]


def missing_primary_key_test(manifest: Manifest) -> list[str]:
    """Every model needs a uniqueness test on its grain."""
    tested = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and (node.get("test_metadata") or {}).get(
                "name") in PRIMARY_KEY_TESTS:
            tested.add(node.get("attached_node") or
                       next(iter(node.get("depends_on", {}).get("nodes", [])), None))
    return [f"{n['unique_id']}: no primary-key test (unique or unique_combination_of_columns)"
            for n in _models(manifest) if n["unique_id"] not in tested]


def exposure_problems(manifest: Manifest) -> list[str]:
    """Exposures need an owner and may depend on public models only."""
    nodes = manifest["nodes"]
    problems = []
    for exposure in manifest.get("exposures", {}).values():
        name = exposure["unique_id"]
        owner = exposure.get("owner") or {}
        if not (owner.get("email") or owner.get("name")):
            problems.append(f"{name}: no owner")
        for parent in exposure.get("depends_on", {}).get("nodes", []):
            node = nodes.get(parent, {})
            if node.get("resource_type") != "model" or node.get("access") != "public":
                problems.append(f"{name}: depends on non-public {parent}")
    return problems


def undescribed_columns(manifest: Manifest) -> list[str]:
    """Sources without a description, and declared columns of models, seeds and sources
    without one."""
    project = _project(manifest)
    problems = []
    nodes = [n for n in manifest["nodes"].values()
             if n["resource_type"] in {"model", "seed"} and n["package_name"] == project]
    sources = [s for s in manifest.get("sources", {}).values() if s["package_name"] == project]
    for source in sources:
        if not (source.get("description") or "").strip():
            problems.append(f"{source['unique_id']}: no description")
    for node in [*nodes, *sources]:
        for name, column in node.get("columns", {}).items():
            if not (column.get("description") or "").strip():
                problems.append(f"{node['unique_id']}.{name}: column without a description")
    return problems


def _column_meta(column: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}


def column_classification_problems(node: Mapping[str, Any]) -> list[str]:
    """One public model's columns: a data_type, and meta pii/sensitivity from the allowed
    values, consistent with each other (also run by dbt-score: retail_ml.score_rules)."""
    problems = []
    personal_floor = SENSITIVITY_LEVELS.index(PERSONAL_MIN_SENSITIVITY)
    for name, column in node.get("columns", {}).items():
        where = f"{node['unique_id']}.{name}"
        meta = _column_meta(column)
        pii, sensitivity = meta.get("pii"), meta.get("sensitivity")
        if not column.get("data_type"):
            problems.append(f"{where}: no data_type")
        if pii not in PII_KINDS:
            problems.append(f"{where}: meta.pii {pii!r} is not one of {PII_KINDS}")
        elif pii == "direct":
            problems.append(f"{where}: a direct identifier in a public model")
        if sensitivity not in SENSITIVITY_LEVELS:
            problems.append(
                f"{where}: meta.sensitivity {sensitivity!r} is not one of {SENSITIVITY_LEVELS}")
        elif pii in PII_KINDS and pii != "none" and (
                SENSITIVITY_LEVELS.index(sensitivity) < personal_floor):
            problems.append(f"{where}: pii {pii} needs sensitivity >= "
                            f"{PERSONAL_MIN_SENSITIVITY}, not {sensitivity}")
    return problems


def public_columns_unclassified(manifest: Manifest) -> list[str]:
    """Every column of every public model typed and classified."""
    return [problem for node in _models(manifest) if node.get("access") == "public"
            for problem in column_classification_problems(node)]


def feature_columns_unexplained(manifest: Manifest) -> list[str]:
    """Every feature column says its window, grain, defining docs block and notebook cell."""
    blocks = {doc["name"] for doc in manifest.get("docs", {}).values()}
    problems = []
    for node in _models(manifest):
        for name, column in node.get("columns", {}).items():
            meta = _column_meta(column)
            if "feature_kind" not in meta:
                continue
            where = f"{node['unique_id']}.{name}"
            for key in FEATURE_META_KEYS:
                if not meta.get(key):
                    problems.append(f"{where}: feature without meta.{key}")
            block = str(meta.get("definition") or "").rpartition("#")[2]
            if meta.get("definition") and block not in blocks:
                problems.append(f"{where}: definition names no docs block ({block!r})")
    return problems


def versions_without_deprecation(manifest: Manifest) -> list[str]:
    """A versioned model names its latest version; every older version has a deprecation date
    and a description."""
    problems = []
    for node in _models(manifest):
        if node.get("version") is None:
            continue
        where = node["unique_id"]
        latest = node.get("latest_version")
        if latest is None:
            problems.append(f"{where}: versioned without latest_version")
        elif str(node["version"]) != str(latest):
            if not node.get("deprecation_date"):
                problems.append(f"{where}: old version without a deprecation_date")
            if not (node.get("description") or "").strip():
                problems.append(f"{where}: old version without a description")
    return problems


RULES: dict[str, Callable[[Manifest], list[str]]] = {
    "descriptions_and_owners": undescribed_or_unowned,
    "staging_intermediate_not_public": public_private_layers,
    "public_sql_models_contracted": public_sql_without_contract,
    "primary_key_tests": missing_primary_key_test,
    "exposures_owned_and_public_only": exposure_problems,
    "columns_and_sources_described": undescribed_columns,
    "public_columns_typed_and_classified": public_columns_unclassified,
    "feature_columns_explained": feature_columns_unexplained,
    "old_versions_deprecated": versions_without_deprecation,
}


# Violations in files this check's owners may not edit (the feature layer's models), each with
# its reason and who fixes it. A known violation is reported, not failed; one that no longer
# occurs fails (stale_exceptions), so the list only shrinks.
KNOWN_EXCEPTIONS: dict[str, str] = {
    "model.retail_ml.feat_customer_daily.v2: no primary-key test "
    "(unique or unique_combination_of_columns)":
        "a view computed at query time for every customer x day: a grain test would compute "
        "all of it. Its grain is proven on every requested date instead: it equals "
        "int_customer_features_requested there (assert_feat_customer_daily_equals_requested_"
        "features), whose (customer_id, as_of_date) is tested unique",
    "model.retail_ml.feat_customer_daily.v1: no primary-key test "
    "(unique or unique_combination_of_columns)":
        "the deprecated version 1: a view of version 2 (same rows, one column renamed), whose "
        "grain is proven as above",
}


def check(manifest: Manifest) -> dict[str, list[str]]:
    """Rule -> its violations, for every rule (an empty list is a pass)."""
    return {name: rule(manifest) for name, rule in RULES.items()}


def unexcused(results: Mapping[str, list[str]],
              exceptions: Mapping[str, str] = KNOWN_EXCEPTIONS) -> dict[str, list[str]]:
    """The violations not listed as known exceptions (rule -> violations; empty rules dropped)."""
    remaining = {rule: [p for p in problems if p not in exceptions]
                 for rule, problems in results.items()}
    return {rule: problems for rule, problems in remaining.items() if problems}


def stale_exceptions(results: Mapping[str, list[str]],
                     exceptions: Mapping[str, str] = KNOWN_EXCEPTIONS) -> list[str]:
    """Known exceptions that no longer occur: remove them from KNOWN_EXCEPTIONS."""
    found = {problem for problems in results.values() for problem in problems}
    return [exception for exception in exceptions if exception not in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=Path("target/manifest.json"))
    args = parser.parse_args(argv)
    results = check(json.loads(args.manifest.read_text()))
    failing = unexcused(results)
    for rule, problems in results.items():
        status = "FAIL" if rule in failing else "pass"
        print(f"{status}  {rule}  ({len(problems)} violation(s), "
              f"{len(problems) - len(failing.get(rule, []))} known)")
        for problem in problems:
            known = KNOWN_EXCEPTIONS.get(problem)
            print(f"      {problem}" + (f"  [known: {known}]" if known else ""))
    stale = stale_exceptions(results)
    for exception in stale:
        print(f"FAIL  stale known exception (fixed? remove it): {exception}")
    return 1 if failing or stale else 0


if __name__ == "__main__":
    sys.exit(main())
