"""The feature specs (``features/<entity>.yml``): loading, validation and what follows from them.

A spec is the one home of an entity's features. This module reads it, refuses an inconsistent
one with a message naming the feature, and derives the *plan* the SQL engine needs (which
windows of which measure to keep running, which distinct counts, which latest dates), so the
Jinja side never re-derives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KINDS = ("sum", "distinct", "days_since", "attribute", "derived", "rank")
#: Kinds computed from the running sums and attributes; `derived` and `rank` read these only.
BASE_KINDS = ("sum", "distinct", "days_since", "attribute")
DATA_TYPES = ("integer", "bigint", "double", "decimal(18,2)", "boolean", "varchar", "date")
MODEL_ROLES = ("numeric", "categorical")


class SpecError(ValueError):
    """A feature spec that cannot be used, with the file and feature it concerns."""


@dataclass(frozen=True)
class Feature:
    """One feature of an entity, as declared in its spec."""

    name: str
    kind: str
    data_type: str
    description: str
    measure: str | None = None
    window_days: int | None = None
    of: str | None = None
    expression: str | None = None
    order_by: tuple[str, ...] = ()
    partition_by: tuple[str, ...] = ()
    method: str = "percent_rank"
    nullable: bool = False
    published: bool = True
    model: str | None = None
    range: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def running_column(self) -> str | None:
        """Name of the engine's running column this feature reads (sum/distinct/last date)."""
        if self.kind == "sum":
            suffix = f"{self.window_days}d" if self.window_days else "lifetime"
            return f"sum_{self.measure}_{suffix}"
        if self.kind == "distinct":
            return f"distinct_{self.measure}_{self.window_days}d"
        if self.kind == "days_since" and self.of and self.of.startswith("last:"):
            return f"last_{self.of.removeprefix('last:')}_date"
        return None


@dataclass(frozen=True)
class Carrier:
    """A table that carries every published feature of the entity (its YAML is generated)."""

    model: str
    path: str
    extra_columns: tuple[str, ...] = ()
    constraints: bool = True
    tests: bool = False
    unique_key: bool = False


@dataclass(frozen=True)
class Spec:
    """An entity's feature spec."""

    entity: str
    key: str
    key_data_type: str
    key_description: str
    measures: dict[str, dict[str, Any]]
    features: tuple[Feature, ...]
    carriers: tuple[Carrier, ...]
    model_config: dict[str, str] | None
    source: Path
    #: The data scientists' pandas reference of these features (a percent-cell notebook), if any.
    notebook: str | None = None
    #: Column classification (``pii``, ``sensitivity``) of the key and, by default, of every
    #: feature (a feature's own ``meta`` overrides it): ``{"key": {...}, "features": {...}}``.
    classification: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def published(self) -> list[Feature]:
        """The features every carrier holds, in spec order."""
        return [feature for feature in self.features if feature.published]

    def model_features(self, role: str) -> list[str]:
        """The model's inputs of one role (``numeric`` or ``categorical``), in spec order."""
        return [f.name for f in self.features if f.published and f.model == role]

    def plan(self) -> dict[str, Any]:
        """What the SQL engine computes, derived from the features (JSON-ready)."""
        sums: dict[str, list[int]] = {}
        lifetime: list[str] = []
        distinct: dict[str, list[int]] = {}
        latest: list[str] = []
        for feature in self.features:
            if feature.kind == "sum" and feature.window_days:
                sums.setdefault(feature.measure, []).append(feature.window_days)
            elif feature.kind == "sum":
                lifetime.append(feature.measure)
            elif feature.kind == "distinct":
                distinct.setdefault(feature.measure, []).append(feature.window_days)
            elif feature.kind == "days_since" and feature.running_column:
                latest.append(feature.of.removeprefix("last:"))
        windows = sorted({n for lengths in sums.values() for n in lengths})
        return {
            "entity": self.entity,
            "key": self.key,
            "measures": {
                name: {"data_type": m["data_type"], "distinct": bool(m.get("distinct"))}
                for name, m in self.measures.items()
            },
            "sum_measures": [m for m in self.measures if not self.measures[m].get("distinct")],
            "sums": {m: sorted(set(n)) for m, n in sums.items()},
            "window_lengths": windows,
            "lifetime": sorted(set(lifetime)),
            "distinct": {m: sorted(set(n)) for m, n in distinct.items()},
            "latest": sorted(set(latest)),
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "data_type": f.data_type,
                    "published": f.published,
                    "nullable": f.nullable,
                    "running_column": f.running_column,
                    "of": f.of,
                    "expression": f.expression,
                    "order_by": list(f.order_by),
                    "partition_by": list(f.partition_by),
                    "method": f.method,
                }
                for f in self.features
            ],
        }


def _require(condition: bool, source: Path, where: str, message: str) -> None:
    if not condition:
        raise SpecError(f"{source}: {where}: {message}")


