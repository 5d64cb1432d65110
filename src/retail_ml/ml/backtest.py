"""Rolling-origin backtest of the purchase-propensity model: several cutoffs, with spread.

One validation cutoff says little about how much a metric moves from month to month (the
shop is seasonal). The backtest refits the registered version's recipe (features, parameters,
seed) once per **fold** and evaluates it, next to the recency/frequency baseline calibrated on
the same fold, on a later cutoff:

* the folds are decided in SQL, once (``ml_backtest_folds__purchase_30d``): the latest
  ``purchase_backtest_folds`` training cutoffs are evaluated, each fold trained on the earlier
  cutoffs whose label had landed, late rows included, by the evaluated cutoff (macro
  ``purchase_label_landed``), i.e. only what a model fitted on that day could have known;
* :func:`check_fold_protocol` refuses any fold that breaks that rule (a training cutoff on or
  after the evaluated one, or whose label window plus the lateness margin ends after it), so a
  wrong fold table cannot produce optimistic numbers;
* the baseline of each fold comes from ``ml_baseline_backtest_scores__purchase_30d`` (same
  buckets and calibration rule as the registered baseline, calibrated on the fold's training
  cutoffs) and must hold exactly the evaluated rows, with the same labels.

The result (``ml_model_backtest``) is one record per version x evaluated cutoff x scorer x
metric; :func:`backtest_summary` gives the mean, standard deviation and range over the folds.

The registered version validates on the latest cutoff with **all** earlier cutoffs; the
backtest's fold on that cutoff drops the cutoffs whose label had not landed by it, so its
numbers are the stricter (and slightly lower) ones. Cost: one fit per fold, computed once per
version (the dbt model is incremental).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from threadpoolctl import threadpool_limits

from retail_ml.ml._checks import require_columns, require_rows
from retail_ml.ml.assessment import REPORTED_METRICS
from retail_ml.ml.evaluation import evaluate_scores
from retail_ml.ml.fingerprint import fingerprint_relation
from retail_ml.ml.frames import arrow_to_model_frame
from retail_ml.ml.pipeline import fit_deterministically
from retail_ml.ml.scoring import predict_positive_proba
from retail_ml.ml.training import TrainingPlan, fingerprint_columns, plan_training

__all__ = [
    "BACKTEST_METRICS",
    "BACKTEST_SCHEMA",
    "Fold",
    "FoldProtocolError",
    "backtest_model_version",
    "backtest_summary",
    "check_fold_protocol",
    "folds_from_table",
    "run_backtest",
]

#: Metrics per fold and scorer: the registry's, plus the calibration gap (mean probability -
#: observed rate; negative = under-predicts), which shows seasonal miscalibration.
BACKTEST_METRICS: tuple[str, ...] = (*REPORTED_METRICS, "calibration_gap")

#: Roles of a cutoff in ``ml_backtest_folds__purchase_30d``.
TRAIN = "train"
EVALUATION = "evaluation"

#: Columns and Arrow types of ``ml_model_backtest``, in table order.
BACKTEST_SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("scorer", pa.string()),
        ("metric", pa.string()),
        ("metric_value", pa.float64()),
        ("n_train_cutoffs", pa.int64()),
        ("n_train_rows", pa.int64()),
        ("n_evaluation_rows", pa.int64()),
        ("positive_rate", pa.float64()),
        ("train_cutoff_min", pa.date32()),
        ("train_cutoff_max", pa.date32()),
        ("evaluated_cutoff", pa.date32()),
    ]
)


class FoldProtocolError(ValueError):
    """A fold would let the model learn from what was not known on its evaluated cutoff."""


@dataclass(frozen=True)
class Fold:
    """One backtest fold: the cutoff evaluated and the cutoffs trained on."""

    evaluated_cutoff: date
    train_cutoffs: tuple[date, ...]


def _as_date(value: Any) -> date:
    """A cutoff as a :class:`datetime.date` (from a date, a datetime or a pandas Timestamp)."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "date") and callable(value.date):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def folds_from_table(folds: pd.DataFrame) -> list[Fold]:
    """The folds of ``ml_backtest_folds__purchase_30d`` (``fold_role``, ``evaluated_cutoff``,
    ``cutoff_date``), ordered by evaluated cutoff.

    Raises:
        ValueError: On missing columns, an unknown role, or a fold without its evaluation row
            or without training cutoffs.
    """
    require_columns(folds, ["fold_role", "evaluated_cutoff", "cutoff_date"], "folds")
    unknown = sorted(set(folds["fold_role"]) - {TRAIN, EVALUATION})
    if unknown:
        raise ValueError(f"unknown fold_role values: {unknown}")
    result = []
    for evaluated, rows in folds.groupby(folds["evaluated_cutoff"].map(_as_date), sort=True):
        evaluation = [_as_date(c) for c in rows.loc[rows["fold_role"] == EVALUATION, "cutoff_date"]]
        if evaluation != [evaluated]:
            raise ValueError(f"fold {evaluated} must have exactly one evaluation row, itself")
        train = sorted(_as_date(c) for c in rows.loc[rows["fold_role"] == TRAIN, "cutoff_date"])
        if not train:
            raise ValueError(f"fold {evaluated} has no training cutoffs")
        result.append(Fold(evaluated_cutoff=evaluated, train_cutoffs=tuple(train)))
    return result


