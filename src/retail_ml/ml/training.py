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

import pandas as pd
from pandas.api.types import is_numeric_dtype
from sklearn.pipeline import Pipeline

from retail_ml.ml._checks import require_columns, require_rows, require_unique_names
from retail_ml.ml.evaluation import evaluate_scores
from retail_ml.ml.fingerprint import fingerprint_frame
from retail_ml.ml.pipeline import CLASSIFIER_STEP, fit_deterministically, make_pipeline

__all__ = ["FeatureColumn", "TrainedModel", "fingerprint_frame", "train_purchase_model"]

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
    numeric = list(numeric_features)
    categorical = list(categorical_features)
    _validate(training, numeric, categorical, label_column, cutoff_column, id_column)

    features = numeric + categorical
    used = [cutoff_column, id_column, *features, label_column]
    rows = training.loc[:, used].sort_values(
        by=used, kind="mergesort", na_position="last", ignore_index=True
    )
    fingerprint = fingerprint_frame(rows, [id_column, cutoff_column, *features, label_column])

    validation_cutoff = rows[cutoff_column].max()
    is_validation = (rows[cutoff_column] == validation_cutoff).to_numpy()
    train_rows = rows.loc[~is_validation]
    validation_rows = rows.loc[is_validation]
    y_train = train_rows[label_column].astype("int64").to_numpy()
    y_validation = validation_rows[label_column].astype("int64").to_numpy()
    if len(set(y_train.tolist())) < 2:
        raise ValueError("the training cutoffs (all but the latest) contain a single label class")
    if len(set(y_validation.tolist())) < 2:
        raise ValueError(
            f"the validation cutoff {validation_cutoff!r} contains a single label class"
        )

    pipeline = make_pipeline(numeric, categorical, seed, classifier_params=classifier_params)
    fit_deterministically(pipeline, train_rows[features], y_train)
    positive_index = list(pipeline.classes_).index(1)
    validation_scores = pipeline.predict_proba(validation_rows[features])[:, positive_index]
    metrics = evaluate_scores(y_validation, validation_scores)

    classifier_params_used = pipeline.named_steps[CLASSIFIER_STEP].get_params(deep=False)
    params: dict[str, Any] = {
        "seed": seed,
        "split": "validation = latest cutoff; train = all earlier cutoffs",
        "refit_on_all_cutoffs": False,
        "label_column": label_column,
        "classifier": type(pipeline.named_steps[CLASSIFIER_STEP]).__name__,
        "classifier_params": {
            key: _json_ready(value) for key, value in sorted(classifier_params_used.items())
        },
    }
    feature_columns = tuple(
        FeatureColumn(name, role, str(training[name].dtype))
        for names, role in ((numeric, "numeric"), (categorical, "categorical"))
        for name in names
    )
    return TrainedModel(
        pipeline=pipeline,
        feature_columns=feature_columns,
        train_cutoffs=(
            _python_scalar(train_rows[cutoff_column].min()),
            _python_scalar(train_rows[cutoff_column].max()),
        ),
        validation_cutoff=_python_scalar(validation_cutoff),
        validation_metrics=metrics,
        training_fingerprint=fingerprint,
        n_train_rows=len(train_rows),
        n_validation_rows=len(validation_rows),
        params=params,
    )
