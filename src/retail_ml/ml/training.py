"""Time-split training of the purchase-propensity model.

The training frame has one row per customer per monthly cutoff with the
features known at that cutoff and a binary label ("placed a non-cancelled
order within 30 days after the cutoff"). The caller (the dbt model) must only
pass cutoffs whose 30-day label window is complete.

Split: the rows of the latest cutoff are the validation set, all earlier
cutoffs the training set, which mirrors scoring the future from the past.
The pipeline is fitted on the training rows only and the reported validation
metrics are those of *that* fitted pipeline; it is deliberately not refitted
on all cutoffs afterwards, so the stored model is exactly the one the metrics
describe (at the cost of not learning from the newest cutoff).

Determinism: rows are sorted by (cutoff, customer id, then all other used
columns) before anything else, so input row order and index do not matter;
together with the fixed seed and the single-threaded fit of
:func:`~retail_ml.ml.pipeline.fit_deterministically` this makes the fitted
model (down to its serialised bytes), its metrics and the training
fingerprint reproducible across runs and machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype
from sklearn.pipeline import Pipeline

from retail_ml.ml._checks import require_columns, require_rows, require_unique_names
from retail_ml.ml.evaluation import evaluate_scores
from retail_ml.ml.fingerprint import fingerprint_frame
from retail_ml.ml.pipeline import (
    CLASSIFIER_STEP,
    PREPROCESSING,
    fit_deterministically,
    make_pipeline,
)

__all__ = [
    "FeatureColumn",
    "TrainedModel",
    "TrainingPlan",
    "describe_params",
    "feature_columns_of",
    "fingerprint_columns",
    "fingerprint_frame",
    "fit_plan",
    "plan_training",
    "planned_params",
    "shuffle_train_labels",
    "train_purchase_model",
]

FeatureRole = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class FeatureColumn:
    """One model input column: its name, role and pandas dtype at training time."""

    name: str
    role: FeatureRole
    dtype: str

    def as_dict(self) -> dict[str, str]:
        """Return a JSON-ready ``{"name", "role", "dtype"}`` mapping."""
        return {"name": self.name, "role": self.role, "dtype": self.dtype}


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline together with everything needed to register it.

    Attributes:
        pipeline: The pipeline fitted on the training (earlier) cutoffs.
        feature_columns: Model inputs in the order the pipeline expects them
            (numeric first, then categorical).
        train_cutoffs: ``(min, max)`` cutoff of the training rows.
        validation_cutoff: The latest cutoff, whose rows were held out.
        validation_metrics: :func:`~retail_ml.ml.evaluation.evaluate_scores`
            of the pipeline on the validation rows.
        training_fingerprint: :func:`fingerprint_frame` of the used columns
            (id, cutoff, features, label) of all rows.
        n_train_rows: Number of training rows.
        n_validation_rows: Number of validation rows.
        params: JSON-ready description of the fit: seed, split rule and the
            classifier's hyper-parameters.
    """

    pipeline: Pipeline
    feature_columns: tuple[FeatureColumn, ...]
    train_cutoffs: tuple[Any, Any]
    validation_cutoff: Any
    validation_metrics: dict[str, float] = field(repr=False)
    training_fingerprint: str
    n_train_rows: int
    n_validation_rows: int
    params: dict[str, Any] = field(repr=False)

    @property
    def feature_names(self) -> list[str]:
        """Names of :attr:`feature_columns`, e.g. for scoring."""
        return [column.name for column in self.feature_columns]


def _python_scalar(value: Any) -> Any:
    """Turn numpy scalars into Python scalars; leave other values unchanged."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, pd.Timestamp):
        return item()
    return value


def _json_ready(value: Any) -> Any:
    """Return ``value`` if it is a JSON scalar, else its ``repr``."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return repr(value)


def _validate(
    training: pd.DataFrame,
    numeric_features: list[str],
    categorical_features: list[str],
    label_column: str,
    cutoff_column: str,
    id_column: str,
) -> None:
    """Raise ``ValueError`` if ``training`` cannot be used to train the model."""
    features = numeric_features + categorical_features
    if not features:
        raise ValueError("at least one numeric or categorical feature is required")
    require_unique_names(features, "numeric_features + categorical_features")
    reserved = [c for c in (label_column, cutoff_column, id_column) if c in features]
    if reserved:
        raise ValueError(f"label/cutoff/id columns must not be used as features: {reserved}")
    require_columns(training, [id_column, cutoff_column, label_column, *features], "training")
    require_rows(training, "training")

    non_numeric = [c for c in numeric_features if not is_numeric_dtype(training[c].dtype)]
    if non_numeric:
        raise ValueError(f"numeric features have non-numeric dtypes: {non_numeric}")
    if training[cutoff_column].isna().any():
        raise ValueError(f"cutoff column {cutoff_column!r} has missing values")
    labels = training[label_column]
    if labels.isna().any() or not labels.isin([0, 1]).all():
        raise ValueError(f"label column {label_column!r} must hold only 0/1 (no missing values)")
    if training[cutoff_column].nunique() < 2:
        raise ValueError(
            f"need at least 2 distinct values of {cutoff_column!r} for the time-based "
            f"split (latest cutoff = validation), got {training[cutoff_column].nunique()}"
        )


