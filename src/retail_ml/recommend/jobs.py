"""One-call entry points for the thin dbt Python models of the recommendations.

* :func:`recommendation_metrics` - the rolling-origin backtest of the recommender against its
  baselines (``ml_recommendation_metrics``), which also tunes the blend's weights;
* :func:`statistics_from_warehouse` - what the served method learns from every customer's
  lines as of the last closed day (``ml_recommender_statistics``);
* :func:`recommendations_from_warehouse` - the top-k products of every customer as of that day,
  scored with those statistics and the tuned weights (``ml_product_recommendations_closed``),
  equal to :func:`recommend_for_serving` on the same inputs, so that what is served is exactly
  what was evaluated;
* :func:`fresh_recommendations_from_warehouse` - the same statistics applied to the fresh
  customers' own lines as of the open day (``ml_product_recommendations_fresh``, docs:
  intraday_freshness).

They read SQL models that already hold the rows of the dates they need; they pick the rows of
their date, never re-derive what was known when.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from retail_ml.heap import keeps_freed_memory
from retail_ml.recommend._checks import require_rows
from retail_ml.recommend.evaluation import SERVED_METHOD, evaluate_backtest, served_parameters
from retail_ml.recommend.inputs import (
    CATALOGUE_COLUMNS,
    CUSTOMER_COLUMNS,
    ORDER_LINE_COLUMNS,
    Catalog,
    as_day,
    build_catalog,
    known_order_lines,
    order_lines_as_of,
    rows_as_of,
    single_day,
    warehouse_frame,
)
from retail_ml.recommend.recommender import (
    RecommenderConfig,
    ShopStatistics,
    empty_output,
    learn,
    recommend,
    recommend_with_statistics,
)
from retail_ml.recommend.statistics import statistics_from_frame, statistics_table


@dataclass(frozen=True)
class StatisticsRelations:
    """ml_recommender_statistics' inputs as DuckDB relations (the model's ``dbt.ref(...)``)."""

    serving: duckdb.DuckDBPyRelation  # the customers of one as-of date (segment columns)
    lines: duckdb.DuckDBPyRelation  # int_recommender_order_lines
    catalogue: duckdb.DuckDBPyRelation  # int_product_catalogue_requested
    metrics: duckdb.DuckDBPyRelation  # ml_recommendation_metrics


@dataclass(frozen=True)
class ServingRelations(StatisticsRelations):
    """ml_product_recommendations_closed's inputs: the same, and the statistics learned on
    them (ml_recommender_statistics)."""

    statistics: duckdb.DuckDBPyRelation | None = None


def serving_frames(relations: StatisticsRelations) -> dict[str, pd.DataFrame]:
    """What :func:`recommend_for_serving` reads of its inputs, cut in SQL before it leaves
    DuckDB: the serving customers' segment columns, the order lines known and not retracted by
    the serving day, that day's catalogue and the served method's parameters. The recommender
    applies the same rules again (:func:`~retail_ml.recommend.inputs.order_lines_as_of`,
    :func:`~retail_ml.recommend.inputs.rows_as_of`), so the result is the one of the whole
    tables: only the copying is saved."""
    frames = _closed_day_frames(relations)
    day = f"date '{pd.Timestamp(frames['as_of']).date().isoformat()}'"
    return {
        "serving": frames["serving"],
        "lines": warehouse_frame(
            relations.lines.filter(
                f"known_date <= {day} and (retracted_date is null or retracted_date > {day})"
            ).project(", ".join(ORDER_LINE_COLUMNS))
        ),
        "catalogue": frames["catalogue"],
        "metrics": frames["metrics"],
    }


def _closed_day_frames(relations: StatisticsRelations) -> dict[str, Any]:
    """:func:`serving_frames` but the order lines, and the serving day (``as_of``)."""
    columns = ", ".join([*CUSTOMER_COLUMNS, "as_of_date"])
    serving = warehouse_frame(relations.serving.project(columns))
    require_rows(serving, "serving")
    as_of = single_day(serving, "as_of_date", "serving")
    day = f"date '{pd.Timestamp(as_of).date().isoformat()}'"
    return {
        "as_of": as_of,
        "serving": serving,
        "catalogue": warehouse_frame(
            relations.catalogue.filter(f"as_of_date = {day}").project(
                ", ".join([*CATALOGUE_COLUMNS, "as_of_date"])
            )
        ),
        "metrics": _served_metrics(relations.metrics),
    }


def _served_metrics(metrics: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    return warehouse_frame(
        metrics.filter(f"method = '{SERVED_METHOD}'").project("method, parameters_json")
    )


@keeps_freed_memory
def statistics_from_warehouse(relations: StatisticsRelations) -> pa.Table:
    """ml_recommender_statistics: the served method's shop-wide statistics
    (:func:`~retail_ml.recommend.recommender.learn`) as of the serving day, with its tuned
    parameters, as rows (:func:`~retail_ml.recommend.statistics.statistics_table`)."""
    # The lines as order_lines_as_of(serving_frames(...)["lines"]) gives them, cut and typed
    # on the way out of DuckDB (known_order_lines).
    frames = _closed_day_frames(relations)
    as_of = frames["as_of"]
    parameters = served_parameters(frames["metrics"])
    catalog = build_catalog(rows_as_of(frames["catalogue"], as_of, "catalogue"))
    statistics = learn(
        frames["serving"],
        known_order_lines(relations.lines, as_of),
        catalog,
        as_of=as_of,
        config=RecommenderConfig.from_mapping(parameters),
    )
    return statistics_table(statistics, catalog, parameters)


def stored_statistics(relation: duckdb.DuckDBPyRelation, catalog: Catalog,
                      parameters: Mapping[str, Any], as_of: np.datetime64) -> ShopStatistics:
    """ml_recommender_statistics for ``catalog`` and the served ``parameters``, learned on
    ``as_of``; one clear error when they were learned on another day."""
    # parameters_json is one ~400-character JSON repeated on every row (900k at large): its
    # distinct values are checked in SQL, the rows read without it (0.65 -> 0.18 s at large).
    stored_parameters = [value for (value,) in
                         relation.project("parameters_json").distinct().fetchall()]
    columns = [f'"{name}"' for name in relation.columns if name != "parameters_json"]
    statistics = statistics_from_frame(
        warehouse_frame(relation.project(", ".join(columns))), catalog, parameters,
        stored_parameters=stored_parameters,
    )
    if statistics.as_of != as_day(as_of):
        raise ValueError(f"recommender statistics are of {statistics.as_of}, not of "
                         f"{as_day(as_of)}; rebuild ml_recommender_statistics")
    return statistics


@keeps_freed_memory
def recommendations_from_warehouse(relations: ServingRelations) -> pd.DataFrame:
    """ml_product_recommendations_closed: every serving customer's top k as of the serving
    day, scored with the statistics ml_recommender_statistics learned on the same inputs (so
    equal to :func:`recommend_for_serving` on them, which learns them again)."""
    if relations.statistics is None:
        raise ValueError("the closed day's recommendations need ml_recommender_statistics")
    frames = _closed_day_frames(relations)
    as_of = frames["as_of"]
    parameters = served_parameters(frames["metrics"])
    catalog = build_catalog(rows_as_of(frames["catalogue"], as_of, "catalogue"))
    return recommend_with_statistics(
        stored_statistics(relations.statistics, catalog, parameters, as_of),
        frames["serving"][list(CUSTOMER_COLUMNS)],
        known_order_lines(relations.lines, as_of),
        catalog,
        as_of=as_of,
        config=RecommenderConfig.from_mapping(parameters),
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
    population: duckdb.DuckDBPyRelation  # feat_customer_serving: the fresh customers' segments
    fresh_lines: duckdb.DuckDBPyRelation  # int_recommender_order_lines_fresh
    catalogue: duckdb.DuckDBPyRelation  # int_product_catalogue_requested
    metrics: duckdb.DuckDBPyRelation  # ml_recommendation_metrics
    statistics: duckdb.DuckDBPyRelation  # ml_recommender_statistics (the closed day's)


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

    What is fresh, and what is the closed day's (docs: intraday_freshness): each fresh
    customer's own order lines are the ones known by now (int_recommender_order_lines_fresh:
    what they bought today counts, for their repeat, basket and category signals), and their
    segment is today's; the shop-wide statistics (what sells with what, category mixes and
    shares, popularity) and the catalogue are the last closed day's, learned by the daily run
    (ml_recommender_statistics), as the churn model is. So a refresh reads the fresh
    customers' lines and the statistics, never the whole order history.
    Empty when nobody is fresh. An Arrow table of ``RECOMMENDATION_SCHEMA``.
    """
    fresh = warehouse_frame(relations.fresh.project("customer_id, as_of_date"))
    if fresh.empty:
        return pa.Table.from_pandas(empty_output(), schema=RECOMMENDATION_SCHEMA,
                                    preserve_index=False)
    as_of = single_day(fresh, "as_of_date", "fresh customers")
    day = f"date '{pd.Timestamp(as_of).date().isoformat()}'"
    population = warehouse_frame(relations.population.project(", ".join(CUSTOMER_COLUMNS)))
    targets = population[population["customer_id"].isin(fresh["customer_id"])]
    known = f"known_date <= {day} and (retracted_date is null or retracted_date > {day})"
    lines = warehouse_frame(relations.fresh_lines.filter(known).project(
        ", ".join(ORDER_LINE_COLUMNS)))
    (closed_day,) = relations.catalogue.aggregate("max(as_of_date)").fetchone()
    catalog = build_catalog(warehouse_frame(
        relations.catalogue.filter(f"as_of_date = date '{closed_day.isoformat()}'").project(
            ", ".join(CATALOGUE_COLUMNS)
        )
    ))
    parameters = served_parameters(_served_metrics(relations.metrics))
    recommendations = recommend_with_statistics(
        stored_statistics(relations.statistics, catalog, parameters, np.datetime64(closed_day)),
        targets,
        order_lines_as_of(lines, as_of),
        catalog,
        as_of=as_of,
        config=RecommenderConfig.from_mapping(parameters),
    )
    return pa.Table.from_pandas(recommendations, schema=RECOMMENDATION_SCHEMA,
                                preserve_index=False)
