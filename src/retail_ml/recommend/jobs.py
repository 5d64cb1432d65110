"""One-call entry points for the thin dbt Python models of the recommendations.

* :func:`recommendation_metrics` - the rolling-origin backtest of the recommender against its
  baselines (``ml_recommendation_metrics``), which also tunes the blend's weights;
* :func:`recommend_for_serving` - the top-k products of every served customer as of the latest
  complete day with those tuned weights (``ml_product_recommendations``), so that what is
  served is exactly what was evaluated.

Both read SQL models that already hold the rows of the dates they need; they pick the rows of
their date, never re-derive what was known when.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from retail_ml.recommend._checks import require_rows
from retail_ml.recommend.evaluation import evaluate_backtest, served_parameters
from retail_ml.recommend.inputs import rows_as_of, single_day
from retail_ml.recommend.recommender import RecommenderConfig, recommend


def recommend_for_serving(
    serving: pd.DataFrame,
    lines: pd.DataFrame,
    catalogue: pd.DataFrame,
    metrics: pd.DataFrame,
) -> pd.DataFrame:
    """Recommendations for every customer of ``serving``, as of its (single) ``as_of_date``.

    Args:
        serving: feat_customer_serving (``customer_id``, ``country_code``, ``signup_channel``,
            ``as_of_date``).
        lines: int_recommender_order_lines (lines known by the serving date are used).
        catalogue: int_product_catalogue_requested (rows of the serving date are used).
        metrics: ml_recommendation_metrics: the served method's tuned parameters.

    Returns:
        See :func:`~retail_ml.recommend.recommender.recommend`.
    """
    require_rows(serving, "serving")
    as_of = single_day(serving, "as_of_date", "serving")
    return recommend(
        serving,
        lines,
        rows_as_of(catalogue, as_of, "catalogue"),
        as_of=as_of,
        config=RecommenderConfig.from_mapping(served_parameters(metrics)),
    )


def recommendation_metrics(
    windows: pd.DataFrame,
    customers: pd.DataFrame,
    lines: pd.DataFrame,
    catalogue: pd.DataFrame,
    actual: pd.DataFrame,
    *,
    parameters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The backtest of the recommender and its baselines.

    Args:
        windows: int_recommender_backtest_windows.
        customers: int_recommender_evaluation_customers.
        lines: int_recommender_order_lines.
        catalogue: int_product_catalogue_requested.
        actual: int_recommender_evaluation_purchases.
        parameters: :class:`RecommenderConfig` fields (the model's dbt config); the blend's
            weights among them are re-chosen on the tuning window.

    Returns:
        See :func:`~retail_ml.recommend.evaluation.evaluate_backtest`.
    """
    return evaluate_backtest(
        windows,
        customers,
        lines,
        catalogue,
        actual,
        config=RecommenderConfig.from_mapping(parameters),
    )