@dataclass(frozen=True)
class TrainingPlan:
    """Everything decided about a fit before it runs: rows, split, fingerprint, parameters.

    A plan is cheap to build (no fitting), so the model version it implies can be
    computed up front and an already registered version need not be trained again.

    Attributes:
        rows: The used columns (cutoff, id, features, label) of every row, sorted by
            them, with a fresh index.
        is_validation: Boolean mask over ``rows``: ``True`` for the latest cutoff.
        numeric_features: Numeric input columns.
        categorical_features: Categorical input columns.
        feature_columns: Model inputs with role and dtype, numeric first.
        label_column: Binary target column.
        cutoff_column: Cutoff date column.
        id_column: Customer id column.
        training_fingerprint: :func:`fingerprint_frame` of the used columns.
        pipeline: The unfitted pipeline.
        params: JSON-ready description of the fit (see :class:`TrainedModel`).
    """

    rows: pd.DataFrame = field(repr=False)
    is_validation: np.ndarray = field(repr=False)
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    feature_columns: tuple[FeatureColumn, ...]
    label_column: str
    cutoff_column: str
    id_column: str
    training_fingerprint: str
    pipeline: Pipeline = field(repr=False)
    params: dict[str, Any] = field(repr=False)

    @property
    def feature_names(self) -> list[str]:
        """Names of :attr:`feature_columns`, in the order the pipeline expects them."""
        return [column.name for column in self.feature_columns]

    @property
    def train_rows(self) -> pd.DataFrame:
        """Rows of the earlier cutoffs (the training split)."""
        return self.rows.loc[~self.is_validation]

    @property
    def validation_rows(self) -> pd.DataFrame:
        """Rows of the latest cutoff (the validation split)."""
        return self.rows.loc[self.is_validation]

    def labels(self, rows: pd.DataFrame) -> np.ndarray:
        """The 0/1 labels of ``rows`` (a split of :attr:`rows`) as int64."""
        return rows[self.label_column].astype("int64").to_numpy()


def shuffle_train_labels(
    training: pd.DataFrame,
    *,
    label_column: str,
    cutoff_column: str,
    id_column: str = "customer_id",
    seed: int,
) -> pd.DataFrame:
    """Permute the labels of the train split (all but the latest cutoff), for tests only.

    A model fitted on these labels learns nothing, while the validation labels stay
    true, so its gates must reject it: the end-to-end test of the registry's
    lifecycle builds with the dbt var ``ml_shuffle_train_labels_seed`` set. Rows are
    ordered by (cutoff, id) before permuting, so the result does not depend on input
    order.

    Returns:
        A copy of ``training`` with the train split's labels permuted (same index).
    """
    require_columns(training, [label_column, cutoff_column, id_column], "training")
    ordered = training.sort_values([cutoff_column, id_column], kind="mergesort")
    is_train = ordered[cutoff_column] < ordered[cutoff_column].max()
    rng = np.random.default_rng(seed)
    shuffled = training.copy()
    train_index = ordered.index[is_train.to_numpy()]
    shuffled.loc[train_index, label_column] = rng.permutation(
        ordered.loc[train_index, label_column].to_numpy()
    )
    return shuffled


def describe_params(pipeline: Pipeline, seed: int, label_column: str) -> dict[str, Any]:
    """JSON-ready description of a fit: seed, split rule and classifier hyper-parameters.

    Works on the unfitted pipeline (hyper-parameters are constructor arguments), so the
    description, and with it the model version, is known before fitting.
    """
    classifier = pipeline.named_steps[CLASSIFIER_STEP]
    return {
        "seed": seed,
        "split": "validation = latest cutoff; train = all earlier cutoffs",
        "refit_on_all_cutoffs": False,
        "label_column": label_column,
        "preprocessing": dict(PREPROCESSING),
        "classifier": type(classifier).__name__,
        "classifier_params": {
            key: _json_ready(value)
            for key, value in sorted(classifier.get_params(deep=False).items())
        },
    }


def feature_columns_of(
    training: pd.DataFrame, numeric_features: list[str], categorical_features: list[str]
) -> tuple[FeatureColumn, ...]:
    """The model inputs with role and pandas dtype, numeric first (the pipeline's order).

    Only the dtypes of ``training`` are read: a frame with the same columns and dtypes (e.g.
    a few rows of the training table, see :func:`retail_ml.ml.jobs.plan_model_version`)
    gives the same result.
    """
    return tuple(
        FeatureColumn(name, role, str(training[name].dtype))
        for names, role in ((numeric_features, "numeric"), (categorical_features, "categorical"))
        for name in names
    )


