"""Rolling-origin backtest: recommend as of past cutoffs, score against what was bought next.

Protocol (tested in tests/python/test_recommend_evaluation.py):

* windows are consecutive and their label periods do not overlap: window ``w`` recommends as
  of its cutoff and is scored on the purchases of the days after it, up to the next window's
  cutoff (int_recommender_backtest_windows);
* each window's methods see only the order lines known by the end of its cutoff
  (:func:`~retail_ml.recommend.inputs.order_lines_as_of`) and the catalogue of that day;
* the blend's weights are chosen on the tuning window, the one before the reported windows
  (its label period ends on the first reported cutoff), and never on a reported window;
* every method × metric × window gets a percentile bootstrap interval over customers (fixed
  seed; the same resamples for every method of a window, so methods are compared on equal
  draws).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from itertools import product

import numpy as np
import pandas as pd
from scipy import sparse

from retail_ml.recommend._checks import require_columns, require_rows
from retail_ml.recommend.inputs import (
    as_days,
    build_catalog,
    locate,
    order_lines_as_of,
    purchase_history,
    rows_as_of,
)
from retail_ml.recommend.recommender import (
    BLEND_WEIGHTS,
    Prepared,
    RecommenderConfig,
    chunks,
    map_blocks,
    prepare,
)
from retail_ml.recommend.shortlist import block_top_k, leaders

#: Columns of the metrics frame, in order.
METRIC_COLUMNS: tuple[str, ...] = (
    "method",
    "metric",
    "window_role",
    "parameters_json",
    "value",
    "ci_lower",
    "ci_upper",
    "ratio_to_best_baseline",
    "window_number",
    "k",
    "customers_evaluated",
    "bootstrap_samples",
    "is_served_method",
    "is_baseline",
    "cutoff_date",
    "evaluation_end_date",
)
#: The served method's name in the metrics.
SERVED_METHOD = "blend"
#: Baselines: the served method must beat the best of them.
BASELINES: tuple[str, ...] = (
    "buy_again",
    "popularity_segment",
    "popularity_country",
    "popularity_global",
)
#: Blend weights searched on the tuning window (every combination; first best wins ties).
TUNING_GRID: dict[str, tuple[float, ...]] = {
    "repeat_weight": (0.03, 0.05, 0.08),
    "basket_weight": (0.2, 0.3),
    "next_order_weight": (0.2, 0.3),
}
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 42
INTERVAL_LEVEL = 0.95
WINDOW_COLUMNS: tuple[str, ...] = (
    "window_number",
    "window_role",
    "cutoff_date",
    "evaluation_end_date",
)


def per_customer_metrics(
    recommendations: pd.DataFrame, actual: pd.DataFrame, k: int
) -> pd.DataFrame:
    """Hit and recall at ``k`` of every customer who bought something in ``actual``.

    ``hit``: 1 when at least one of the customer's top-k products is among what they bought.
    ``recall``: (bought products in the top k) / (distinct products bought). A customer without
    recommendations counts as a miss.

    Args:
        recommendations: ``customer_id``, ``product_id``, ``rank``.
        actual: ``customer_id``, ``product_id`` bought in the evaluation window (duplicates ok).
        k: Cut-off; recommendations with ``rank > k`` are ignored.

    Returns:
        ``customer_id``, ``hit``, ``recall``; one row per buyer, sorted by customer.

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
    per_customer = per_customer.sort_index()
    return pd.DataFrame(
        {
            "customer_id": per_customer.index.to_numpy(dtype=np.int64),
            "hit": (per_customer["hits"] > 0).to_numpy(dtype=np.float64),
            "recall": (per_customer["hits"] / per_customer["bought"]).to_numpy(dtype=np.float64),
        }
    )


def ranking_metrics(
    recommendations: pd.DataFrame, actual: pd.DataFrame, k: int
) -> dict[str, float]:
    """Hit rate@k and recall@k: the means of :func:`per_customer_metrics`.

    Returns:
        ``{"hit_rate_at_k": ..., "recall_at_k": ..., "customers": n}``.
    """
    per_customer = per_customer_metrics(recommendations, actual, k)
    return {
        "hit_rate_at_k": float(per_customer["hit"].mean()),
        "recall_at_k": float(per_customer["recall"].mean()),
        "customers": int(len(per_customer)),
    }


