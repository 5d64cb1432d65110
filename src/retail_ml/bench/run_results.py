"""Per-step wall time of a `dbt build`, derived from `run_results.json` and `manifest.json`.

Each executed node is put in exactly one step (first match wins):

1. `tests`: data tests and unit tests;
2. `seeds`;
3. `ml_python`: Python models (training, scoring, recommendations);
4. `staging`: models under `models/staging`;
5. `feature_layer`: models tagged `feature_layer`; when no node carries the tag, the fallback is
   the models under `models/intermediate`, `models/marts/customers` and `models/marts/products`
   that are not training/serving marts;
6. `training_serving`: the training set, the serving table and the other models under
   `models/marts/ml`;
7. `other`: anything else.

A step's `wall_s` is the length of the union of its nodes' [start, end] intervals (time during
which at least one of its nodes ran; nodes run on several threads), `node_s` the sum of the
nodes' own execution times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

FEATURE_LAYER_TAG = "feature_layer"
STEPS = ("staging", "feature_layer", "training_serving", "ml_python", "tests", "seeds", "other")
FEATURE_LAYER_FALLBACK_PATHS = (
    "models/intermediate/",
    "models/marts/customers/",
    "models/marts/products/",
)
TRAINING_SERVING_MODELS = frozenset({"ml_training_set__purchase_30d", "feat_customer_serving"})
TRAINING_SERVING_PATHS = ("models/marts/ml/",)


@dataclass(frozen=True)
class NodeTiming:
    """One executed node: its id, name, step, status and timing."""

    unique_id: str
    name: str
    step: str
    status: str
    execution_s: float
    started: datetime | None
    completed: datetime | None


@dataclass(frozen=True)
class StepTiming:
    """The nodes of one step and how long they took."""

    step: str
    nodes: int
    wall_s: float
    node_s: float
    node_names: list[str] = field(default_factory=list)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _interval(result: Mapping) -> tuple[datetime | None, datetime | None]:
    """Earliest start and latest end over a result's timing entries (compile + execute)."""
    starts = [_parse_time(t.get("started_at")) for t in result.get("timing") or []]
    ends = [_parse_time(t.get("completed_at")) for t in result.get("timing") or []]
    starts = [s for s in starts if s is not None]
    ends = [e for e in ends if e is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def manifest_nodes(manifest: Mapping) -> dict[str, Mapping]:
    """Every node of a manifest that can appear in run_results (nodes and unit tests), by id."""
    return {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}


def uses_feature_layer_tag(nodes: Mapping[str, Mapping]) -> bool:
    """Whether any node of the project carries the `feature_layer` tag."""
    return any(FEATURE_LAYER_TAG in (node.get("tags") or []) for node in nodes.values())


def classify_node(node: Mapping, *, tagged: bool) -> str:
    """The step of a manifest node; `tagged`: whether the project uses the feature_layer tag."""
    resource_type = node.get("resource_type", "")
    path = node.get("original_file_path", "")
    name = node.get("name", "")
    if resource_type in {"test", "unit_test"}:
        return "tests"
    if resource_type == "seed":
        return "seeds"
    if resource_type != "model":
        return "other"
    if node.get("language") == "python":
        return "ml_python"
    if path.startswith("models/staging/"):
        return "staging"
    is_training_serving = name in TRAINING_SERVING_MODELS or path.startswith(
        TRAINING_SERVING_PATHS
    )
    if tagged:
        if FEATURE_LAYER_TAG in (node.get("tags") or []):
            return "feature_layer"
    elif path.startswith(FEATURE_LAYER_FALLBACK_PATHS) and not is_training_serving:
        return "feature_layer"
    if is_training_serving:
        return "training_serving"
    return "other"


def node_timings(results: Iterable[Mapping], nodes: Mapping[str, Mapping]) -> list[NodeTiming]:
    """One NodeTiming per result of run_results.json, classified with the manifest."""
    tagged = uses_feature_layer_tag(nodes)
    timings = []
    for result in results:
        uid = result["unique_id"]
        node = nodes.get(uid, {})
        started, completed = _interval(result)
        timings.append(
            NodeTiming(
                unique_id=uid,
                name=node.get("name", uid.rsplit(".", 1)[-1]),
                step=classify_node(node, tagged=tagged) if node else "other",
                status=str(result.get("status", "")),
                execution_s=float(result.get("execution_time") or 0.0),
                started=started,
                completed=completed,
            )
        )
    return timings


def union_seconds(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    """Total length in seconds of the union of [start, end] intervals."""
    total = 0.0
    current_start: datetime | None = None
    current_end: datetime | None = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_start is not None and current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total


def aggregate_steps(timings: Iterable[NodeTiming]) -> dict[str, StepTiming]:
    """Per step (in `STEPS` order, only steps with nodes): node count, wall and summed time.

    A node without start/end times (e.g. skipped) adds its execution time to `wall_s` as if it
    ran alone.
    """
    by_step: dict[str, list[NodeTiming]] = {}
    for timing in timings:
        by_step.setdefault(timing.step, []).append(timing)
    steps = {}
    for step in STEPS:
        members = by_step.get(step, [])
        if not members:
            continue
        timed = [(t.started, t.completed) for t in members if t.started and t.completed]
        untimed = sum(t.execution_s for t in members if not (t.started and t.completed))
        steps[step] = StepTiming(
            step=step,
            nodes=len(members),
            wall_s=round(union_seconds(timed) + untimed, 3),
            node_s=round(sum(t.execution_s for t in members), 3),
            node_names=sorted(t.name for t in members),
        )
    return steps


def slowest_nodes(timings: Iterable[NodeTiming], n: int = 5) -> list[NodeTiming]:
    """The n nodes with the longest execution time, slowest first (ties by id)."""
    return sorted(timings, key=lambda t: (-t.execution_s, t.unique_id))[:n]


def feature_layer_source(nodes: Mapping[str, Mapping]) -> str:
    """'tag' when the feature layer is the tagged nodes, else 'fallback (paths)'."""
    if uses_feature_layer_tag(nodes):
        return f"tag:{FEATURE_LAYER_TAG}"
    return "fallback: " + " + ".join(p.rstrip("/") for p in FEATURE_LAYER_FALLBACK_PATHS)
