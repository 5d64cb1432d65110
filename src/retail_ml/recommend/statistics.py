"""The recommender's shop-wide statistics as a table, and back (ml_recommender_statistics).

The daily run learns them once, on the last closed day
(:func:`~retail_ml.recommend.recommender.learn`). The closed day's recommendations and, during
the open day, the fresh customers' recommendations both score with this table (docs:
intraday_freshness), so a refresh reads a few hundred thousand rows of statistics and the fresh
customers' own lines instead of every order line.

One row per stored value, in long form so that any SQL client can read it:

* ``popularity``: (country_code, signup_channel, product_id) → value = share of recent buyers,
  level = 0 segment / 1 country / 2 shop; ``popularity_fallback``: the row an unseen segment of
  country_code gets (country_code null: an unseen country);
* ``similarity``, ``basket``, ``next_order``: (from_product_id, product_id) → value, the
  non-zero entries of the product × product matrices;
* ``taste``: (country_code, category) → value (country_code null: the shop's mix);
* ``share``: (product_id) → value.

Every row carries the as-of date and the parameters it was learned with; reading checks that
these are the served ones and that every product is in the catalogue, and fails loudly if not.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import sparse

from retail_ml.recommend.inputs import Catalog
from retail_ml.recommend.popularity import Popularity
from retail_ml.recommend.recommender import ShopStatistics
from retail_ml.recommend.signals import CategoryTaste

STATISTICS_SCHEMA = pa.schema([
    ("statistic", pa.string()),
    ("country_code", pa.string()),
    ("signup_channel", pa.string()),
    ("category", pa.string()),
    ("from_product_id", pa.int64()),
    ("product_id", pa.int64()),
    ("value", pa.float64()),
    ("level", pa.int8()),
    ("as_of_date", pa.date32()),
    ("parameters_json", pa.string()),
])
MATRICES: tuple[str, ...] = ("similarity", "basket", "next_order")


def parameters_key(parameters: Mapping[str, Any]) -> str:
    """The parameters as stored: canonical JSON (sorted keys)."""
    return json.dumps(dict(parameters), sort_keys=True)


def _part(statistic: str, n: int, **columns: Any) -> pa.Table:
    """``n`` rows of ``statistic`` as ``STATISTICS_SCHEMA`` but the last two columns (made
    once for the whole table), the columns not given null. Built as Arrow directly, as
    ``pa.Table.from_pandas`` would convert them (NaN as null); a pandas frame of object
    columns cost twice as long for the 925k rows of the large scale."""
    arrays = [pa.repeat(pa.scalar(statistic, pa.string()), n)]
    for field in list(STATISTICS_SCHEMA)[1:8]:
        value = columns.get(field.name)
        arrays.append(
            pa.repeat(pa.scalar(None, field.type), n)
            if value is None
            else value.cast(field.type)
            if isinstance(value, pa.Array)
            else pa.array(value, type=field.type, from_pandas=True)
        )
    return pa.Table.from_arrays(arrays, schema=pa.schema(list(STATISTICS_SCHEMA)[:8]))


def _dense(statistic: str, keys: pd.DataFrame, scores: np.ndarray, levels: np.ndarray,
           catalog: Catalog) -> pa.Table:
    rows, products = scores.shape
    return _part(
        statistic,
        rows * products,
        country_code=_repeated_text(keys["country_code"], products),
        signup_channel=_repeated_text(keys["signup_channel"], products),
        product_id=np.tile(catalog.product_ids, rows),
        value=scores.ravel(),
        level=levels.ravel().astype(np.int8),
    )


def _repeated_text(values: pd.Series, times: int) -> pa.Array:
    """Each of ``values`` ``times`` times in a row, as Arrow strings (None and NaN null, as
    ``pa.array(..., from_pandas=True)`` makes them): the few distinct keys converted once and
    repeated by index, not 825k Python strings converted one by one (0.26 s a column at the
    large scale)."""
    texts = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    return texts.take(pa.array(np.repeat(np.arange(len(values), dtype=np.int64), times)))


def statistics_table(statistics: ShopStatistics, catalog: Catalog,
                     parameters: Mapping[str, Any]) -> pa.Table:
    """``statistics`` (learned with ``catalog`` and ``parameters``) as ``STATISTICS_SCHEMA``
    rows, in a stable order."""
    prior = statistics.prior
    if prior.countries is None or prior.fallback_scores is None or prior.fallback_levels is None:
        raise ValueError("the popularity has no fallback rows for unseen segments")
    fallback_keys = pd.DataFrame({
        "country_code": [*prior.countries, None],
        "signup_channel": [None] * (len(prior.countries) + 1),
    })
    parts = [
        _dense("popularity", prior.segments, prior.scores, prior.levels, catalog),
        _dense("popularity_fallback", fallback_keys, prior.fallback_scores,
               prior.fallback_levels, catalog),
    ]
    for name in MATRICES:
        matrix = getattr(statistics, name)
        if matrix is None:
            continue
        coo = matrix.tocoo()
        order = np.lexsort((coo.col, coo.row))
        parts.append(_part(name, coo.nnz,
                           from_product_id=catalog.product_ids[coo.row[order]],
                           product_id=catalog.product_ids[coo.col[order]],
                           value=coo.data[order]))
    if statistics.taste is not None:
        names, _ = catalog.category_codes
        countries = [*statistics.taste.countries, None]
        parts.append(_part("taste", len(countries) * len(names),
                           country_code=np.repeat(np.asarray(countries, dtype=object),
                                                  len(names)),
                           category=np.tile(names, len(countries)),
                           value=statistics.taste.taste.ravel()))
    if statistics.share is not None:
        parts.append(_part("share", catalog.size, product_id=catalog.product_ids,
                           value=statistics.share))
    table = pa.concat_tables(parts).combine_chunks()
    n = table.num_rows
    as_of = pa.scalar(pd.Timestamp(statistics.as_of).date(), pa.date32())
    table = table.append_column(STATISTICS_SCHEMA.field("as_of_date"), pa.repeat(as_of, n))
    return table.append_column(
        STATISTICS_SCHEMA.field("parameters_json"),
        pa.repeat(pa.scalar(parameters_key(parameters), pa.string()), n),
    )


def _positions(catalog: Catalog, product_ids: pd.Series, statistic: str) -> np.ndarray:
    positions = catalog.positions(product_ids.to_numpy(dtype=np.int64))
    if (positions < 0).any():
        raise ValueError(f"recommender statistics: {statistic} names products that are not in "
                         "the catalogue; rebuild ml_recommender_statistics")
    return positions


def _dense_back(rows: pd.DataFrame, catalog: Catalog, statistic: str,
                keys: list[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rows = rows.sort_values(keys, kind="mergesort", na_position="last")
    positions = _positions(catalog, rows["product_id"], statistic)
    key_frame = rows[keys].drop_duplicates().reset_index(drop=True)
    n = len(key_frame)
    if len(rows) != n * catalog.size:
        raise ValueError(f"recommender statistics: {statistic} does not cover the catalogue")
    scores = np.zeros((n, catalog.size))
    levels = np.zeros((n, catalog.size), dtype=np.int8)
    row_of = np.repeat(np.arange(n), catalog.size)
    scores[row_of, positions] = rows["value"].to_numpy(dtype=np.float64)
    levels[row_of, positions] = rows["level"].to_numpy(dtype=np.int8)
    return key_frame, scores, levels


def statistics_from_frame(frame: pd.DataFrame, catalog: Catalog,
                          parameters: Mapping[str, Any], *,
                          stored_parameters: Iterable[str | None] | None = None
                          ) -> ShopStatistics:
    """:func:`statistics_table`'s rows back as :class:`ShopStatistics`, for ``catalog``.

    Args:
        frame: The rows.
        catalog: The catalogue the statistics are read for.
        parameters: The served parameters the rows must have been learned with.
        stored_parameters: The distinct ``parameters_json`` of the rows, when ``frame`` was
            read without that column (one long JSON repeated on every row: checked in SQL
            rather than copied to Python, :func:`~retail_ml.recommend.jobs.stored_statistics`).

    Raises:
        ValueError: When the rows were learned with other parameters, on several dates, or
            name a product outside ``catalog``.
    """
    if frame.empty:
        raise ValueError("recommender statistics: the table is empty; run the daily build")
    stored = set(
        frame["parameters_json"].unique() if stored_parameters is None else stored_parameters
    )
    if stored != {parameters_key(parameters)}:
        raise ValueError("recommender statistics were learned with other parameters than the "
                         "served ones; rebuild ml_recommender_statistics")
    days = frame["as_of_date"].unique()
    if len(days) != 1:
        raise ValueError(f"recommender statistics: {len(days)} as-of dates, expected one")
    parts = {name: part for name, part in frame.groupby("statistic", sort=False)}
    segments, scores, levels = _dense_back(parts["popularity"], catalog, "popularity",
                                           ["country_code", "signup_channel"])
    fallback_keys, fallback_scores, fallback_levels = _dense_back(
        parts["popularity_fallback"], catalog, "popularity_fallback", ["country_code"])
    prior = Popularity(
        segments=segments.astype({"country_code": object, "signup_channel": object}),
        scores=scores,
        levels=levels,
        countries=fallback_keys["country_code"].iloc[:-1].to_numpy(dtype=object),
        fallback_scores=fallback_scores,
        fallback_levels=fallback_levels,
    )
    matrices = {}
    for name in MATRICES:
        if name not in parts:
            matrices[name] = None
            continue
        part = parts[name]
        matrix = sparse.csr_matrix(
            (part["value"].to_numpy(dtype=np.float64),
             (_positions(catalog, part["from_product_id"], name),
              _positions(catalog, part["product_id"], name))),
            shape=(catalog.size, catalog.size),
        )
        matrix.sort_indices()
        matrices[name] = matrix
    taste = None
    if "taste" in parts:
        names, _ = catalog.category_codes
        part = parts["taste"].sort_values(["country_code", "category"], kind="mergesort",
                                          na_position="last")
        countries = part["country_code"].drop_duplicates()
        columns = pd.Index(names).get_indexer(part["category"])
        if (columns < 0).any() or len(part) != len(countries) * len(names):
            raise ValueError("recommender statistics: taste does not match the catalogue's "
                             "categories")
        values = np.zeros((len(countries), len(names)))
        values[np.repeat(np.arange(len(countries)), len(names)), columns] = part["value"]
        taste = CategoryTaste(countries=countries.iloc[:-1].to_numpy(dtype=object), taste=values)
    share = None
    if "share" in parts:
        part = parts["share"]
        share = np.zeros(catalog.size)
        share[_positions(catalog, part["product_id"], "share")] = part["value"]
    return ShopStatistics(
        as_of=np.datetime64(pd.Timestamp(days[0]).date(), "D"),
        prior=prior,
        similarity=matrices["similarity"],
        basket=matrices["basket"],
        next_order=matrices["next_order"],
        taste=taste,
        share=share,
    )
