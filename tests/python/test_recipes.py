"""The query recipes have one home (docs/analyst_recipes.yml): the README section and the docs
block are rendered from it and the check fails while either is stale. (Every recipe is run on a
published build in test_semantic_layer.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT_DIR
from retail_ml.recipes import (
    DOCS_BLOCK_FILE,
    README_FILE,
    RECIPES_FILE,
    RecipeError,
    load_recipes,
    main,
    stale_outputs,
    write_outputs,
)


def project_copy(tmp_path: Path) -> Path:
    for relative in (RECIPES_FILE, README_FILE, DOCS_BLOCK_FILE):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_DIR / relative, tmp_path / relative)
    return tmp_path


def test_the_readme_and_the_docs_page_show_the_recipes_file():
    assert stale_outputs(PROJECT_DIR) == []
    recipes = load_recipes(PROJECT_DIR / RECIPES_FILE)
    assert len(recipes) == 10
    readme = (PROJECT_DIR / README_FILE).read_text()
    docs = (PROJECT_DIR / DOCS_BLOCK_FILE).read_text()
    for recipe in recipes:
        assert recipe.question in readme and recipe.question in docs
        assert (recipe.sql or recipe.mf) in readme


def test_an_edited_recipe_makes_both_copies_stale_until_regenerated(tmp_path):
    project = project_copy(tmp_path)
    recipes = project / RECIPES_FILE
    recipes.write_text(recipes.read_text().replace(
        "Who were the most active customers in the last 30 days?",
        "Who were the busiest customers in the last 30 days?"))
    assert set(stale_outputs(project)) == {project / README_FILE, project / DOCS_BLOCK_FILE}
    assert main(["--project-dir", str(project), "--check"]) == 1
    assert set(write_outputs(project)) == {project / README_FILE, project / DOCS_BLOCK_FILE}
    assert stale_outputs(project) == []
    assert "busiest customers" in (project / README_FILE).read_text()
    # Only the generated section changed: the README's hand-written text is kept.
    original = (PROJECT_DIR / README_FILE).read_text()
    kept = original.split("## Analysts")[0]
    assert (project / README_FILE).read_text().split("## Analysts")[0] == kept


def write_recipes(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "recipes.yml"
    path.write_text(yaml.safe_dump({"recipes": entries}))
    return path


BASE = {"name": "a", "question": "q?", "note": "n"}


@pytest.mark.parametrize(("entries", "message"), [
    ([{**BASE, "sql": "select 1", "mf": "mf query --metrics x"}], "exactly one of sql or mf"),
    ([BASE], "exactly one of sql or mf"),
    ([{**BASE, "mf": "mf validate-configs"}], "mf query"),
    ([{**BASE, "sql": "select 1"}, {**BASE, "question": "q2?", "sql": "select 2"}], "duplicate"),
    ([{**BASE, "sql": "select 1", "chart": "bar"}], "unknown key"),
])
def test_malformed_recipes_are_refused(tmp_path, entries, message):
    with pytest.raises(RecipeError, match=message):
        load_recipes(write_recipes(tmp_path, entries))


def test_an_mf_recipe_gives_the_arguments_after_mf(tmp_path):
    where = "{{ Dimension('customer__country_code') }} = 'DE'"
    command = f'mf query --metrics net_sales --where "{where}"'
    path = write_recipes(tmp_path, [{**BASE, "mf": command}])
    assert load_recipes(path)[0].mf_args == ["query", "--metrics", "net_sales", "--where", where]
