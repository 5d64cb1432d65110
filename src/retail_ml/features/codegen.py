"""Writes what follows from the feature specs, or checks that it is current.

Generated, from ``features/*.yml``:

- ``macros/features/feature_specs.sql``: the ``feature_spec(entity)`` macro the SQL engine
  reads (the plan of every spec, as JSON);
- in every carrier's YAML, the columns between the markers
  ``# >>> generated: <model> columns`` and ``# <<< generated: <model> columns``, each with its
  governance metadata (column ``meta``): ``pii`` and ``sensitivity`` (the spec's
  ``classification``, a feature's ``meta`` overriding it), and for features ``window``, ``grain``
  (the carrier's), ``definition`` (the docs block that defines it) and ``notebook_cell`` (the
  cell of the pandas reference that computes it);
- in the model config's YAML, its ``numeric_features``/``categorical_features`` lists between
  ``# >>> generated: <model> <role>_features`` and ``# <<< ...`` markers.

Everything outside the markers is hand-written and kept byte for byte.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from retail_ml.features.spec import Carrier, Feature, Spec, SpecError, load_specs

MACRO_PATH = Path("macros/features/feature_specs.sql")
NOTICE = "edit the spec and run `make features`, not these lines"


@dataclass(frozen=True)
class GeneratedFile:
    """A file's path (relative to the project) and the content the specs imply."""

    path: Path
    content: str


def render_macro(specs: dict[str, Spec]) -> str:
    """The ``feature_spec(entity)`` macro holding every spec's plan."""
    plans = {entity: spec.plan() for entity, spec in sorted(specs.items())}
    payload = json.dumps(plans, indent=1, sort_keys=True).replace("\\", "\\\\").replace("'", "\\'")
    sources = ", ".join(str(spec.source.name) for spec in specs.values())
    return (
        f"{{#- Generated from features/ ({sources}) by `make features`; {NOTICE}. -#}}\n"
        "{% macro feature_spec(entity) -%}\n"
        f"{{%- set specs = fromjson('{payload}') -%}}\n"
        "{%- if entity not in specs -%}\n"
        "{{ exceptions.raise_compiler_error('no feature spec for entity ' ~ entity) }}\n"
        "{%- endif -%}\n"
        "{{ return(specs[entity]) }}\n"
        "{%- endmacro %}\n"
    )


DOC_REFERENCE = re.compile(r"""doc\(\s*['"](\w+)['"]\s*\)""")
DATE_COLUMNS = ("as_of_date", "cutoff_date")


def docs_blocks(project_dir: Path) -> dict[str, str]:
    """Every ``{% docs <name> %}`` block of the project's models/ and docs/ -> its file."""
    blocks: dict[str, str] = {}
    for folder in ("models", "docs"):
        for path in sorted((project_dir / folder).rglob("*.md")):
            for name in re.findall(r"{%-?\s*docs\s+(\w+)\s*-?%}", path.read_text()):
                blocks[name] = path.relative_to(project_dir).as_posix()
    return blocks


