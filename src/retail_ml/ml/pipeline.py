"""Construction of the (unfitted) purchase-propensity scikit-learn pipeline.

The pipeline is a single :class:`~sklearn.pipeline.Pipeline` so that it can be
serialised, versioned and re-loaded as one object:

* numeric features: passed through as they are, missing values included: the
  histogram gradient boosting learns which side of every split missing values
  go to, so "never ordered" or "no order in 10 days" (``avg_order_value_10d`` is
  mostly null) stays distinguishable from a typical value, which median
  imputation would hide; no scaling (trees are invariant to monotone rescaling);
* categorical features: constant ``"unknown"`` imputation followed by a dense
  one-hot encoding that ignores categories unseen during fit;
* classifier: :class:`~sklearn.ensemble.HistGradientBoostingClassifier` with
  modest, fixed hyper-parameters and ``early_stopping=False``.

Determinism: with early stopping disabled the booster draws no validation
split, and with a fixed ``random_state`` any internal sub-sampling (e.g. of
rows used to find bin thresholds) is reproducible. The booster's OpenMP
reductions, however, sum floating-point values in an order that depends on
the thread count, so fitted trees differ in their last bits between machines
with different core counts. :func:`fit_deterministically` therefore fits with
a single OpenMP thread: the same data and seed then give identical
predictions and, via :mod:`retail_ml.ml.registry`, identical serialised bytes
anywhere. Prediction is per-row and stays multi-threaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from numpy.typing import ArrayLike
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

from retail_ml.ml._checks import require_unique_names

#: Hyper-parameters of the classifier (``random_state`` is set from ``seed``).
#: Kept small on purpose: a few hundred shallow trees on ~15 features score
#: comfortably faster than 200k rows/s and train in seconds.
DEFAULT_CLASSIFIER_PARAMS: Mapping[str, Any] = MappingProxyType(
    {
        "learning_rate": 0.1,
        "max_iter": 100,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 20,
        "l2_regularization": 1.0,
        "early_stopping": False,
    }
)

#: Value used to fill missing categorical values before one-hot encoding.
UNKNOWN_CATEGORY = "unknown"

#: How the preprocessing treats each role; recorded in the parameters (and so in the
#: model version), since it changes what is trained without changing the classifier.
PREPROCESSING: Mapping[str, str] = MappingProxyType(
    {
        "numeric": "passthrough (missing values reach the trees as NaN)",
        "categorical": f"constant imputation ({UNKNOWN_CATEGORY!r}) + one-hot, unknown ignored",
    }
)

PREPROCESS_STEP = "preprocess"
CLASSIFIER_STEP = "classifier"


def make_pipeline(
    numeric_features: list[str],
    categorical_features: list[str],
    seed: int,
    *,
    classifier_params: Mapping[str, Any] | None = None,
) -> Pipeline:
    """Build the unfitted preprocessing + gradient-boosting pipeline.

    Args:
        numeric_features: Columns passed through unchanged (missing values reach
            the classifier as NaN, which it handles natively).
        categorical_features: Columns imputed with ``"unknown"`` and one-hot
            encoded (unknown categories at predict time encode to all zeros).
        seed: ``random_state`` of the classifier.
        classifier_params: Optional overrides of
            :data:`DEFAULT_CLASSIFIER_PARAMS`. ``random_state`` cannot be
            overridden here; pass ``seed`` instead.

    Returns:
        A :class:`~sklearn.pipeline.Pipeline` with steps ``"preprocess"``
        (a :class:`~sklearn.compose.ColumnTransformer`) and ``"classifier"``.

    Raises:
        ValueError: If no feature is given, a feature is listed twice, a column
            is both numeric and categorical, or ``random_state`` is passed in
            ``classifier_params``.
    """
    numeric = list(numeric_features)
    categorical = list(categorical_features)
    if not numeric and not categorical:
        raise ValueError("make_pipeline needs at least one numeric or categorical feature")
    require_unique_names(numeric + categorical, "numeric_features + categorical_features")

    params = dict(DEFAULT_CLASSIFIER_PARAMS)
    if classifier_params:
        if "random_state" in classifier_params:
            raise ValueError("pass the random state via `seed`, not classifier_params")
        params.update(classifier_params)

    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", "passthrough", numeric))
    if categorical:
        categorical_steps = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy="constant", fill_value=UNKNOWN_CATEGORY),
                ),
                (
                    "one_hot",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
            ]
        )
        transformers.append(("categorical", categorical_steps, categorical))

    preprocess = ColumnTransformer(transformers, remainder="drop")
    classifier = HistGradientBoostingClassifier(random_state=seed, **params)
    return Pipeline([(PREPROCESS_STEP, preprocess), (CLASSIFIER_STEP, classifier)])


def fit_deterministically(pipeline: Pipeline, features: Any, labels: ArrayLike) -> Pipeline:
    """Fit ``pipeline`` with one OpenMP thread so the result is bit-reproducible.

    The limit applies to the calling thread only (OpenMP's thread count is a
    per-thread setting) and is restored afterwards.

    Args:
        pipeline: An unfitted pipeline, e.g. from :func:`make_pipeline`.
        features: Training inputs (a DataFrame with the feature columns).
        labels: Training labels.

    Returns:
        ``pipeline``, fitted in place.
    """
    with threadpool_limits(limits=1, user_api="openmp"):
        return pipeline.fit(features, labels)
