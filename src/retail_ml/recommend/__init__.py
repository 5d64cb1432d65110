"""Product recommendations for retail_ml.

Thin dbt Python models call one function of this package each:

* ``ml_recommendation_metrics``: :func:`recommendation_metrics_if_changed` (incremental: runs
  :func:`evaluate_backtest` only when the fingerprint of what it reads changed):
  a rolling-origin backtest of the blended recommender (:func:`recommend`, method ``blend``:
  category affinity + basket/next-order co-purchase of the latest orders + repurchase recency,
  :mod:`~retail_ml.recommend.signals`) against buy-again and popularity baselines, with the
  blend's weights tuned on a window before the reported ones and bootstrap intervals;
* ``ml_recommender_statistics``: :func:`statistics_from_warehouse` (the inputs cut to the
  last closed day in SQL, then :func:`learn`: what the served method learns from everyone's
  lines, as rows, :mod:`~retail_ml.recommend.statistics`);
* ``ml_product_recommendations_closed``: :func:`recommendations_from_warehouse` (every
  customer of that day scored with those statistics and the tuned parameters; equal to
  :func:`recommend_for_serving` = :func:`recommend` as of that day);
* ``ml_product_recommendations_fresh``: :func:`fresh_recommendations_from_warehouse` (the
  fresh customers' own lines as of the open day, scored with the same statistics;
  ``ml_product_recommendations`` serves both).

Both rank each customer's shortlist of products (:mod:`~retail_ml.recommend.shortlist`), which
gives exactly the top k of every product's score for a cost that does not grow with
customers × products.
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
from retail_ml.recommend.incremental import (
    METRICS_SCHEMA,
    BacktestRelations,
    input_fingerprint,
    recommendation_metrics_if_changed,
    stored_fingerprints,
)
from retail_ml.recommend.inputs import (
    Catalog,
    build_catalog,
    order_lines_as_of,
    purchase_history,
    rows_as_of,
)
from retail_ml.recommend.jobs import (
    FreshRelations,
    ServingRelations,
    StatisticsRelations,
    fresh_recommendations_from_warehouse,
    recommend_for_serving,
    recommendation_metrics,
    recommendations_from_warehouse,
    serving_frames,
    statistics_from_warehouse,
)
from retail_ml.recommend.popularity import Popularity, popularity
from retail_ml.recommend.ranking import top_k_of_pairs
from retail_ml.recommend.recommender import (
    RecommenderConfig,
    ShopStatistics,
    learn,
    prepare_targets,
    recommend,
    recommend_from_lines,
    recommend_with_statistics,
)
from retail_ml.recommend.signals import (
    category_preference,
    category_share,
    category_taste,
    recent_orders,
    sequence_signals,
)
from retail_ml.recommend.similarity import item_similarity, purchase_matrix
from retail_ml.recommend.statistics import (
    STATISTICS_SCHEMA,
    statistics_from_frame,
    statistics_table,
)

__all__ = [
    "BASELINES",
    "METRICS_SCHEMA",
    "SERVED_METHOD",
    "STATISTICS_SCHEMA",
    "TUNING_GRID",
    "BacktestRelations",
    "Catalog",
    "FreshRelations",
    "Popularity",
    "RecommenderConfig",
    "ServingRelations",
    "ShopStatistics",
    "StatisticsRelations",
    "bootstrap_indices",
    "bootstrap_interval",
    "build_catalog",
    "category_preference",
    "category_share",
    "category_taste",
    "check_windows",
    "evaluate_backtest",
    "evaluation_methods",
    "fresh_recommendations_from_warehouse",
    "input_fingerprint",
    "item_similarity",
    "learn",
    "order_lines_as_of",
    "per_customer_metrics",
    "popularity",
    "prepare_targets",
    "purchase_history",
    "purchase_matrix",
    "ranking_metrics",
    "recent_orders",
    "recommend",
    "recommend_for_serving",
    "recommend_from_lines",
    "recommend_with_statistics",
    "recommendation_metrics",
    "recommendation_metrics_if_changed",
    "recommendations_from_warehouse",
    "rows_as_of",
    "scored_per_customer",
    "sequence_signals",
    "served_parameters",
    "serving_frames",
    "statistics_from_frame",
    "statistics_from_warehouse",
    "statistics_table",
    "stored_fingerprints",
    "top_k_of_pairs",
    "tune_blend",
]
