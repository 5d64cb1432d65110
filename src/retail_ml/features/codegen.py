"""Writes what follows from the feature specs, or checks that it is current.

Generated, from ``features/*.yml``:

- ``macros/features/feature_specs.sql``: the ``feature_spec(entity)`` macro the SQL engine
  reads (the plan of every spec, as JSON);
- in every carrier's YAML, the columns between the markers
  ``# >>> generated: <model> columns`` and ``# <<< generated: <model> columns``;
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

from retail_ml.features.spec import Carrier, Spec, load_specs

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


def column_entries(spec: Spec, carrier: Carrier) -> list[dict[str, Any]]:
    """The YAML column entries of the key and every published feature, for one carrier."""
    key: dict[str, Any] = {
        "name": spec.key,
        "data_type": spec.key_data_type,
        "description": spec.key_description,
    }
    if carrier.constraints:
        key["constraints"] = [{"type": "not_null"}]
    if carrier.unique_key:  # one row per entity: the key is the grain
        key["data_tests"] = ["unique", "not_null"]
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
        meta = {"feature_kind": feature.kind, **feature.meta}
        for attribute in ("measure", "window_days", "of"):
            if getattr(feature, attribute) is not None:
                meta[attribute] = getattr(feature, attribute)
        if feature.model:
            meta["model_input"] = feature.model
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
            body = column_entries(spec, carrier)
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
