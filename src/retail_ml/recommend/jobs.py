"""One-call entry points for the thin dbt Python models of the recommendations.

* :func:`recommend_for_serving` - the top-k products of every served customer as of the latest
  complete day (``ml_product_recommendations``);
* :func:`recommendation_metrics` - the offline evaluation of the recommender against popularity
  baselines (``ml_recommendation_metrics``).

Both read SQL models that already hold the rows of the dates they need; they pick the rows of
their date, never re-derive what was known when.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from retail_ml.recommend._checks import require_rows
from retail_ml.recommend.evaluation import evaluate_recommenders
from retail_ml.recommend.inputs import rows_as_of, single_day
from retail_ml.recommend.recommender import RecommenderConfig, recommend


def recommend_for_serving(
    serving: pd.DataFrame,
    purchases: pd.DataFrame,
    catalogue: pd.DataFrame,
    *,
    parameters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Recommendations for every customer of ``serving``, as of its (single) ``as_of_date``.

    Args:
        serving: feat_customer_serving (``customer_id``, ``country_code``, ``signup_channel``,
            ``as_of_date``).
        purchases: int_customer_products_purchased (rows of the serving date are used).
        catalogue: int_product_catalogue_requested (rows of the serving date are used).
        parameters: :class:`RecommenderConfig` fields (e.g. the model's dbt config).

    Returns:
        See :func:`~retail_ml.recommend.recommender.recommend`.
    """
    require_rows(serving, "serving")
    as_of = single_day(serving, "as_of_date", "serving")
    return recommend(
        serving,
        rows_as_of(purchases, as_of, "purchases"),
        rows_as_of(catalogue, as_of, "catalogue"),
        as_of=as_of,
        config=RecommenderConfig.from_mapping(parameters),
    )


def recommendation_metrics(
    customers: pd.DataFrame,
    purchases: pd.DataFrame,
    catalogue: pd.DataFrame,
    actual: pd.DataFrame,
    *,
    parameters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Offline metrics of the recommender and its baselines at the evaluation cutoff.

    Args:
        customers: int_recommender_evaluation_customers.
        purchases: int_customer_products_purchased.
        catalogue: int_product_catalogue_requested.
        actual: int_recommender_evaluation_purchases.
        parameters: :class:`RecommenderConfig` fields, the same as the serving model's.

    Returns:
        See :func:`~retail_ml.recommend.evaluation.evaluate_recommenders`.
    """
    return evaluate_recommenders(
        customers,
        purchases,
        catalogue,
        actual,
        config=RecommenderConfig.from_mapping(parameters),
    )