def check_fold_protocol(folds: Iterable[Fold], *, label_days: int, lateness_days: int) -> None:
    """Refuse a fold that trains on anything not known on its evaluated cutoff.

    A training cutoff ``c`` of a fold evaluated on ``e`` must be before ``e`` and its label
    window (``c+1 .. c+label_days``) must have ended ``lateness_days`` before ``e``:
    ``c + label_days + lateness_days <= e``. This is the rule of the SQL macro
    ``purchase_label_landed``, restated here so that Python trusts no fold table blindly.

    Raises:
        FoldProtocolError: Naming the first offending fold and cutoff.
    """
    if label_days < 1 or lateness_days < 0:
        raise ValueError("label_days must be >= 1 and lateness_days >= 0")
    margin = timedelta(days=label_days + lateness_days)
    for fold in folds:
        for cutoff in fold.train_cutoffs:
            if cutoff >= fold.evaluated_cutoff:
                raise FoldProtocolError(
                    f"fold {fold.evaluated_cutoff}: training cutoff {cutoff} is not before it"
                )
            if cutoff + margin > fold.evaluated_cutoff:
                raise FoldProtocolError(
                    f"fold {fold.evaluated_cutoff}: the label of training cutoff {cutoff} "
                    f"({label_days} days + {lateness_days} days lateness) ends "
                    f"{cutoff + margin}, after the evaluated cutoff"
                )


def _baseline_of_fold(
    baseline: pd.DataFrame,
    fold: Fold,
    customer_ids: np.ndarray,
    labels: np.ndarray,
    id_column: str,
    label_column: str,
) -> np.ndarray:
    rows = baseline.loc[baseline["evaluated_cutoff"].map(_as_date) == fold.evaluated_cutoff]
    rows = rows.sort_values(id_column, kind="mergesort")
    if not np.array_equal(rows[id_column].to_numpy(), customer_ids):
        raise ValueError(
            f"fold {fold.evaluated_cutoff}: the baseline's rows ({len(rows)}) are not the "
            f"evaluated rows ({len(customer_ids)})"
        )
    if not np.array_equal(rows[label_column].to_numpy(dtype=np.int64), labels):
        raise ValueError(f"fold {fold.evaluated_cutoff}: the baseline's labels differ")
    return rows["probability"].to_numpy(dtype=np.float64)


def _records(
    scorer: str, labels: np.ndarray, probability: np.ndarray, common: Mapping[str, Any]
) -> list[dict[str, Any]]:
    metrics = evaluate_scores(labels, probability)
    metrics["calibration_gap"] = float(probability.mean() - labels.mean())
    return [
        {**common, "scorer": scorer, "metric": metric, "metric_value": metrics[metric]}
        for metric in BACKTEST_METRICS
    ]