def notebook_cells(project_dir: Path, spec: Spec) -> dict[str, str]:
    """Published feature -> the cell of the spec's pandas notebook that computes it.

    A cell is named by its number among the notebook's ``# %%`` cells (1-based) and the title
    of the markdown cell above it. The computing cell is found by the first of these that
    matches a code cell: the name (or its ``_cents`` twin) assigned or used as a dict key, a
    keyword argument, a rename target; an f-string template for windowed names
    (``orders_{days}d``); a column selected from a frame (``df[["a", "name"]]``).

    Raises:
        SpecError: when a published feature has no cell (the reference does not compute it).
    """
    if not spec.notebook:
        return {}
    path = project_dir / spec.notebook
    text = path.read_text()
    markers = list(re.finditer(r"^# %%(.*)\n", text, flags=re.MULTILINE))
    code_cells: list[tuple[int, str, str]] = []
    title = ""
    for number, marker in enumerate(markers, start=1):
        end = markers[number].start() if number < len(markers) else len(text)
        body = text[marker.end():end]
        if "[markdown]" in marker.group(1):
            titles = re.findall(r"^# #+ (.+)$", body, flags=re.MULTILINE)
            title = titles[-1] if titles else title
        else:
            code_cells.append((number, title, body))
    cells = {}
    for feature in spec.published:
        name = re.escape(feature.name)
        patterns = [
            rf"""["']{name}(_cents)?["']\s*(\]\s*=|:)|\b{name}\s*=(?!=)|:\s*["']{name}["']""",
        ]
        windowed = re.match(r"^(.*_)(\d+)d$", feature.name)
        if windowed:
            patterns.append(re.escape(windowed.group(1)) + r"\{\w+\}d")
        patterns.append(rf"""\)\[\s*\[[^\]]*["']{name}["']""")
        found = next(
            (f"{spec.notebook}#cell-{number} ({title})"
             for pattern in patterns for number, title, body in code_cells
             if re.search(pattern, body)),
            None,
        )
        if found is None:
            raise SpecError(f"{spec.source}: feature {feature.name!r}: not computed in "
                            f"{spec.notebook} (no cell names it)")
        cells[feature.name] = found
    return cells


def feature_window(spec: Spec, feature: Feature) -> str:
    """The window a feature looks back over: ``<N>d``, ``lifetime``, or ``as_of`` (an attribute's
    value known on the as-of date); a derived or rank feature has the windows of its inputs."""
    if feature.kind in ("sum", "distinct"):
        return f"{feature.window_days}d" if feature.window_days else "lifetime"
    if feature.kind == "days_since":
        return "lifetime"
    if feature.kind == "attribute":
        return "as_of"
    by_name = {f.name: f for f in spec.features}
    inputs = (re.findall(r"[a-z_][a-z0-9_]*", feature.expression or "")
              + [item.split()[0] for item in feature.order_by])
    windows = {feature_window(spec, by_name[name]) for name in inputs
               if name in by_name and name != feature.name}
    return ",".join(sorted(windows, key=lambda w: (not w[:-1].isdigit(), len(w), w))) or "as_of"


def carrier_grain(spec: Spec, carrier: Carrier) -> str:
    """The carrier's row grain: the key, and the date column unless the key alone is unique."""
    dates = [column for column in carrier.extra_columns if column in DATE_COLUMNS]
    return spec.key if carrier.unique_key or not dates else f"{spec.key} x {dates[0]}"


def feature_definition(spec: Spec, feature: Feature, blocks: dict[str, str]) -> str:
    """The docs block that defines a feature (``<file>#<block>``): the first one its description
    cites, else the entity's ``<entity>_feature_semantics``.

    Raises:
        SpecError: when the block does not exist.
    """
    cited = DOC_REFERENCE.findall(feature.description)
    block = cited[0] if cited else f"{spec.entity}_feature_semantics"
    if block not in blocks:
        raise SpecError(f"{spec.source}: feature {feature.name!r}: no docs block {block!r}")
    return f"{blocks[block]}#{block}"