def _feature(raw: dict[str, Any], measures: dict[str, Any], source: Path) -> Feature:
    name = raw.get("name")
    where = f"feature {name!r}"
    _require(isinstance(name, str) and name.isidentifier(), source, where,
             "needs a snake_case name")
    _require(raw.get("kind") in KINDS, source, where, f"kind must be one of {KINDS}")
    _require(raw.get("data_type") in DATA_TYPES, source, where,
             f"data_type must be one of {DATA_TYPES}")
    _require(bool(raw.get("description")), source, where, "needs a description")
    _require(raw.get("model") in (None, *MODEL_ROLES), source, where,
             f"model must be one of {MODEL_ROLES}")
    known = {
        "name", "kind", "data_type", "description", "measure", "window_days", "of", "expression",
        "order_by", "partition_by", "method", "nullable", "published", "model", "range", "meta",
    }
    _require(not set(raw) - known, source, where, f"unknown keys {sorted(set(raw) - known)}")
    kind = raw["kind"]
    if kind in ("sum", "distinct"):
        measure = raw.get("measure")
        _require(measure in measures, source, where, f"measure {measure!r} is not declared")
        is_distinct = bool(measures[measure].get("distinct"))
        _require(is_distinct == (kind == "distinct"), source, where,
                 f"measure {measure!r} is {'a distinct' if is_distinct else 'a summed'} measure")
        window = raw.get("window_days")
        _require(window is None or (isinstance(window, int) and window > 0), source, where,
                 "window_days must be a positive integer")
        _require(kind == "sum" or window is not None, source, where,
                 "a distinct count needs a window")
    if kind == "days_since":
        of = raw.get("of", "")
        _require(isinstance(of, str) and bool(of), source, where, "days_since needs `of`")
        if of.startswith("last:"):
            _require(of.removeprefix("last:") in measures, source, where,
                     f"unknown measure in {of!r}")
    if kind == "attribute":
        _require(raw.get("of", "entity") in ("entity", "versions"), source, where,
                 "an attribute is `of: entity` (default) or `of: versions` (SCD2)")
    if kind == "derived":
        _require(bool(raw.get("expression")), source, where, "derived needs an expression")
    if kind == "rank":
        _require(bool(raw.get("order_by")), source, where, "rank needs order_by")
        _require(raw.get("method", "percent_rank") in ("percent_rank", "row_number"), source, where,
                 "method must be percent_rank or row_number")
    return Feature(
        name=name,
        kind=kind,
        data_type=raw["data_type"],
        description=" ".join(str(raw["description"]).split()),
        measure=raw.get("measure"),
        window_days=raw.get("window_days"),
        of=raw.get("of", "entity" if kind == "attribute" else None),
        expression=raw.get("expression"),
        order_by=tuple(raw.get("order_by", ())),
        partition_by=tuple(raw.get("partition_by", ())),
        method=raw.get("method", "percent_rank"),
        nullable=bool(raw.get("nullable", False)),
        published=bool(raw.get("published", True)),
        model=raw.get("model"),
        range=dict(raw.get("range", {})),
        meta=dict(raw.get("meta", {})),
    )


def load_spec(path: Path) -> Spec:
    """Reads and validates one spec file.

    Raises:
        SpecError: naming the file and feature, on anything the engine could not compute.
    """
    raw = yaml.safe_load(path.read_text())
    measures = raw.get("measures") or {}
    for measure, declared in measures.items():
        _require(isinstance(declared, dict) and declared.get("data_type") in DATA_TYPES, path,
                 f"measure {measure!r}", f"data_type must be one of {DATA_TYPES}")
        _require(not set(declared) - {"data_type", "distinct", "description"}, path,
                 f"measure {measure!r}", f"unknown keys {sorted(set(declared))}")
    features = tuple(_feature(item, measures, path) for item in raw.get("features") or [])
    names = [feature.name for feature in features]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    _require(not duplicates, path, "features", f"duplicated names {duplicates}")
    base = {f.name for f in features if f.kind in BASE_KINDS}
    for feature in features:
        sort_keys = [item.removesuffix(" desc").removesuffix(" asc") for item in feature.order_by]
        for column in (*sort_keys, *feature.partition_by):
            _require(column in base or column == raw["key"], path, f"feature {feature.name!r}",
                     f"{column!r} is not a non-derived feature")
        if feature.kind == "days_since" and not feature.of.startswith("last:"):
            _require(feature.of in base, path, f"feature {feature.name!r}",
                     f"{feature.of!r} is not a non-derived feature")
    carriers = tuple(
        Carrier(
            model=item["model"],
            path=item["path"],
            extra_columns=tuple(item.get("extra_columns", ())),
            constraints=bool(item.get("constraints", True)),
            tests=bool(item.get("tests", False)),
            unique_key=bool(item.get("unique_key", False)),
        )
        for item in raw.get("carriers") or []
    )
    return Spec(
        entity=raw["entity"],
        key=raw["key"],
        key_data_type=raw["key_data_type"],
        key_description=raw["key_description"],
        measures=measures,
        features=features,
        carriers=carriers,
        model_config=raw.get("model_config"),
        source=path,
        notebook=raw.get("notebook"),
        classification={part: dict(values) for part, values in
                        (raw.get("classification") or {}).items()},
    )


def load_specs(project_dir: Path) -> dict[str, Spec]:
    """Every spec of the project (``features/*.yml``), by entity."""
    specs = [load_spec(path) for path in sorted((project_dir / "features").glob("*.yml"))]
    return {spec.entity: spec for spec in specs}