def run_backtest(
    plan: TrainingPlan,
    folds: Sequence[Fold],
    baseline: pd.DataFrame,
    *,
    label_days: int,
    lateness_days: int,
    baseline_label_column: str = "has_purchase_next_30d",
) -> list[dict[str, Any]]:
    """Fit the plan's recipe once per fold and evaluate model and baseline on its cutoff.

    Args:
        plan: The registered version's plan (:func:`~retail_ml.ml.training.plan_training`):
            its rows, features and unfitted pipeline (cloned per fold, never fitted itself).
        folds: From :func:`folds_from_table`; checked by :func:`check_fold_protocol`.
        baseline: ``ml_baseline_backtest_scores__purchase_30d``: ``evaluated_cutoff``, the id,
            ``probability`` and the label, exactly the evaluated rows of every fold.
        label_days: Label window (days), for the protocol check.
        lateness_days: Lateness margin (days), for the protocol check.
        baseline_label_column: The baseline's label column.

    Returns:
        Records of :data:`BACKTEST_SCHEMA` without the model name and version.
    """
    from sklearn.base import clone

    folds = list(folds)
    if not folds:
        raise ValueError("the backtest needs at least one fold")
    check_fold_protocol(folds, label_days=label_days, lateness_days=lateness_days)
    require_columns(
        baseline,
        ["evaluated_cutoff", plan.id_column, "probability", baseline_label_column],
        "baseline",
    )
    rows = plan.rows
    row_cutoffs = rows[plan.cutoff_column].map(_as_date).to_numpy()
    features = plan.feature_names
    records = []
    for fold in folds:
        is_train = np.isin(row_cutoffs, np.array(fold.train_cutoffs, dtype=object))
        is_evaluated = row_cutoffs == fold.evaluated_cutoff
        missing = sorted(set(fold.train_cutoffs) - set(row_cutoffs[is_train]))
        if missing or not is_evaluated.any():
            raise ValueError(
                f"fold {fold.evaluated_cutoff}: cutoffs without training rows: "
                f"{missing or [fold.evaluated_cutoff]}"
            )
        train_rows, evaluated_rows = rows.loc[is_train], rows.loc[is_evaluated]
        pipeline = fit_deterministically(
            clone(plan.pipeline), train_rows[features], plan.labels(train_rows)
        )
        labels = plan.labels(evaluated_rows)
        with threadpool_limits(limits=1, user_api="openmp"):
            model = predict_positive_proba(pipeline, evaluated_rows[features])
        base = _baseline_of_fold(
            baseline,
            fold,
            evaluated_rows[plan.id_column].to_numpy(),
            labels,
            plan.id_column,
            baseline_label_column,
        )
        common = {
            "n_train_cutoffs": len(fold.train_cutoffs),
            "n_train_rows": int(is_train.sum()),
            "n_evaluation_rows": int(is_evaluated.sum()),
            "positive_rate": float(labels.mean()),
            "train_cutoff_min": min(fold.train_cutoffs),
            "train_cutoff_max": max(fold.train_cutoffs),
            "evaluated_cutoff": fold.evaluated_cutoff,
        }
        records += _records("model", labels, model, common)
        records += _records("baseline", labels, base, common)
    return records


def _latest_version(registry: pd.DataFrame, model_name: str) -> pd.Series | None:
    rows = registry[registry["model_name"] == model_name]
    if rows.empty:
        return None
    return rows.sort_values(["trained_at", "model_version"], kind="mergesort").iloc[-1]


def backtest_model_version(
    registry: pd.DataFrame,
    training: pd.DataFrame,
    folds: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    model_name: str,
    backtested_versions: Iterable[str] = (),
    label_days: int,
    lateness_days: int,
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
) -> pa.Table:
    """Backtest the latest registered version of ``model_name`` unless it has been already.

    The version's recipe is read from its registry row (features, label, seed, parameters)
    and re-planned on ``training``; the backtest runs only when that plan is the registered
    one (same training fingerprint and parameters), so its rows always describe the version
    they name. A version trained on other data (e.g. the tests' shuffled labels) gets none.

    Returns:
        An Arrow table of :data:`BACKTEST_SCHEMA` (no rows when there is nothing to do).
    """
    require_columns(
        registry,
        [
            "model_name",
            "model_version",
            "trained_at",
            "feature_columns_json",
            "params_json",
            "training_fingerprint",
        ],
        "registry",
    )
    latest = _latest_version(registry, model_name)
    if latest is None or latest["model_version"] in set(backtested_versions):
        return BACKTEST_SCHEMA.empty_table()
    require_rows(training, "training")
    params = json.loads(latest["params_json"])
    columns = json.loads(latest["feature_columns_json"])
    plan = plan_training(
        training,
        [c["name"] for c in columns if c["role"] == "numeric"],
        [c["name"] for c in columns if c["role"] == "categorical"],
        label_column=params["label_column"],
        cutoff_column=cutoff_column,
        id_column=id_column,
        seed=int(params["seed"]),
    )
    same_params = json.loads(json.dumps(plan.params, sort_keys=True, default=str)) == params
    if plan.training_fingerprint != latest["training_fingerprint"] or not same_params:
        return BACKTEST_SCHEMA.empty_table()
    records = run_backtest(
        plan,
        folds_from_table(folds),
        baseline,
        label_days=label_days,
        lateness_days=lateness_days,
    )
    rows = [
        {**record, "model_name": model_name, "model_version": str(latest["model_version"])}
        for record in records
    ]
    return pa.Table.from_pylist(rows, schema=BACKTEST_SCHEMA)


