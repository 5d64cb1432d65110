"""Product recommendations for retail_ml.

Thin dbt Python models call one function of this package each:

* ``ml_recommendation_metrics``: :func:`recommendation_metrics` (= :func:`evaluate_backtest`):
  a rolling-origin backtest of the blended recommender (:func:`recommend`, method ``blend``:
  category affinity + basket/next-order co-purchase of the latest orders + repurchase recency,
  :mod:`~retail_ml.recommend.signals`) against buy-again and popularity baselines, with the
  blend's weights tuned on a window before the reported ones and bootstrap intervals;
* ``ml_product_recommendations``: :func:`recommend_for_serving` (= :func:`recommend` as of the
  latest complete day, with the tuned parameters).
"""

from retail_ml.recommend.evaluation import (
    BASELINES,
    SERVED_METHOD,
    TUNING_GRID,
    bootstrap_indices,
    bootstrap_interval,
    check_windows,
    evaluate_backtest,
    evaluation_methods,
    per_customer_metrics,
    ranking_metrics,
    scored_per_customer,
    served_parameters,
    tune_blend,
)
from retail_ml.recommend.inputs import (
    Catalog,
    build_catalog,
    order_lines_as_of,
    purchase_history,
    rows_as_of,
)
from retail_ml.recommend.jobs import recommend_for_serving, recommendation_metrics
from retail_ml.recommend.popularity import Popularity, popularity
from retail_ml.recommend.recommender import (
    RecommenderConfig,
    recommend,
    recommend_from_lines,
    top_k_per_row,
)
from retail_ml.recommend.signals import category_affinity, recent_orders, sequence_signals
from retail_ml.recommend.similarity import item_similarity, purchase_matrix

__all__ = [
    "BASELINES",
    "SERVED_METHOD",
    "TUNING_GRID",
    "Catalog",
    "Popularity",
    "RecommenderConfig",
    "bootstrap_indices",
    "bootstrap_interval",
    "build_catalog",
    "category_affinity",
    "check_windows",
    "evaluate_backtest",
    "evaluation_methods",
    "item_similarity",
    "order_lines_as_of",
    "per_customer_metrics",
    "popularity",
    "purchase_history",
    "purchase_matrix",
    "ranking_metrics",
    "recent_orders",
    "recommend",
    "recommend_for_serving",
    "recommend_from_lines",
    "recommendation_metrics",
    "rows_as_of",
    "scored_per_customer",
    "sequence_signals",
    "served_parameters",
    "top_k_per_row",
    "tune_blend",
]
