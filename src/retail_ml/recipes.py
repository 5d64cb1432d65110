"""The analysts' query recipes: declared once in `docs/analyst_recipes.yml`, shown twice.

The README's section "Analysts: query recipes" and the docs site's page (the docs block
`analyst_recipes` in `docs/analyst_recipes.md`, shown by the exposure `analyst_query_recipes`)
are rendered from that one file, so they never disagree; `make test` fails while either is stale
and runs every recipe on the published copy of a small build.

    python -m retail_ml.recipes --project-dir .           # regenerate both (make recipes)
    python -m retail_ml.recipes --project-dir . --check   # exit 1 when one is stale
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

RECIPES_FILE = Path("docs/analyst_recipes.yml")
README_FILE = Path("README.md")
DOCS_BLOCK_FILE = Path("docs/analyst_recipes.md")
DOCS_BLOCK_NAME = "analyst_recipes"
README_BEGIN = ("<!-- >>> generated: analyst recipes (edit docs/analyst_recipes.yml and run "
                "`make recipes`, not these lines) -->")
README_END = "<!-- <<< generated: analyst recipes -->"


class RecipeError(ValueError):
    """The recipes file is inconsistent (duplicate name, no query or two, unknown key)."""


@dataclass(frozen=True)
class Recipe:
    """One analyst question and the query that answers it: DuckDB SQL on the published tables,
    or a MetricFlow command answered from the published copy."""

    name: str
    question: str
    note: str
    sql: str | None = None
    mf: str | None = None
    may_be_empty: str | None = None

    @property
    def mf_args(self) -> list[str]:
        """The arguments after `mf` (e.g. ["query", "--metrics", ...])."""
        if self.mf is None:
            raise RecipeError(f"{self.name}: not a MetricFlow recipe")
        return shlex.split(self.mf)[1:]


_KEYS = {"name", "question", "note", "sql", "mf", "may_be_empty"}


def load_recipes(path: Path) -> list[Recipe]:
    """The recipes of `path`, in file order; RecipeError when one is malformed."""
    entries = (yaml.safe_load(path.read_text()) or {}).get("recipes") or []
    recipes: list[Recipe] = []
    for entry in entries:
        name = entry.get("name", "?")
        if unknown := set(entry) - _KEYS:
            raise RecipeError(f"{name}: unknown key(s) {sorted(unknown)}")
        if not entry.get("question") or not entry.get("note"):
            raise RecipeError(f"{name}: a recipe needs a question and a note")
        if ("sql" in entry) == ("mf" in entry):
            raise RecipeError(f"{name}: a recipe has exactly one of sql or mf")
        if "mf" in entry and not entry["mf"].startswith("mf query "):
            raise RecipeError(f"{name}: an mf recipe is an `mf query ...` command")
        if any(r.name == name for r in recipes):
            raise RecipeError(f"{name}: duplicate recipe name")
        recipes.append(Recipe(
            name=name,
            question=entry["question"].strip(),
            note=" ".join(entry["note"].split()),
            sql=entry["sql"].strip() if "sql" in entry else None,
            mf=" ".join(entry["mf"].split()) if "mf" in entry else None,
            may_be_empty=entry.get("may_be_empty"),
        ))
    if not recipes:
        raise RecipeError(f"{path}: no recipes")
    return recipes


def render_markdown(recipes: list[Recipe], heading: str = "####") -> str:
    """The recipes as Markdown: a numbered question, its note and the query in a code block."""
    parts: list[str] = []
    for number, recipe in enumerate(recipes, start=1):
        parts.append(f"{heading} {number}. {recipe.question}\n")
        note = recipe.note
        if recipe.may_be_empty:
            note += f" (Empty until {recipe.may_be_empty}.)"
        parts.append(f"{note}\n")
        if recipe.sql is not None:
            parts.append(f"```sql\n{recipe.sql}\n```\n")
        else:
            parts.append(f"```bash\n{recipe.mf}\n```\n")
    return "\n".join(parts)


def render_readme_section(recipes: list[Recipe]) -> str:
    return f"{README_BEGIN}\n{render_markdown(recipes)}{README_END}"


def render_docs_block(recipes: list[Recipe]) -> str:
    """The docs-site page. `raw`: MetricFlow filters use `{{ }}`, which dbt must not render."""
    return (
        f"{{% docs {DOCS_BLOCK_NAME} %}}\n{{% raw %}}\n"
        "<!-- generated from docs/analyst_recipes.yml by `make recipes`; do not edit -->\n"
        "# Analysts' query recipes\n\n"
        "The questions analysts ask first, answered from the published copy "
        "(`warehouse/published/retail_ml.duckdb`). SQL recipes run in any DuckDB client "
        "(`make sql` opens the DuckDB CLI on it read-only); MetricFlow recipes run with "
        "`make metrics MF_QUERY=\"<the arguments after mf query>\"`, or as shown after one "
        "`make metrics`, with `RETAIL_ML_TARGET=published`. Every recipe is executed by a test "
        "on a small build.\n\n"
        f"{render_markdown(recipes, heading='##')}"
        "{% endraw %}\n{% enddocs %}\n"
    )


def replace_between_markers(text: str, begin: str, end: str, replacement: str) -> str:
    """`text` with everything from `begin` through `end` replaced by `replacement`."""
    start = text.find(begin)
    stop = text.find(end, start + len(begin)) if start >= 0 else -1
    if start < 0 or stop < 0:
        raise RecipeError(f"markers not found: {begin!r} … {end!r}")
    return text[:start] + replacement + text[stop + len(end):]


def expected_outputs(project_dir: Path) -> dict[Path, str]:
    """What README.md and docs/analyst_recipes.md must contain, from the recipes file."""
    recipes = load_recipes(project_dir / RECIPES_FILE)
    readme = (project_dir / README_FILE).read_text()
    return {
        project_dir / README_FILE: replace_between_markers(
            readme, README_BEGIN, README_END, render_readme_section(recipes)),
        project_dir / DOCS_BLOCK_FILE: render_docs_block(recipes),
    }


def stale_outputs(project_dir: Path) -> list[Path]:
    """The generated files that differ from what the recipes file gives."""
    return [path for path, text in expected_outputs(project_dir).items()
            if not path.exists() or path.read_text() != text]


def write_outputs(project_dir: Path) -> list[Path]:
    """Regenerates the stale files; returns them."""
    stale = stale_outputs(project_dir)
    for path, text in expected_outputs(project_dir).items():
        if path in stale:
            path.write_text(text)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a generated file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_outputs(args.project_dir)
        for path in stale:
            print(f"stale: {path} (run `make recipes`)")
        return 1 if stale else 0
    for path in write_outputs(args.project_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