def backtest_model_version_from_relations(
    registry: pd.DataFrame,
    training: duckdb.DuckDBPyRelation,
    folds: duckdb.DuckDBPyRelation,
    baseline: duckdb.DuckDBPyRelation,
    *,
    model_name: str,
    backtested_versions: Iterable[str] = (),
    label_days: int,
    lateness_days: int,
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
) -> pa.Table:
    """:func:`backtest_model_version` on warehouse relations, reading them only to backtest.

    Whether there is anything to do is decided before a row is read: nothing when the latest
    version is backtested already (a daily run without a new version), or when the training
    table is not the one it was trained on (its fingerprint, computed in DuckDB by
    :func:`~retail_ml.ml.fingerprint.fingerprint_relation`, differs from the registered
    one; e.g. the tests' shuffled labels). Otherwise the tables are read
    (:func:`~retail_ml.ml.frames.arrow_to_model_frame`) and backtested.

    Args:
        registry: The registry's rows (``model_bytes`` not needed).
        training, folds, baseline: ``ml_training_set__purchase_30d``,
            ``ml_backtest_folds__purchase_30d`` and ``ml_baseline_backtest_scores__purchase_30d``
            as DuckDB relations.
        model_name, backtested_versions, label_days, lateness_days, cutoff_column, id_column:
            As :func:`backtest_model_version`.

    Returns:
        As :func:`backtest_model_version`.
    """
    require_columns(
        registry,
        ["model_name", "model_version", "trained_at", "feature_columns_json", "params_json"],
        "registry",
    )
    backtested = list(backtested_versions)
    latest = _latest_version(registry, model_name)
    if latest is None or latest["model_version"] in set(backtested):
        return BACKTEST_SCHEMA.empty_table()
    features = json.loads(latest["feature_columns_json"])
    used = fingerprint_columns(
        [c["name"] for c in features if c["role"] == "numeric"],
        [c["name"] for c in features if c["role"] == "categorical"],
        label_column=json.loads(latest["params_json"])["label_column"],
        cutoff_column=cutoff_column,
        id_column=id_column,
    )
    if fingerprint_relation(training, used) != latest["training_fingerprint"]:
        return BACKTEST_SCHEMA.empty_table()
    return backtest_model_version(
        registry,
        arrow_to_model_frame(training.to_arrow_table()),
        folds.to_arrow_table().to_pandas(),
        arrow_to_model_frame(baseline.to_arrow_table()),
        model_name=model_name,
        backtested_versions=backtested,
        label_days=label_days,
        lateness_days=lateness_days,
        cutoff_column=cutoff_column,
        id_column=id_column,
    )


def backtest_summary(backtest: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation, min and max of every metric over the folds.

    Args:
        backtest: Rows of ``ml_model_backtest`` of one version.

    Returns:
        One row per scorer x metric, plus scorer ``model - baseline`` (the per-fold
        difference), with ``n_folds``, ``mean``, ``std`` (0 for one fold), ``min``, ``max``;
        ordered by :data:`BACKTEST_METRICS` and scorer.
    """
    require_columns(backtest, ["scorer", "metric", "metric_value", "evaluated_cutoff"], "backtest")
    wide = backtest.pivot_table(
        index=["metric", "evaluated_cutoff"],
        columns="scorer",
        values="metric_value",
        aggfunc="first",
    )
    if {"model", "baseline"} <= set(wide.columns):
        wide["model - baseline"] = wide["model"] - wide["baseline"]
    long = (
        wide.reset_index()
        .melt(id_vars=["metric", "evaluated_cutoff"], var_name="scorer", value_name="value")
        .dropna(subset=["value"])
    )
    summary = (
        long.groupby(["scorer", "metric"])["value"]
        .agg(
            n_folds="size",
            mean="mean",
            std=lambda v: float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            min="min",
            max="max",
        )
        .reset_index()
    )
    order = {metric: position for position, metric in enumerate(BACKTEST_METRICS)}
    scorers = {"model": 0, "baseline": 1, "model - baseline": 2}
    return summary.sort_values(
        ["metric", "scorer"],
        key=lambda column: column.map(order if column.name == "metric" else scorers),
        ignore_index=True,
    )