def bootstrap_indices(n: int, *, samples: int, seed: int) -> np.ndarray:
    """``samples`` × ``n`` row indices drawn with replacement (one resample of the customers
    per row); a fixed seed gives the same draws on every run."""
    if n < 1 or samples < 1:
        raise ValueError("bootstrap needs at least one customer and one sample")
    # int32: 1,000 resamples of ~20k customers stay at 80 MB.
    return np.random.default_rng(seed).integers(0, n, size=(samples, n), dtype=np.int32)


def bootstrap_interval(
    values: np.ndarray, indices: np.ndarray, level: float = INTERVAL_LEVEL
) -> tuple[float, float]:
    """Percentile interval of the mean of ``values`` over the resamples ``indices``."""
    values = np.asarray(values, dtype=np.float64)
    means = np.empty(len(indices))
    # A block of resamples at a time: the gathered values of all of them would be
    # samples × customers floats (2 GB at 250k customers).
    step = max(1, 4_000_000 // max(indices.shape[1], 1))
    for start in range(0, len(indices), step):
        means[start : start + step] = values[indices[start : start + step]].mean(axis=1)
    tail = (1.0 - level) / 2.0
    lower, upper = np.quantile(means, [tail, 1.0 - tail])
    return float(lower), float(upper)


def scored_per_customer(
    prepared: Prepared, configs: list[RecommenderConfig], actual: pd.DataFrame
) -> list[pd.DataFrame]:
    """:func:`per_customer_metrics` of the top k of each of ``configs`` (weights of
    ``prepared.config``'s method), without building the recommendation frames.

    The score parts of a block of customers' shortlists are computed once and re-weighed per
    config: what makes tuning a grid cheap. ``prepared`` must target exactly the buyers of
    ``actual``.
    """
    bought = actual[["customer_id", "product_id"]].drop_duplicates()
    ids = prepared.target_ids
    per_buyer = bought.groupby("customer_id").size()
    if not np.array_equal(per_buyer.index.to_numpy(dtype=np.int64), ids):
        raise ValueError("the prepared customers must be exactly the buyers")
    rows, _ = locate(ids, bought["customer_id"].to_numpy(dtype=np.int64))
    columns = prepared.catalog.positions(bought["product_id"])
    known = columns >= 0
    matrix = sparse.csr_matrix(
        (np.ones(known.sum()), (rows[known], columns[known])),
        shape=(len(ids), prepared.catalog.size),
    )
    hits = [np.zeros(len(ids)) for _ in configs]
    lead = leaders(prepared, 2 * max(config.k for config in configs))

    def hits_of(block: slice) -> list[np.ndarray]:
        in_block = matrix[block]
        return [
            np.bincount(top.rows, weights=np.asarray(in_block[top.rows, top.columns]).ravel(),
                        minlength=in_block.shape[0])
            for top in block_top_k(prepared, block, configs, lead)
        ]

    for block, block_hits in zip(chunks(prepared), map_blocks(prepared, hits_of), strict=True):
        for i, hit in enumerate(block_hits):
            hits[i][block] = hit
    n_bought = per_buyer.to_numpy(dtype=np.float64)
    return [
        pd.DataFrame(
            {"customer_id": ids, "hit": (h > 0).astype(np.float64), "recall": h / n_bought}
        )
        for h in hits
    ]


def evaluation_methods(config: RecommenderConfig) -> dict[str, RecommenderConfig]:
    """The served blend, the earlier co-purchase recommender and the baselines.

    Every method applies the same eligibility rules (launched, not bought unless
    repurchase-typical), so only the scoring differs.
    """
    return {
        SERVED_METHOD: replace(config, method="blend"),
        "copurchase_cosine": replace(config, method="copurchase", similarity="cosine"),
        "buy_again": replace(config, method="buy_again", popularity_level="segment"),
        "popularity_segment": replace(config, method="popularity", popularity_level="segment"),
        "popularity_country": replace(config, method="popularity", popularity_level="country"),
        "popularity_global": replace(config, method="popularity", popularity_level="global"),
    }


def check_windows(windows: pd.DataFrame) -> pd.DataFrame:
    """The backtest windows, checked: one tuning window first, then consecutive reported windows
    whose label periods neither overlap nor leave gaps (each ends on the next one's cutoff).

    Returns:
        The windows sorted by ``window_number``, dates as ``datetime64[D]``.

    Raises:
        ValueError: When the windows break the protocol.
    """
    require_columns(windows, WINDOW_COLUMNS, "backtest windows")
    require_rows(windows, "backtest windows")
    ordered = windows.sort_values("window_number", kind="mergesort").reset_index(drop=True)
    cutoffs = as_days(ordered["cutoff_date"])
    ends = as_days(ordered["evaluation_end_date"])
    roles = ordered["window_role"].astype(str).tolist()
    if roles[0] != "tuning" or roles.count("tuning") != 1 or len(roles) < 2:
        raise ValueError(f"backtest needs one tuning window before the reported ones: {roles}")
    if (ends <= cutoffs).any():
        raise ValueError("a backtest window ends on or before its cutoff")
    if (ends[:-1] != cutoffs[1:]).any():
        raise ValueError(
            "backtest windows must be consecutive: each label period ends on the next cutoff"
        )
    return ordered.assign(cutoff_date=cutoffs, evaluation_end_date=ends)


def tune_blend(
    customers: pd.DataFrame,
    lines: pd.DataFrame,
    catalogue: pd.DataFrame,
    actual: pd.DataFrame,
    *,
    cutoff: np.datetime64,
    config: RecommenderConfig,
    grid: dict[str, tuple[float, ...]] | None = None,
) -> tuple[RecommenderConfig, pd.DataFrame]:
    """The blend weights of ``grid`` with the best hit rate@k on one (the tuning) window.

    The parts of the score are computed once per block of customers; each combination of
    weights only re-weighs them. Ties go to the first combination in grid order.

    Returns:
        The config with the chosen weights, and one row per combination (its weights and
        ``hit_rate``) for the record.
    """
    grid = grid or TUNING_GRID
    unknown = set(grid) - set(BLEND_WEIGHTS)
    if unknown:
        raise ValueError(f"only the blend weights {BLEND_WEIGHTS} are tuned, not {unknown}")
    candidates = [
        replace(config, method="blend", **dict(zip(grid, values, strict=True)))
        for values in product(*grid.values())
    ]
    evaluated = np.unique(actual["customer_id"].to_numpy(dtype=np.int64))
    prepared = prepare(
        customers,
        order_lines_as_of(lines, cutoff),
        build_catalog(rows_as_of(catalogue, cutoff, "catalogue")),
        as_of=cutoff,
        config=candidates[0],
        for_customers=evaluated,
    )
    scored = scored_per_customer(prepared, candidates, actual)
    hits = np.array([frame["hit"].sum() for frame in scored])
    rate = hits / max(len(evaluated), 1)
    best = int(np.argmax(rate))  # first maximum: ties to the earlier grid entry
    record = pd.DataFrame(
        [
            {**{name: getattr(candidate, name) for name in grid}, "hit_rate": rate[i]}
            for i, candidate in enumerate(candidates)
        ]
    )
    return candidates[best], record


def evaluate_backtest(
    windows: pd.DataFrame,
    customers: pd.DataFrame,
    lines: pd.DataFrame,
    catalogue: pd.DataFrame,
    actual: pd.DataFrame,
    *,
    config: RecommenderConfig | None = None,
    grid: dict[str, tuple[float, ...]] | None = None,
    bootstrap_samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """Tune the blend on the tuning window, then score every method on every window.

    Args:
        windows: int_recommender_backtest_windows (``WINDOW_COLUMNS``).
        customers: int_recommender_evaluation_customers: the population at each cutoff
            (``customer_id``, ``country_code``, ``signup_channel``, ``as_of_date`` = cutoff).
        lines: int_recommender_order_lines (each window keeps the lines known at its cutoff).
        catalogue: int_product_catalogue_requested (the rows of each cutoff are used).
        actual: int_recommender_evaluation_purchases: (``customer_id``, ``product_id``) bought
            in each window by customers known at its cutoff, with ``cutoff_date`` and
            ``evaluation_end_date``.
        config: The untuned parameters (the served model's dbt config).
        grid: Blend weights to search (default ``TUNING_GRID``).
        bootstrap_samples: Resamples of the customers per window.
        seed: Bootstrap seed.

    Returns:
        One row per window × method × metric, columns ``METRIC_COLUMNS``. The tuning window's
        rows show how the chosen weights did where they were chosen (optimistic by design);
        the reported windows are the honest estimate. ``parameters_json`` holds every
        parameter of the method, ``ratio_to_best_baseline`` the value over the best
        baseline's in the same window and metric.

    Raises:
        ValueError: If the windows break the protocol, a window has no buyers, or a buyer is
            not among the customers known at the cutoff.
    """
    config = config or RecommenderConfig()
    ordered = check_windows(windows)
    require_columns(
        actual, ["customer_id", "product_id", "cutoff_date", "evaluation_end_date"],
        "actual purchases",
    )
    require_columns(customers, ["customer_id", "as_of_date"], "evaluation customers")
    actual_cutoffs = as_days(actual["cutoff_date"])
    customer_cutoffs = as_days(customers["as_of_date"])

    def window_inputs(cutoff: np.datetime64) -> tuple[pd.DataFrame, pd.DataFrame]:
        population = customers.loc[customer_cutoffs == cutoff].reset_index(drop=True)
        bought = actual.loc[actual_cutoffs == cutoff].reset_index(drop=True)
        require_rows(population, f"customers known on the cutoff {cutoff}")
        require_rows(bought, f"purchases after the cutoff {cutoff}")
        strangers = np.setdiff1d(
            bought["customer_id"].to_numpy(dtype=np.int64),
            population["customer_id"].to_numpy(dtype=np.int64),
        )
        if len(strangers):
            raise ValueError(f"purchases by customers unknown at {cutoff}: {strangers[:3]}")
        return population, bought

    tuning = ordered.iloc[0]
    population, bought = window_inputs(tuning["cutoff_date"])
    tuned, _ = tune_blend(
        population, lines, catalogue, bought,
        cutoff=tuning["cutoff_date"], config=config, grid=grid,
    )
    methods = evaluation_methods(tuned)

    rows = []
    for window in ordered.itertuples(index=False):
        cutoff = window.cutoff_date
        population, bought = window_inputs(cutoff)
        known = order_lines_as_of(lines, cutoff)
        history = purchase_history(known)
        catalog = build_catalog(rows_as_of(catalogue, cutoff, "catalogue"))
        evaluated = np.unique(bought["customer_id"].to_numpy(dtype=np.int64))
        indices = bootstrap_indices(len(evaluated), samples=bootstrap_samples, seed=seed)
        values: dict[tuple[str, str], tuple[float, float, float]] = {}
        for method, method_config in methods.items():
            prepared = prepare(
                population, known, catalog, as_of=cutoff, config=method_config,
                for_customers=evaluated, history=history,
            )
            (per_customer,) = scored_per_customer(prepared, [method_config], bought)
            if not np.array_equal(per_customer["customer_id"].to_numpy(), evaluated):
                raise AssertionError("per-customer metrics must cover every buyer once")
            for column, metric in [("hit", "hit_rate"), ("recall", "recall")]:
                lower, upper = bootstrap_interval(per_customer[column].to_numpy(), indices)
                values[method, metric] = (float(per_customer[column].mean()), lower, upper)
        for (method, metric), (value, lower, upper) in values.items():
            best_baseline = max(values[baseline, metric][0] for baseline in BASELINES)
            rows.append(
                {
                    "method": method,
                    "metric": f"{metric}_at_{tuned.k}",
                    "window_role": window.window_role,
                    "parameters_json": json.dumps(asdict(methods[method]), sort_keys=True),
                    "value": value,
                    "ci_lower": lower,
                    "ci_upper": upper,
                    "ratio_to_best_baseline": value / best_baseline if best_baseline > 0 else None,
                    "window_number": int(window.window_number),
                    "k": tuned.k,
                    "customers_evaluated": len(evaluated),
                    "bootstrap_samples": bootstrap_samples,
                    "is_served_method": method == SERVED_METHOD,
                    "is_baseline": method in BASELINES,
                    "cutoff_date": pd.Timestamp(cutoff).date(),
                    "evaluation_end_date": pd.Timestamp(window.evaluation_end_date).date(),
                }
            )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))


def served_parameters(metrics: pd.DataFrame) -> dict:
    """The served method's parameters as tuned by the backtest (``parameters_json`` of its
    rows; every row of it holds the same)."""
    require_columns(metrics, ["method", "parameters_json"], "recommendation metrics")
    chosen = metrics.loc[metrics["method"] == SERVED_METHOD, "parameters_json"].unique()
    if len(chosen) != 1:
        raise ValueError(f"expected one set of {SERVED_METHOD} parameters, found {len(chosen)}")
    return json.loads(chosen[0])


__all__ = [
    "BASELINES",
    "METRIC_COLUMNS",
    "SERVED_METHOD",
    "TUNING_GRID",
    "bootstrap_interval",
    "bootstrap_indices",
    "check_windows",
    "evaluate_backtest",
    "evaluation_methods",
    "per_customer_metrics",
    "ranking_metrics",
    "scored_per_customer",
    "served_parameters",
    "tune_blend",
]
