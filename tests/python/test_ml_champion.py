"""Tests for retail_ml.ml.champion (promotion, rollback, the champion that scores)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from retail_ml.ml.champion import CHAMPIONS_SCHEMA, champion_changes, champion_version

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _registry(*versions: tuple[str, str]) -> pd.DataFrame:
    """Registry rows (version, gate_status), trained a day apart in the given order."""
    return pd.DataFrame(
        {
            "model_name": "m",
            "model_version": [version for version, _ in versions],
            "trained_at": [T0 + dt.timedelta(days=i) for i in range(len(versions))],
            "gate_status": [status for _, status in versions],
        }
    )


def _apply(registry: pd.DataFrame, champions: pd.DataFrame | None = None, **kwargs):
    champions = pd.DataFrame(columns=CHAMPIONS_SCHEMA.names) if champions is None else champions
    new = champion_changes(registry, champions, model_name="m", changed_at=T0, **kwargs)
    assert new.schema == CHAMPIONS_SCHEMA
    return pd.concat([champions, new.to_pandas()], ignore_index=True)


def test_the_latest_passed_version_is_promoted_once() -> None:
    history = _apply(_registry(("a", "passed")))
    assert history[["champion_seq", "model_version", "action"]].values.tolist() == [
        [1, "a", "promote"]
    ]
    assert len(_apply(_registry(("a", "passed")), history)) == 1, "nothing new: nothing appended"
    history = _apply(_registry(("a", "passed"), ("b", "passed")), history)
    assert history["model_version"].tolist() == ["a", "b"]
    assert history["previous_model_version"].tolist()[1] == "a"


def test_a_rejected_latest_version_leaves_the_champion() -> None:
    history = _apply(_registry(("a", "passed")))
    after = _apply(_registry(("a", "passed"), ("bad", "rejected")), history)
    assert after["model_version"].tolist() == ["a"]
    assert _apply(_registry(("bad", "rejected"))).empty, "no passed version: no champion"


def test_rollback_appends_a_row_and_sticks() -> None:
    registry = _registry(("a", "passed"), ("b", "passed"))
    history = _apply(registry, _apply(_registry(("a", "passed"))))
    history = _apply(registry, history, rollback_to="a", rollback_reason="incident 42")
    assert history[["model_version", "action", "reason"]].values.tolist()[-1] == [
        "a",
        "rollback",
        "incident 42",
    ]
    assert len(_apply(registry, history, rollback_to="a", rollback_reason="again")) == 3
    assert len(_apply(registry, history)) == 3, "b was champion once: not re-promoted"
    assert champion_version(history, registry, "m")["model_version"] == "a"


def test_rollback_is_refused_to_a_rejected_or_unknown_version_or_without_reason() -> None:
    registry = _registry(("a", "passed"), ("bad", "rejected"))
    with pytest.raises(ValueError, match="gates did not pass"):
        _apply(registry, rollback_to="bad", rollback_reason="x")
    with pytest.raises(ValueError, match="not a registered version"):
        _apply(registry, rollback_to="zzz", rollback_reason="x")
    with pytest.raises(ValueError, match="needs a reason"):
        _apply(registry, rollback_to="a", rollback_reason=" ")


def test_champion_version_refuses_a_rejected_or_missing_champion() -> None:
    registry = _registry(("a", "passed"), ("bad", "rejected"))
    forced = _apply(_registry(("a", "passed"))).assign(model_version="bad")
    with pytest.raises(ValueError, match="gate_status 'rejected'"):
        champion_version(forced, registry, "m")
    with pytest.raises(ValueError, match="has no champion"):
        champion_version(pd.DataFrame(columns=CHAMPIONS_SCHEMA.names), registry, "m")
