"""The feature specs (features/*.yml): validation, and what follows from them stays in step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from retail_ml.features import SpecError, load_spec, load_specs
from retail_ml.features.codegen import generated_files, splice, stale_files, write_files

PROJECT_DIR = Path(__file__).resolve().parents[2]
CUSTOMER_SPEC = PROJECT_DIR / "features" / "customers.yml"


def test_generated_files_are_current():
    assert stale_files(PROJECT_DIR) == [], "run `make features` and commit the result"


def test_customer_spec_plan_covers_every_window():
    plan = load_spec(CUSTOMER_SPEC).plan()
    assert plan["sums"]["orders"] == [7, 10, 30, 90]
    assert plan["lifetime"] == ["net_sales", "orders"]
    assert plan["window_lengths"] == [7, 10, 30, 90]
    assert plan["distinct"] == {"category": [90]}
    assert plan["latest"] == ["orders"]


def test_model_features_follow_the_spec():
    spec = load_spec(CUSTOMER_SPEC)
    assert spec.model_features("categorical") == ["country_code", "signup_channel"]
    numeric = spec.model_features("numeric")
    assert "activity_rank_30d" in numeric and "order_value_10d" not in numeric  # unpublished


def copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for generated in generated_files(PROJECT_DIR):
        target = project / generated.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / generated.path, target)
    shutil.copytree(PROJECT_DIR / "features", project / "features")
    # The column meta names the notebook cell and the docs block of every feature.
    shutil.copytree(PROJECT_DIR / "notebooks", project / "notebooks")
    for doc in [*PROJECT_DIR.glob("models/**/*.md"), *PROJECT_DIR.glob("docs/**/*.md")]:
        target = project / doc.relative_to(PROJECT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(doc, target)
    return project


def test_a_new_window_is_a_spec_change_and_everything_else_follows(tmp_path):
    """orders_60d: one entry in the spec; the engine plan, every carrier's contract and the
    model's feature list follow from `make features`, and are stale until it runs."""
    project = copy_project(tmp_path)
    spec_path = project / "features" / "customers.yml"
    raw = yaml.safe_load(spec_path.read_text())
    at = next(i for i, f in enumerate(raw["features"]) if f["name"] == "orders_90d")
    raw["features"].insert(at + 1, {
        "name": "orders_60d", "kind": "sum", "measure": "orders", "window_days": 60,
        "data_type": "integer", "model": "numeric", "range": {"min": 0},
        "description": "Non-cancelled orders placed in the 60-day window.",
    })
    spec_path.write_text(yaml.safe_dump(raw, sort_keys=False))

    stale = {str(path) for path in stale_files(project)}
    spec = load_spec(spec_path)
    expected = {"macros/features/feature_specs.sql", spec.model_config["path"]}
    expected |= {carrier.path for carrier in spec.carriers}
    assert stale == expected

    write_files(project)
    assert stale_files(project) == []
    macro = (project / "macros/features/feature_specs.sql").read_text()
    assert '"orders": [\n    7,\n    10,\n    30,\n    60,\n    90' in macro
    for carrier in spec.carriers:
        models = yaml.safe_load((project / carrier.path).read_text())["models"]
        columns = next(m for m in models if m["name"] == carrier.model)["columns"]
        names = [column["name"] for column in columns]
        assert names == [spec.key, *[f.name for f in spec.published], *carrier.extra_columns]
        assert names.index("orders_60d") == names.index("orders_90d") + 1
    model_yaml = yaml.safe_load((project / spec.model_config["path"]).read_text())
    registry = next(m for m in model_yaml["models"] if m["name"] == "ml_model_registry")
    assert "orders_60d" in registry["config"]["numeric_features"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"measure": "refund_count"}, "measure 'refund_count' is not declared"),
        ({"kind": "distinct"}, "is a summed measure"),
        ({"data_type": "float"}, "data_type must be one of"),
        ({"window_days": 0}, "window_days must be a positive integer"),
        ({"description": ""}, "needs a description"),
        ({"colour": "red"}, "unknown keys"),
        ({"name": "orders_90d"}, "duplicated names"),
    ],
)
def test_an_inconsistent_spec_is_refused_naming_the_feature(tmp_path, change, message):
    raw = yaml.safe_load(CUSTOMER_SPEC.read_text())
    feature = next(f for f in raw["features"] if f["name"] == "orders_7d")
    feature.update(change)
    broken = tmp_path / "customers.yml"
    broken.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SpecError, match=message):
        load_spec(broken)


def test_a_rank_must_order_by_computed_features(tmp_path):
    raw = yaml.safe_load(CUSTOMER_SPEC.read_text())
    rank = next(f for f in raw["features"] if f["kind"] == "rank")
    rank["order_by"] = ["avg_order_value_10d"]  # derived: not available to a rank
    broken = tmp_path / "customers.yml"
    broken.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SpecError, match="not a non-derived feature"):
        load_spec(broken)


def test_splice_needs_its_markers():
    with pytest.raises(ValueError, match="no '# >>> generated: x columns'"):
        splice("models: []\n", "x columns", [], Path("a.yml"))


def test_every_spec_of_the_project_loads():
    specs = load_specs(PROJECT_DIR)
    assert "customer" in specs
