"""Offline evaluation: recommend as of a past cutoff, score against what was bought next."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from retail_ml.recommend._checks import require_columns, require_rows
from retail_ml.recommend.inputs import (
    build_catalog,
    purchase_history,
    rows_as_of,
    single_day,
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
    customers: pd.DataFrame,
    purchases: pd.DataFrame,
    catalogue: pd.DataFrame,
    actual: pd.DataFrame,
    *,
    config: RecommenderConfig | None = None,
) -> pd.DataFrame:
    """Recommend as of the evaluation cutoff, score against what was bought after it.

    Every method recommends, as of the cutoff and seeing only what was known by then, for the
    customers who existed at the cutoff (attributes as of the cutoff) and bought something in
    the days after it (cutoff+1 .. the latest complete day, judged on all data now known).
    Customers without purchases before the cutoff are evaluated too (cold start). The warehouse
    picks the dates and the rows; this only recommends and scores.

    Args:
        customers: int_recommender_evaluation_customers: the population at the cutoff
            (``customer_id``, ``country_code``, ``signup_channel``, ``as_of_date`` = the
            cutoff, one date).
        purchases: int_customer_products_purchased (rows of the cutoff are used).
        catalogue: int_product_catalogue_requested (rows of the cutoff are used).
        actual: int_recommender_evaluation_purchases: (``customer_id``, ``product_id``)
            bought in the window by customers of ``customers``, with ``cutoff_date`` and
            ``evaluation_end_date``.
        config: The production recommender's parameters (the defaults when omitted).

    Returns:
        One row per method × metric, columns ``METRIC_COLUMNS``; ``is_served_method`` marks
        the method configured as ``config`` (the one that serves ml_product_recommendations).

    Raises:
        ValueError: If nobody existed at the cutoff or bought anything after it, if the frames
            disagree on the cutoff, or if ``actual`` has a buyer who is not in ``customers``.
    """
    config = config or RecommenderConfig()
    require_rows(customers, "customers existing on the evaluation cutoff")
    cutoff = single_day(customers, "as_of_date", "evaluation customers")
    require_columns(
        actual, ["customer_id", "product_id", "cutoff_date", "evaluation_end_date"],
        "actual purchases",
    )
    require_rows(actual, f"purchases after the cutoff {cutoff} by customers existing then")
    if single_day(actual, "cutoff_date", "actual purchases") != cutoff:
        raise ValueError("actual purchases and evaluation customers have different cutoffs")
    latest = single_day(actual, "evaluation_end_date", "actual purchases")
    evaluated = np.unique(actual["customer_id"].to_numpy(dtype=np.int64))
    strangers = np.setdiff1d(evaluated, customers["customer_id"].to_numpy(dtype=np.int64))
    if len(strangers):
        raise ValueError(f"actual purchases by customers unknown at the cutoff: {strangers[:3]}")

    catalog = build_catalog(rows_as_of(catalogue, cutoff, "catalogue"))
    history = purchase_history(rows_as_of(purchases, cutoff, "purchases"))
    rows = []
    for method, method_config in evaluation_methods(config).items():
        recommendations = recommend_from_history(
            customers,
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
