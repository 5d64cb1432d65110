"""One-call entry points for the thin dbt Python models of the recommendations.

* :func:`recommendation_metrics` - the rolling-origin backtest of the recommender against its
  baselines (``ml_recommendation_metrics``), which also tunes the blend's weights;
* :func:`recommend_for_serving` - the top-k products of every customer as of the last closed
  day with those tuned weights (``ml_product_recommendations_closed``), so that what is served
  is exactly what was evaluated;
* :func:`fresh_recommendations_from_warehouse` - the same for the fresh customers as of the
  open day (``ml_product_recommendations_fresh``, docs: intraday_freshness).

Both read SQL models that already hold the rows of the dates they need; they pick the rows of
their date, never re-derive what was known when.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from retail_ml.recommend._checks import require_rows
from retail_ml.recommend.evaluation import SERVED_METHOD, evaluate_backtest, served_parameters
from retail_ml.recommend.inputs import (
    CATALOGUE_COLUMNS,
    CUSTOMER_COLUMNS,
    ORDER_LINE_COLUMNS,
    build_catalog,
    order_lines_as_of,
    rows_as_of,
    single_day,
    warehouse_frame,
)
from retail_ml.recommend.recommender import (
    RecommenderConfig,
    empty_output,
    recommend,
    recommend_from_lines,
)


@dataclass(frozen=True)
class ServingRelations:
    """ml_product_recommendations' inputs as DuckDB relations (the model's ``dbt.ref(...)``)."""

    serving: duckdb.DuckDBPyRelation  # the customers of one as-of date (segment columns)
    lines: duckdb.DuckDBPyRelation  # int_recommender_order_lines
    catalogue: duckdb.DuckDBPyRelation  # int_product_catalogue_requested
    metrics: duckdb.DuckDBPyRelation  # ml_recommendation_metrics


def serving_frames(relations: ServingRelations) -> dict[str, pd.DataFrame]:
    """What :func:`recommend_for_serving` reads of its inputs, cut in SQL before it leaves
    DuckDB: the serving customers' segment columns, the order lines known and not retracted by
    the serving day, that day's catalogue and the served method's parameters. The recommender
    applies the same rules again (:func:`~retail_ml.recommend.inputs.order_lines_as_of`,
    :func:`~retail_ml.recommend.inputs.rows_as_of`), so the result is the one of the whole
    tables: only the copying is saved."""
    columns = ", ".join([*CUSTOMER_COLUMNS, "as_of_date"])
    serving = warehouse_frame(relations.serving.project(columns))
    require_rows(serving, "serving")
    as_of = pd.Timestamp(single_day(serving, "as_of_date", "serving")).date()
    day = f"date '{as_of.isoformat()}'"
    return {
        "serving": serving,
        "lines": warehouse_frame(
            relations.lines.filter(
                f"known_date <= {day} and (retracted_date is null or retracted_date > {day})"
            ).project(", ".join(ORDER_LINE_COLUMNS))
        ),
        "catalogue": warehouse_frame(
            relations.catalogue.filter(f"as_of_date = {day}").project(
                ", ".join([*CATALOGUE_COLUMNS, "as_of_date"])
            )
        ),
        "metrics": warehouse_frame(
            relations.metrics.filter(f"method = '{SERVED_METHOD}'").project(
                "method, parameters_json"
            )
        ),
    }


def recommendations_from_warehouse(relations: ServingRelations) -> pd.DataFrame:
    """ml_product_recommendations: :func:`recommend_for_serving` on :func:`serving_frames`."""
    frames = serving_frames(relations)
    return recommend_for_serving(
        frames["serving"], frames["lines"], frames["catalogue"], frames["metrics"]
    )


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


@dataclass(frozen=True)
class FreshRelations:
    """ml_product_recommendations_fresh's inputs as DuckDB relations."""

    fresh: duckdb.DuckDBPyRelation  # int_customers_fresh
    population: duckdb.DuckDBPyRelation  # feat_customer_serving: every served customer
    lines: duckdb.DuckDBPyRelation  # int_recommender_order_lines (the closed day's build)
    fresh_lines: duckdb.DuckDBPyRelation  # int_recommender_order_lines_fresh
    catalogue: duckdb.DuckDBPyRelation  # int_product_catalogue_requested
    metrics: duckdb.DuckDBPyRelation  # ml_recommendation_metrics


#: ml_product_recommendations_fresh's columns: typed explicitly, as the table is often empty.
RECOMMENDATION_SCHEMA = pa.schema([
    ("customer_id", pa.int64()),
    ("product_id", pa.int64()),
    ("rank", pa.int64()),
    ("score", pa.float64()),
    ("reason", pa.string()),
    ("as_of_date", pa.date32()),
])


def fresh_recommendations_from_warehouse(relations: FreshRelations) -> pa.Table:
    """ml_product_recommendations_fresh: the top-k products of every fresh customer as of the
    open day (their ``as_of_date``), with the served method's tuned parameters.

    What differs from the closed day's recommendations, and why (docs: intraday_freshness):
    the order lines are the ones known by the open day (:func:`order_lines_as_of`; the fresh
    customers' lines recomputed from what landed, so the customer's purchases of today count,
    and so do today's lines in the co-purchase and popularity statistics); the population
    whose purchases make segment popularity is every served customer; the catalogue is the last
    closed day's (products are published daily).
    Empty when nobody is fresh. An Arrow table of ``RECOMMENDATION_SCHEMA``.
    """
    fresh = warehouse_frame(relations.fresh.project("customer_id, as_of_date"))
    if fresh.empty:
        return pa.Table.from_pandas(empty_output(), schema=RECOMMENDATION_SCHEMA,
                                    preserve_index=False)
    as_of = single_day(fresh, "as_of_date", "fresh customers")
    day = f"date '{pd.Timestamp(as_of).date().isoformat()}'"
    population = warehouse_frame(relations.population.project(", ".join(CUSTOMER_COLUMNS)))
    known = f"known_date <= {day} and (retracted_date is null or retracted_date > {day})"
    columns = ", ".join(ORDER_LINE_COLUMNS)
    closed_lines = warehouse_frame(relations.lines.filter(known).project(columns))
    # The fresh customers' lines are theirs recomputed from what landed (the others' are current).
    lines = pd.concat(
        [closed_lines[~closed_lines["customer_id"].isin(fresh["customer_id"])],
         warehouse_frame(relations.fresh_lines.filter(known).project(columns))],
        ignore_index=True,
    )
    (closed_day,) = relations.catalogue.aggregate("max(as_of_date)").fetchone()
    catalogue = warehouse_frame(
        relations.catalogue.filter(f"as_of_date = date '{closed_day.isoformat()}'").project(
            ", ".join(CATALOGUE_COLUMNS)
        )
    )
    metrics = warehouse_frame(
        relations.metrics.filter(f"method = '{SERVED_METHOD}'").project("method, parameters_json")
    )
    recommendations = recommend_from_lines(
        population,
        order_lines_as_of(lines, as_of),
        build_catalog(catalogue),
        as_of=as_of,
        config=RecommenderConfig.from_mapping(served_parameters(metrics)),
        for_customers=fresh["customer_id"].to_numpy(),
    )
    return pa.Table.from_pandas(recommendations, schema=RECOMMENDATION_SCHEMA,
                                preserve_index=False)
