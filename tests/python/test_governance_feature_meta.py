"""The governance metadata of feature columns follows from the spec (codegen), or fails loudly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from retail_ml.features.codegen import (
    carrier_grain,
    column_entries,
    docs_blocks,
    feature_definition,
    feature_window,
    notebook_cells,
)
from retail_ml.features.spec import SpecError, load_spec

PROJECT_DIR = Path(__file__).resolve().parents[2]
CUSTOMERS = load_spec(PROJECT_DIR / "features" / "customers.yml")


def feature(name: str):
    return next(f for f in CUSTOMERS.features if f.name == name)


def test_every_published_customer_feature_names_the_notebook_cell_computing_it():
    cells = notebook_cells(PROJECT_DIR, CUSTOMERS)
    assert set(cells) == {f.name for f in CUSTOMERS.published}
    assert cells["orders_30d"].endswith("(Orders)")
    assert cells["net_sales_lifetime"].endswith("(Net sales (EUR cents))")
    assert "attributes as of D" in cells["signup_channel"]
    assert cells["sessions_30d"].startswith("notebooks/customer_features.py#cell-")


@pytest.mark.parametrize(("name", "window"), [
    ("orders_7d", "7d"), ("orders_lifetime", "lifetime"), ("distinct_categories_90d", "90d"),
    ("country_code", "as_of"), ("days_since_last_order", "lifetime"),
    ("avg_order_value_10d", "10d"), ("activity_rank_30d", "30d"),
    ("is_churned_customer", "90d,lifetime"),
])
def test_window_of_a_feature_derived_ones_from_their_inputs(name, window):
    assert feature_window(CUSTOMERS, feature(name)) == window


def test_grain_and_definition_and_classification_reach_the_columns():
    blocks = docs_blocks(PROJECT_DIR)
    assert feature_definition(CUSTOMERS, feature("net_sales_30d"), blocks) == (
        "models/_retail_ml__docs.md#net_sales")
    assert feature_definition(CUSTOMERS, feature("orders_7d"), blocks).endswith(
        "#customer_feature_semantics")
    daily, serving = CUSTOMERS.carriers[0], CUSTOMERS.carriers[1]
    assert carrier_grain(CUSTOMERS, daily) == "customer_id x as_of_date"
    assert carrier_grain(CUSTOMERS, serving) == "customer_id"
    entries = {e["name"]: e for e in column_entries(CUSTOMERS, serving, PROJECT_DIR)}
    assert entries["customer_id"]["config"]["meta"] == {
        "pii": "identifier", "sensitivity": "confidential"}
    assert entries["country_code"]["config"]["meta"]["pii"] == "quasi_identifier"
    assert entries["orders_30d"]["config"]["meta"]["pii"] == "none"


def copy_for_spec(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / "features", project / "features")
    shutil.copytree(PROJECT_DIR / "notebooks", project / "notebooks")
    for doc in PROJECT_DIR.glob("models/**/*.md"):
        target = project / doc.relative_to(PROJECT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(doc, target)
    return project


def with_feature(project: Path, entry: dict):
    path = project / "features" / "customers.yml"
    raw = yaml.safe_load(path.read_text())
    raw["features"].append(entry)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_spec(path)


def test_a_feature_the_notebook_does_not_compute_is_refused(tmp_path):
    project = copy_for_spec(tmp_path)
    spec = with_feature(project, {
        "name": "refunds_30d", "kind": "sum", "measure": "net_sales", "window_days": 30,
        "data_type": "decimal(18,2)", "description": "Not in the pandas reference."})
    with pytest.raises(SpecError, match="'refunds_30d': not computed in notebooks/"):
        notebook_cells(project, spec)


def test_a_definition_naming_no_docs_block_is_refused(tmp_path):
    project = copy_for_spec(tmp_path)
    spec = with_feature(project, {
        "name": "orders_60d", "kind": "sum", "measure": "orders", "window_days": 60,
        "data_type": "integer", "description": "Orders. {{ doc('no_such_block') }}"})
    with pytest.raises(SpecError, match="no docs block 'no_such_block'"):
        feature_definition(spec, spec.features[-1], docs_blocks(project))
