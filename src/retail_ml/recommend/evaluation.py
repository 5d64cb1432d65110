"""Offline evaluation: recommend as of a past cutoff, score against what was bought next."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from retail_ml.recommend._checks import require_columns, require_rows
from retail_ml.recommend.inputs import (
    as_day,
    build_catalog,
    customers_as_of,
    purchases_as_of,
    purchases_between,
)
from retail_ml.recommend.recommender import RecommenderConfig, recommend_from_history

#: Columns of the metrics frame, in order.
METRIC_COLUMNS: tuple[str, ...] = (
    "method",
    "metric",
    "value",
    "k",
    "customers_evaluated",
    "is_served_method",
    "cutoff_date",
    "evaluation_end_date",
)


def ranking_metrics(
    recommendations: pd.DataFrame, actual: pd.DataFrame, k: int
) -> dict[str, float]:
    """Hit rate@k and recall@k over the customers who bought something in ``actual``.

    ``hit_rate_at_k``: share of those customers with at least one of their top-k products
    among what they bought. ``recall_at_k``: mean over those customers of
    (bought products in the top k) / (distinct products bought). A customer without
    recommendations counts as a miss.

    Args:
        recommendations: ``customer_id``, ``product_id``, ``rank``.
        actual: ``customer_id``, ``product_id`` bought in the evaluation window (duplicates ok).
        k: Cut-off; recommendations with ``rank > k`` are ignored.

    Returns:
        ``{"hit_rate_at_k": ..., "recall_at_k": ..., "customers": n}``.

    Raises:
        ValueError: If ``actual`` is empty (nothing to evaluate against) or lacks columns.
    """
    require_columns(recommendations, ["customer_id", "product_id", "rank"], "recommendations")
    require_columns(actual, ["customer_id", "product_id"], "actual purchases")
    require_rows(actual, "actual purchases")
    bought = actual[["customer_id", "product_id"]].drop_duplicates()
    top = recommendations.loc[
        recommendations["rank"] <= k, ["customer_id", "product_id"]
    ].drop_duplicates()
    hits = bought.merge(top, on=["customer_id", "product_id"], how="inner")
    per_customer = pd.DataFrame(
        {
            "bought": bought.groupby("customer_id").size(),
            "hits": hits.groupby("customer_id").size(),
        }
    ).fillna({"hits": 0})
    return {
        "hit_rate_at_k": float((per_customer["hits"] > 0).mean()),
        "recall_at_k": float((per_customer["hits"] / per_customer["bought"]).mean()),
        "customers": int(len(per_customer)),
    }


def evaluation_methods(config: RecommenderConfig) -> dict[str, RecommenderConfig]:
    """The recommender as configured, its raw co-occurrence variant and popularity baselines.

    Every method applies the same eligibility rules (launched, not bought unless
    repurchase-typical), so only the scoring differs.
    """
    popularity_only = replace(config, similarity=None)
    return {
        "copurchase_cosine": replace(config, similarity="cosine"),
        "copurchase_counts": replace(config, similarity="counts"),
        "popularity_segment": replace(popularity_only, popularity_level="segment"),
        "popularity_country": replace(popularity_only, popularity_level="country"),
        "popularity_global": replace(popularity_only, popularity_level="global"),
    }


def evaluate_recommenders(
    customer_versions: pd.DataFrame,
    lines: pd.DataFrame,
    products: pd.DataFrame,
    categories: pd.DataFrame,
    *,
    latest_date: date,
    evaluation_days: int = 30,
    config: RecommenderConfig | None = None,
) -> pd.DataFrame:
    """Train as of ``latest_date - evaluation_days``, evaluate on the days after it.

    Every method recommends, as of the cutoff and seeing only what was known by then, for the
    customers who existed at the cutoff (attributes as of the cutoff) and bought something in
    the ``evaluation_days`` days after it (cutoff+1 .. latest_date, judged on all data now
    known). Customers without purchases before the cutoff are evaluated too (cold start).

    Args:
        customer_versions: int_customer_versions_dated.
        lines: Order lines (see :func:`~retail_ml.recommend.recommender.recommend`).
        products: stg_shop__products.
        categories: The seed product_categories.
        latest_date: The latest complete day.
        evaluation_days: Length of the evaluation window (>= 1).
        config: The production recommender's parameters (the defaults when omitted).

    Returns:
        One row per method × metric, columns ``METRIC_COLUMNS``; ``is_served_method`` marks
        the method configured as ``config`` (the one that serves ml_product_recommendations).

    Raises:
        ValueError: If nobody who existed at the cutoff bought anything after it.
    """
    if evaluation_days < 1:
        raise ValueError(f"evaluation_days must be at least 1, got {evaluation_days}")
    config = config or RecommenderConfig()
    latest = as_day(latest_date)
    cutoff = latest - np.timedelta64(evaluation_days, "D")
    population = customers_as_of(customer_versions, cutoff)
    require_rows(population, f"customers existing on the cutoff {cutoff}")
    actual = purchases_between(lines, cutoff + np.timedelta64(1, "D"), latest)
    actual = actual[actual["customer_id"].isin(population["customer_id"])]
    require_rows(actual, f"purchases after the cutoff {cutoff} by customers existing then")
    evaluated = np.unique(actual["customer_id"].to_numpy(dtype=np.int64))

    catalog = build_catalog(products, categories, cutoff)
    history = purchases_as_of(lines, cutoff)
    rows = []
    for method, method_config in evaluation_methods(config).items():
        recommendations = recommend_from_history(
            population,
            history,
            catalog,
            as_of=cutoff,
            config=method_config,
            for_customers=evaluated,
        )
        metrics = ranking_metrics(recommendations, actual, config.k)
        for metric, name in [
            ("hit_rate_at_k", f"hit_rate_at_{config.k}"),
            ("recall_at_k", f"recall_at_{config.k}"),
        ]:
            rows.append(
                {
                    "method": method,
                    "metric": name,
                    "value": metrics[metric],
                    "k": config.k,
                    "customers_evaluated": metrics["customers"],
                    "is_served_method": method_config == config,
                    "cutoff_date": pd.Timestamp(cutoff).date(),
                    "evaluation_end_date": pd.Timestamp(latest).date(),
                }
            )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