def column_entries(spec: Spec, carrier: Carrier, project_dir: Path = Path(".")
                   ) -> list[dict[str, Any]]:
    """The YAML column entries of the key and every published feature, for one carrier."""
    key: dict[str, Any] = {
        "name": spec.key,
        "data_type": spec.key_data_type,
        "description": spec.key_description,
    }
    blocks = docs_blocks(project_dir)
    cells = notebook_cells(project_dir, spec)
    grain = carrier_grain(spec, carrier)
    feature_class = spec.classification.get("features", {})
    if carrier.constraints:
        key["constraints"] = [{"type": "not_null"}]
    if carrier.unique_key:  # one row per entity: the key is the grain
        key["data_tests"] = ["unique", "not_null"]
    if spec.classification.get("key"):
        key["config"] = {"meta": dict(spec.classification["key"])}
    entries = [key]
    for feature in spec.published:
        entry: dict[str, Any] = {
            "name": feature.name,
            "data_type": feature.data_type,
            "description": feature.description,
        }
        if carrier.constraints and not feature.nullable:
            entry["constraints"] = [{"type": "not_null"}]
        if carrier.tests:
            tests: list[Any] = []
            if not feature.nullable:
                tests.append("not_null")
            if feature.range:
                bounds = {f"{side}_value": value for side, value in sorted(feature.range.items())}
                tests.append({"accepted_range": {"arguments": bounds}})
            if tests:
                entry["data_tests"] = tests
        meta = {**feature_class, "feature_kind": feature.kind, **feature.meta}
        for attribute in ("measure", "window_days", "of"):
            if getattr(feature, attribute) is not None:
                meta[attribute] = getattr(feature, attribute)
        if feature.model:
            meta["model_input"] = feature.model
        meta["window"] = feature_window(spec, feature)
        meta["grain"] = grain
        meta["definition"] = feature_definition(spec, feature, blocks)
        meta["notebook_cell"] = cells.get(feature.name, "none: no pandas reference for "
                                          f"{spec.entity} features")
        meta["spec"] = f"features/{spec.source.name}"
        entry["config"] = {"meta": meta}
        entries.append(entry)
    return entries


def _dump(value: Any, indent: str) -> str:
    text = yaml.safe_dump(value, sort_keys=False, width=100, allow_unicode=True)
    return "".join(f"{indent}{line}\n" if line else "\n" for line in text.splitlines())


def splice(text: str, label: str, body: Any, path: Path) -> str:
    """Replaces the lines between the ``label`` markers of ``text`` with ``body`` as YAML."""
    pattern = re.compile(
        rf"^(?P<indent>[ ]*)# >>> generated: {re.escape(label)}\b.*\n"
        rf"(?P<body>(?:.*\n)*?)"
        rf"(?P=indent)# <<< generated: {re.escape(label)}\b.*\n",
        re.MULTILINE,
    )
    match = pattern.search(text)
    if match is None:
        raise ValueError(f"{path}: no '# >>> generated: {label}' ... '# <<<' markers")
    indent = match.group("indent")
    replacement = (
        f"{indent}# >>> generated: {label} ({NOTICE})\n"
        f"{_dump(body, indent)}"
        f"{indent}# <<< generated: {label}\n"
    )
    return text[: match.start()] + replacement + text[match.end():]


def generated_files(project_dir: Path) -> list[GeneratedFile]:
    """Every file the specs generate or splice into, with its expected content."""
    specs = load_specs(project_dir)
    contents: dict[Path, str] = {MACRO_PATH: render_macro(specs)}
    for spec in specs.values():
        for carrier in spec.carriers:
            path = Path(carrier.path)
            text = contents.get(path) or (project_dir / path).read_text()
            body = column_entries(spec, carrier, project_dir)
            contents[path] = splice(text, f"{carrier.model} columns", body, path)
        if spec.model_config:
            path = Path(spec.model_config["path"])
            text = contents.get(path) or (project_dir / path).read_text()
            for role in ("numeric", "categorical"):
                label = f"{spec.model_config['model']} {role}_features"
                contents[path] = splice(text, label, spec.model_features(role), path)
                text = contents[path]
    return [GeneratedFile(path, content) for path, content in contents.items()]


def stale_files(project_dir: Path) -> list[Path]:
    """Generated files whose content differs from what the specs imply."""
    stale = []
    for generated in generated_files(project_dir):
        target = project_dir / generated.path
        if not target.exists() or target.read_text() != generated.content:
            stale.append(generated.path)
    return stale


def write_files(project_dir: Path) -> list[Path]:
    """Writes every generated file; returns the ones that changed."""
    changed = []
    for generated in generated_files(project_dir):
        target = project_dir / generated.path
        if not target.exists() or target.read_text() != generated.content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(generated.content)
            changed.append(generated.path)
    return changed
