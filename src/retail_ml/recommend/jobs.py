"""One-call entry points for the thin dbt Python models of the recommendations.

* :func:`recommend_for_serving` - the top-k products of every served customer as of the latest
  complete day (``ml_product_recommendations``);
* :func:`recommendation_metrics` - the offline evaluation of the recommender against popularity
  baselines (``ml_recommendation_metrics``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from retail_ml.recommend._checks import require_columns, require_rows
from retail_ml.recommend.evaluation import evaluate_recommenders
from retail_ml.recommend.inputs import as_day
from retail_ml.recommend.recommender import RecommenderConfig, recommend


def _single_day(frame: pd.DataFrame, column: str, what: str):
    values = pd.to_datetime(frame[column]).dropna().unique()
    if len(values) != 1:
        raise ValueError(f"{what} must hold exactly one {column}, found {len(values)}")
    return as_day(values[0])


def recommend_for_serving(
    serving: pd.DataFrame,
    lines: pd.DataFrame,
    products: pd.DataFrame,
    categories: pd.DataFrame,
    *,
    parameters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Recommendations for every customer of ``serving``, as of its (single) ``as_of_date``.

    Args:
        serving: feat_customer_serving (``customer_id``, ``country_code``, ``signup_channel``,
            ``as_of_date``).
        lines: int_order_lines_netted.
        products: stg_shop__products.
        categories: The seed product_categories.
        parameters: :class:`RecommenderConfig` fields (e.g. the model's dbt config).

    Returns:
        See :func:`~retail_ml.recommend.recommender.recommend`.
    """
    require_columns(serving, ["as_of_date"], "serving")
    require_rows(serving, "serving")
    as_of = _single_day(serving, "as_of_date", "serving")
    config = RecommenderConfig.from_mapping(parameters)
    return recommend(serving, lines, products, categories, as_of=as_of, config=config)


def recommendation_metrics(
    feature_dates: pd.DataFrame,
    customer_versions: pd.DataFrame,
    lines: pd.DataFrame,
    products: pd.DataFrame,
    categories: pd.DataFrame,
    *,
    parameters: Mapping[str, Any] | None = None,
    evaluation_days: int = 30,
) -> pd.DataFrame:
    """Offline metrics of the recommender and its baselines, evaluated on the last
    ``evaluation_days`` days before the latest complete day.

    Args:
        feature_dates: int_feature_dates_spined (``as_of_date``, ``is_latest``).
        customer_versions: int_customer_versions_dated.
        lines: int_order_lines_netted.
        products: stg_shop__products.
        categories: The seed product_categories.
        parameters: :class:`RecommenderConfig` fields, the same as the serving model's.
        evaluation_days: Length of the evaluation window.

    Returns:
        See :func:`~retail_ml.recommend.evaluation.evaluate_recommenders`.
    """
    require_columns(feature_dates, ["as_of_date", "is_latest"], "feature dates")
    latest = feature_dates[feature_dates["is_latest"].astype(bool)]
    latest_date = _single_day(latest, "as_of_date", "the latest feature date")
    return evaluate_recommenders(
        customer_versions,
        lines,
        products,
        categories,
        latest_date=latest_date,
        evaluation_days=evaluation_days,
        config=RecommenderConfig.from_mapping(parameters),
    )