def planned_params(
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    seed: int,
    label_column: str,
    classifier_params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """:func:`describe_params` of the pipeline :func:`plan_training` would build (no data)."""
    pipeline = make_pipeline(
        list(numeric_features),
        list(categorical_features),
        seed,
        classifier_params=classifier_params,
    )
    return describe_params(pipeline, seed, label_column)


def fingerprint_columns(
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    label_column: str,
    cutoff_column: str,
    id_column: str,
) -> list[str]:
    """The columns, in order, whose fingerprint is the training fingerprint of a plan."""
    return [id_column, cutoff_column, *numeric_features, *categorical_features, label_column]


def plan_training(
    training: pd.DataFrame,
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    label_column: str = "label",
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
    seed: int = 42,
    classifier_params: dict[str, Any] | None = None,
) -> TrainingPlan:
    """Validate, sort, split and fingerprint the training rows; build the unfitted pipeline.

    Args: as :func:`train_purchase_model`.

    Returns:
        The :class:`TrainingPlan`.

    Raises:
        ValueError: As :func:`train_purchase_model`.
    """
    numeric = list(numeric_features)
    categorical = list(categorical_features)
    _validate(training, numeric, categorical, label_column, cutoff_column, id_column)

    features = numeric + categorical
    used = [cutoff_column, id_column, *features, label_column]
    rows = training.loc[:, used].sort_values(
        by=used, kind="mergesort", na_position="last", ignore_index=True
    )
    fingerprint = fingerprint_frame(
        rows,
        fingerprint_columns(
            numeric,
            categorical,
            label_column=label_column,
            cutoff_column=cutoff_column,
            id_column=id_column,
        ),
    )

    validation_cutoff = rows[cutoff_column].max()
    is_validation = (rows[cutoff_column] == validation_cutoff).to_numpy()
    y_train = rows.loc[~is_validation, label_column].astype("int64")
    y_validation = rows.loc[is_validation, label_column].astype("int64")
    if y_train.nunique() < 2:
        raise ValueError("the training cutoffs (all but the latest) contain a single label class")
    if y_validation.nunique() < 2:
        raise ValueError(
            f"the validation cutoff {validation_cutoff!r} contains a single label class"
        )

    pipeline = make_pipeline(numeric, categorical, seed, classifier_params=classifier_params)
    return TrainingPlan(
        rows=rows,
        is_validation=is_validation,
        numeric_features=tuple(numeric),
        categorical_features=tuple(categorical),
        feature_columns=feature_columns_of(training, numeric, categorical),
        label_column=label_column,
        cutoff_column=cutoff_column,
        id_column=id_column,
        training_fingerprint=fingerprint,
        pipeline=pipeline,
        params=describe_params(pipeline, seed, label_column),
    )


def fit_plan(plan: TrainingPlan) -> TrainedModel:
    """Fit the plan's pipeline on the training split and validate it on the latest cutoff.

    The plan's pipeline object is fitted in place (and returned in the result).

    Args:
        plan: From :func:`plan_training`.

    Returns:
        The :class:`TrainedModel`.
    """
    features = plan.feature_names
    train_rows = plan.train_rows
    validation_rows = plan.validation_rows
    pipeline = fit_deterministically(plan.pipeline, train_rows[features], plan.labels(train_rows))
    positive_index = list(pipeline.classes_).index(1)
    validation_scores = pipeline.predict_proba(validation_rows[features])[:, positive_index]
    metrics = evaluate_scores(plan.labels(validation_rows), validation_scores)
    cutoffs = train_rows[plan.cutoff_column]
    return TrainedModel(
        pipeline=pipeline,
        feature_columns=plan.feature_columns,
        train_cutoffs=(_python_scalar(cutoffs.min()), _python_scalar(cutoffs.max())),
        validation_cutoff=_python_scalar(validation_rows[plan.cutoff_column].iloc[0]),
        validation_metrics=metrics,
        training_fingerprint=plan.training_fingerprint,
        n_train_rows=len(train_rows),
        n_validation_rows=len(validation_rows),
        params=plan.params,
    )


def train_purchase_model(
    training: pd.DataFrame,
    numeric_features: list[str],
    categorical_features: list[str],
    *,
    label_column: str = "label",
    cutoff_column: str = "cutoff_date",
    id_column: str = "customer_id",
    seed: int = 42,
    classifier_params: dict[str, Any] | None = None,
) -> TrainedModel:
    """Fit the purchase model on earlier cutoffs and validate on the latest one.

    Equivalent to ``fit_plan(plan_training(...))``.

    Args:
        training: One row per customer per cutoff with features and label.
        numeric_features: Numeric input columns.
        categorical_features: Categorical input columns.
        label_column: Binary (0/1 or bool) target column.
        cutoff_column: Column holding the cutoff date of each row.
        id_column: Customer id column (used for deterministic ordering).
        seed: Random state of the classifier.
        classifier_params: Optional overrides of the classifier's
            hyper-parameters (see :func:`~retail_ml.ml.pipeline.make_pipeline`).

    Returns:
        The :class:`TrainedModel`.

    Raises:
        ValueError: If the frame is empty, lacks columns (all missing ones are
            named), has fewer than two distinct cutoffs, has non-0/1 labels,
            non-numeric numeric features, or a split with a single class.
    """
    plan = plan_training(
        training,
        numeric_features,
        categorical_features,
        label_column=label_column,
        cutoff_column=cutoff_column,
        id_column=id_column,
        seed=seed,
        classifier_params=classifier_params,
    )
    return fit_plan(plan)
