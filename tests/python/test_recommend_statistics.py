"""ml_recommender_statistics: the shop-wide statistics survive their table bit for bit, an unseen
segment gets exactly the row popularity() would give it, and reading refuses statistics that
do not belong to the served parameters or the catalogue."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from retail_ml.recommend import (
    RecommenderConfig,
    build_catalog,
    learn,
    order_lines_as_of,
    popularity,
    purchase_history,
    statistics_from_frame,
    statistics_table,
)
from retail_ml.recommend.jobs import stored_statistics
from retail_ml.recommend.statistics import _repeated_text
from test_recommend_evaluation import backtest_inputs, shop_lines


@pytest.fixture(scope="module")
def case() -> dict:
    shop = backtest_inputs(shop_lines())
    day = shop["windows"]["evaluation_end_date"].max()
    population = shop["customers"].drop_duplicates("customer_id").reset_index(drop=True)
    population["country_code"] = np.where(population["customer_id"] % 3 == 0, "FR", "DE")
    population["signup_channel"] = np.where(population["customer_id"] % 2 == 0, "app", "web")
    population.loc[population.index[5], "country_code"] = None
    catalog = build_catalog(shop["catalogue"].drop_duplicates("product_id"))
    return {"day": day, "population": population, "catalog": catalog,
            "lines": order_lines_as_of(shop["lines"], day)}


def _round_trip(statistics, catalog, parameters):
    table = statistics_table(statistics, catalog, parameters)
    return table, statistics_from_frame(table.to_pandas(), catalog, parameters)


def _assert_same_matrix(a, b):
    assert (a is None) == (b is None)
    if a is not None:
        assert a.shape == b.shape
        np.testing.assert_array_equal(a.toarray(), b.toarray())


@pytest.mark.parametrize("parameters", [
    {"method": "blend", "basket_weight": 0.2},
    {"method": "copurchase", "similarity": "counts"},
    {"method": "popularity", "popularity_level": "country", "popularity_shrinkage": 0.0},
    {"method": "buy_again", "popularity_level": "global"},
])
def test_statistics_survive_their_table_bit_for_bit(case, parameters):
    config = RecommenderConfig.from_mapping(parameters)
    learned = learn(case["population"], case["lines"], case["catalog"], as_of=case["day"],
                    config=config)
    table, back = _round_trip(learned, case["catalog"], parameters)
    assert table.num_rows > 0
    assert back.as_of == learned.as_of
    pd.testing.assert_frame_equal(back.prior.segments, learned.prior.segments, check_dtype=False)
    for name in ("scores", "levels", "countries", "fallback_scores", "fallback_levels"):
        np.testing.assert_array_equal(getattr(back.prior, name), getattr(learned.prior, name))
    for name in ("similarity", "basket", "next_order"):
        _assert_same_matrix(getattr(back, name), getattr(learned, name))
    assert (back.taste is None) == (learned.taste is None)
    if learned.taste is not None:
        np.testing.assert_array_equal(back.taste.countries, learned.taste.countries)
        np.testing.assert_array_equal(back.taste.taste, learned.taste.taste)
        np.testing.assert_array_equal(back.share, learned.share)


@pytest.mark.parametrize("level", ["segment", "country", "global"])
@pytest.mark.parametrize("shrinkage", [0.0, 7.0])
def test_an_unseen_segment_gets_the_row_popularity_would_give_it(case, level, shrinkage):
    """Popularity.covering against popularity() recomputed with the new customers in the
    population (they bought nothing yet): a new channel of a known country, a new country."""
    history = purchase_history(case["lines"])
    recent = history[history["last_order_date"] > np.datetime64(case["day"] - timedelta(days=90))]
    learned = popularity(recent, case["population"], case["catalog"], level=level,
                         shrinkage=shrinkage)
    newcomers = pd.DataFrame({"customer_id": [1001, 1002, 1003],
                              "country_code": ["DE", "ZZ", None],
                              "signup_channel": ["kiosk", "web", "kiosk"]})
    covered = learned.covering(newcomers)
    recomputed = popularity(recent, pd.concat([case["population"], newcomers]), case["catalog"],
                            level=level, shrinkage=shrinkage)
    ours, theirs = covered.segment_of(newcomers), recomputed.segment_of(newcomers)
    np.testing.assert_array_equal(covered.scores[ours], recomputed.scores[theirs])
    np.testing.assert_array_equal(covered.levels[ours], recomputed.levels[theirs])
    # The segments everyone already had keep their rows.
    assert learned.covering(case["population"]) is learned


def test_reading_refuses_other_parameters_other_products_and_no_rows(case):
    parameters = {"method": "blend"}
    learned = learn(case["population"], case["lines"], case["catalog"], as_of=case["day"],
                    config=RecommenderConfig.from_mapping(parameters))
    frame = statistics_table(learned, case["catalog"], parameters).to_pandas()
    with pytest.raises(ValueError, match="other parameters"):
        statistics_from_frame(frame, case["catalog"], {"method": "blend", "basket_weight": 0.9})
    smaller = build_catalog(pd.DataFrame({
        "product_id": case["catalog"].product_ids[:-1],
        "product_name": case["catalog"].product_names[:-1],
        "category": case["catalog"].categories[:-1],
        "is_repurchase_typical": case["catalog"].is_repurchase_typical[:-1],
        "is_launched": case["catalog"].is_launched[:-1],
        "launched_date": case["catalog"].launched_dates[:-1],
    }))
    with pytest.raises(ValueError, match="not in the catalogue"):
        statistics_from_frame(frame, smaller, parameters)
    with pytest.raises(ValueError, match="empty"):
        statistics_from_frame(frame.iloc[:0], case["catalog"], parameters)


def test_statistics_of_another_day_are_refused(case):
    """The closed day's recommendations and the fresh ones read the statistics of the closed
    day they serve; a table left from another day (e.g. a daily run that failed before
    rebuilding it) stops the model with one line instead of serving stale statistics."""
    parameters = {"method": "blend"}
    learned = learn(case["population"], case["lines"], case["catalog"], as_of=case["day"],
                    config=RecommenderConfig.from_mapping(parameters))
    stored = statistics_table(learned, case["catalog"], parameters)  # noqa: F841 - read by DuckDB
    with duckdb.connect() as con:
        relation = con.sql("select * from stored")
        assert stored_statistics(relation, case["catalog"], parameters,
                                 np.datetime64(case["day"])).as_of == learned.as_of
        with pytest.raises(ValueError, match="rebuild ml_recommender_statistics"):
            stored_statistics(relation, case["catalog"], parameters,
                              np.datetime64(case["day"] + timedelta(days=1)))


def test_stored_statistics_check_the_parameters_in_sql_as_the_frame_does(case):
    """stored_statistics reads the rows without parameters_json (checked in SQL): still one
    clear error for other parameters, mixed parameters or an empty table."""
    parameters = {"method": "blend"}
    learned = learn(case["population"], case["lines"], case["catalog"], as_of=case["day"],
                    config=RecommenderConfig.from_mapping(parameters))
    stored = statistics_table(learned, case["catalog"], parameters)  # noqa: F841 - read by DuckDB
    day = np.datetime64(case["day"])
    with duckdb.connect() as con:
        relation = con.sql("select * from stored")
        read = stored_statistics(relation, case["catalog"], parameters, day)
        expected = statistics_from_frame(stored.to_pandas(), case["catalog"], parameters)
        for name in ("basket", "next_order"):
            got, want = getattr(read, name), getattr(expected, name)
            assert all(np.array_equal(getattr(got, a), getattr(want, a))
                       for a in ("data", "indices", "indptr"))
        np.testing.assert_array_equal(read.share, expected.share)
        np.testing.assert_array_equal(read.prior.scores, expected.prior.scores)
        with pytest.raises(ValueError, match="other parameters"):
            stored_statistics(relation, case["catalog"], {"method": "blend", "k": 5}, day)
        mixed = con.sql("select * replace (case when statistic = 'share' then '{}' "
                        "else parameters_json end as parameters_json) from stored")
        with pytest.raises(ValueError, match="other parameters"):
            stored_statistics(mixed, case["catalog"], parameters, day)
        with pytest.raises(ValueError, match="empty"):
            stored_statistics(relation.limit(0), case["catalog"], parameters, day)


@pytest.mark.parametrize("values", [
    ["DE", "FR", None, "DE"],
    [None, np.nan, "x"],
    [np.nan],
    [],
])
@pytest.mark.parametrize("times", [0, 1, 3])
def test_repeated_keys_by_index_equal_the_repeated_objects_converted(values, times):
    """The segment keys of the dense popularity rows, repeated by index in Arrow, are what
    converting every repeated Python object gave (None and NaN null)."""
    keys = pd.Series(values, dtype=object)
    expected = pa.array(np.repeat(keys.to_numpy(dtype=object), times), type=pa.string(),
                        from_pandas=True)
    got = _repeated_text(keys, times)
    assert got.type == pa.string() and got.equals(expected)


@pytest.mark.parametrize("parameters", [
    {"method": "blend"},
    {"method": "popularity", "popularity_level": "country"},
])
def test_statistics_table_equals_its_rows_made_from_python_objects(case, parameters):
    """statistics_table with the keys repeated in Arrow is the table of the object columns."""
    config = RecommenderConfig.from_mapping(parameters)
    statistics = learn(case["population"], case["lines"], case["catalog"], as_of=case["day"],
                       config=config)
    table = statistics_table(statistics, case["catalog"], parameters)

    def by_objects(values: pd.Series, times: int) -> np.ndarray:
        return np.repeat(values.to_numpy(dtype=object), times)

    with mock.patch("retail_ml.recommend.statistics._repeated_text", by_objects):
        expected = statistics_table(statistics, case["catalog"], parameters)
    assert table.schema == expected.schema and table.equals(expected)
