"""Product recommendations for retail_ml.

Thin dbt Python models call one function of this package each:

* ``ml_product_recommendations``: :func:`recommend_for_serving` (= :func:`recommend` as of the
  latest complete day): item-item co-purchase similarity (:func:`item_similarity`) plus a
  segment popularity prior (:func:`popularity`) that is also the cold start;
* ``ml_recommendation_metrics``: :func:`recommendation_metrics` (=
  :func:`evaluate_recommenders`, which scores every method with :func:`ranking_metrics`).
"""

from retail_ml.recommend.evaluation import (
    evaluate_recommenders,
    evaluation_methods,
    ranking_metrics,
)
from retail_ml.recommend.inputs import (
    Catalog,
    build_catalog,
    purchase_history,
    rows_as_of,
)
from retail_ml.recommend.jobs import recommend_for_serving, recommendation_metrics
from retail_ml.recommend.popularity import Popularity, popularity
from retail_ml.recommend.recommender import (
    RecommenderConfig,
    recommend,
    recommend_from_history,
    top_k_per_row,
)
from retail_ml.recommend.similarity import item_similarity, purchase_matrix

__all__ = [
    "Catalog",
    "Popularity",
    "RecommenderConfig",
    "build_catalog",
    "evaluate_recommenders",
    "evaluation_methods",
    "item_similarity",
    "popularity",
    "purchase_matrix",
    "purchase_history",
    "ranking_metrics",
    "recommend",
    "recommend_for_serving",
    "recommend_from_history",
    "recommendation_metrics",
    "rows_as_of",
    "top_k_per_row",
]
