"""Ratios between the measured steps and the issue's targets (they apply at `large`, 2 cores).

Nothing here times anything: the functions take measured numbers and compare them, so the
targets are reported (met / not met), never asserted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SPEEDUP_VS_PANDAS = 2.0  # raw -> training set + serving at least 2x faster than pandas
FEATURE_LAYER_MAX_S = 60.0
BUILD_MAX_S = 240.0
TARGET_SCALE = "large"


@dataclass(frozen=True)
class Measures:
    """The numbers the targets need (seconds, bytes); None when a step did not run."""

    pandas_wall_s: float | None
    pandas_peak_rss_bytes: int | None
    raw_to_training_serving_wall_s: float | None
    feature_layer_wall_s: float | None
    build_wall_s: float | None
    build_peak_rss_bytes: int | None
    raw_load_wall_s: float | None = None


@dataclass(frozen=True)
class Target:
    """One target: the measured value, how it must compare with the threshold, and the verdict."""

    name: str
    description: str
    value: float | None
    threshold: float
    comparison: Literal[">=", "<="]
    unit: str
    met: bool | None  # None: not measured


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def _verdict(value: float | None, comparison: str, threshold: float) -> bool | None:
    if value is None:
        return None
    return value >= threshold if comparison == ">=" else value <= threshold


def ratios(measures: Measures) -> dict[str, float | None]:
    """Named ratios of one run: how many times faster/slower one step is than another."""
    return {
        "pandas_over_raw_to_training_serving": _ratio(
            measures.pandas_wall_s, measures.raw_to_training_serving_wall_s
        ),
        "raw_to_training_serving_over_raw_load": _ratio(
            measures.raw_to_training_serving_wall_s, measures.raw_load_wall_s
        ),
        "pandas_over_raw_load": _ratio(measures.pandas_wall_s, measures.raw_load_wall_s),
        "build_peak_rss_over_pandas_peak_rss": _ratio(
            measures.build_peak_rss_bytes, measures.pandas_peak_rss_bytes
        ),
    }


def evaluate_targets(measures: Measures) -> list[Target]:
    """The four targets of issue 7 with their verdicts."""
    speedup = _ratio(measures.pandas_wall_s, measures.raw_to_training_serving_wall_s)
    rss_ratio = _ratio(measures.build_peak_rss_bytes, measures.pandas_peak_rss_bytes)
    specs = [
        ("speedup_vs_pandas",
         "raw -> training set + serving vs pandas reference (13 dates): times faster",
         speedup, SPEEDUP_VS_PANDAS, ">=", "x"),
        ("feature_layer_wall",
         "feature layer wall time in `dbt build`",
         measures.feature_layer_wall_s, FEATURE_LAYER_MAX_S, "<=", "s"),
        ("build_peak_rss_vs_pandas",
         "peak RSS of the whole `dbt build` / peak RSS of the pandas reference",
         rss_ratio, 1.0, "<=", "x"),
        ("build_wall",
         "whole `dbt build` wall time",
         measures.build_wall_s, BUILD_MAX_S, "<=", "s"),
    ]
    return [
        Target(name=name, description=description, value=value, threshold=threshold,
               comparison=comparison, unit=unit, met=_verdict(value, comparison, threshold))
        for name, description, value, threshold, comparison, unit in specs
    ]
