"""Tests for retail_ml.recommend.incremental: the backtest's fingerprint covers exactly what it
reads, so a matching fingerprint may skip the backtest and a changed input row may not.

The inputs are the small shop of test_recommend_evaluation as real DuckDB tables (the relations
the dbt Python model gets); the backtest runs on them for real.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from retail_ml.recommend import (
    METRICS_SCHEMA,
    BacktestRelations,
    RecommenderConfig,
    evaluate_backtest,
    input_fingerprint,
    recommendation_metrics_if_changed,
    stored_fingerprints,
)
from retail_ml.recommend.incremental import backtest_reads, metrics_table
from test_recommend_evaluation import CATEGORIES, backtest_inputs, shop_lines

TABLES = {
    "windows": "int_recommender_backtest_windows",
    "customers": "int_recommender_evaluation_customers",
    "lines": "int_recommender_order_lines",
    "catalogue": "int_product_catalogue_requested",
    "actual": "int_recommender_evaluation_purchases",
}
PARAMETERS = {"k": 10, "method": "blend", "sequence_neighbours": 20}


def shop_frames() -> dict[str, pd.DataFrame]:
    """The shop's inputs plus what the warehouse also holds but the backtest never reads: the
    serving day's catalogue, lines known after the newest cutoff, and cancellations known
    after it."""
    frames = backtest_inputs(shop_lines())
    newest = frames["windows"]["cutoff_date"].max()
    serving = newest + timedelta(days=30)
    frames["catalogue"] = pd.concat(
        [frames["catalogue"], frames["catalogue"].query("as_of_date == @newest").assign(
            as_of_date=serving)],
        ignore_index=True,
    )
    lines = frames["lines"].copy()
    later = pd.to_datetime(lines["known_date"]) > pd.Timestamp(newest)
    assert later.any() and (~later).any()
    # Some orders known before the newest cutoff are cancelled, the cancellation known after it.
    cancelled = lines.index[~later][::7]
    lines.loc[cancelled, "retracted_date"] = newest + timedelta(days=3)
    frames["lines"] = lines
    return frames


def load(frames: dict[str, pd.DataFrame]) -> tuple[duckdb.DuckDBPyConnection, BacktestRelations]:
    con = duckdb.connect()
    for name, table in TABLES.items():
        # A copy: DuckDB cannot scan the negative strides of a reversed frame.
        frame = frames[name].copy().reset_index(drop=True)  # noqa: F841 - read by DuckDB
        con.execute(f"create table {table} as select * from frame")  # noqa: S608 - fixed names
    for column in ["order_date", "known_date", "retracted_date"]:
        con.execute(f"alter table {TABLES['lines']} alter {column} type date")
    relations = BacktestRelations(**{name: con.table(table) for name, table in TABLES.items()})
    return con, relations


def fingerprint(frames: dict[str, pd.DataFrame], parameters: dict | None = None) -> str:
    con, relations = load(frames)
    with con:
        return input_fingerprint(backtest_reads(relations), parameters or PARAMETERS)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return shop_frames()


@pytest.fixture(scope="module")
def computed(frames) -> pd.DataFrame:
    con, relations = load(frames)
    with con:
        table = recommendation_metrics_if_changed(relations, parameters=PARAMETERS)
    return table.to_pandas()


def test_a_full_build_computes_every_row_with_its_fingerprint(frames, computed):
    assert len(computed) == 3 * 6 * 2
    assert list(computed.columns) == METRICS_SCHEMA.names
    assert computed["input_fingerprint"].nunique() == 1
    assert computed["input_fingerprint"].iloc[0] == fingerprint(frames)


def test_the_rows_equal_the_backtest_on_the_whole_inputs(frames, computed):
    """Reading only the fingerprinted rows changes no result: the backtest on every row of the
    inputs (serving-day catalogue, later lines and cancellations included) gives the same."""
    whole = evaluate_backtest(
        frames["windows"], frames["customers"], frames["lines"], frames["catalogue"],
        frames["actual"], config=RecommenderConfig.from_mapping(PARAMETERS),
    )
    expected = metrics_table(whole, computed["input_fingerprint"].iloc[0]).to_pandas()
    pd.testing.assert_frame_equal(computed, expected)


def test_the_same_fingerprint_computes_nothing(frames, computed):
    con, relations = load(frames)
    with con:
        skipped = recommendation_metrics_if_changed(
            relations, parameters=PARAMETERS,
            stored_fingerprints=[computed["input_fingerprint"].iloc[0]],
        )
        # Rows from before the column existed, or of two fingerprints: recomputed.
        for stored in ([None], [computed["input_fingerprint"].iloc[0], "0" * 64]):
            again = recommendation_metrics_if_changed(
                relations, parameters=PARAMETERS, stored_fingerprints=stored
            )
            assert again.num_rows == len(computed)
    assert skipped.num_rows == 0 and skipped.schema == METRICS_SCHEMA


def test_rows_the_backtest_does_not_read_leave_the_fingerprint_unchanged(frames):
    base = fingerprint(frames)
    newest = frames["windows"]["cutoff_date"].max()
    lines = frames["lines"]
    later = pd.to_datetime(lines["known_date"]) > pd.Timestamp(newest)
    changed = {
        # Row order.
        "shuffled": {**frames, "lines": lines.sample(frac=1.0, random_state=1),
                     "actual": frames["actual"].iloc[::-1]},
        # A line known after the newest cutoff.
        "later line": {**frames, "lines": lines.assign(
            product_id=np.where(later & (lines.index == later.idxmax()), 17,
                                lines["product_id"]))},
        # A cancellation known after the newest cutoff, now known later still.
        "later cancellation": {**frames, "lines": lines.assign(
            retracted_date=lines["retracted_date"].map(
                lambda d: d + timedelta(days=5) if pd.notna(d) else d))},
        # The serving day's catalogue.
        "serving catalogue": {**frames, "catalogue": frames["catalogue"].assign(
            product_name=np.where(frames["catalogue"]["as_of_date"] > newest, "renamed",
                                  frames["catalogue"]["product_name"]))},
        # A parameter left at its default, spelled out.
        "explicit default": None,
    }
    for name, changed_frames in changed.items():
        if changed_frames is None:
            assert fingerprint(frames, {**PARAMETERS, "chunk_size": 2048}) == base, name
        else:
            assert fingerprint(changed_frames) == base, name


def test_one_changed_row_the_backtest_reads_changes_the_fingerprint(frames):
    base = fingerprint(frames)
    newest = frames["windows"]["cutoff_date"].max()
    lines = frames["lines"]
    known = (pd.to_datetime(lines["known_date"]) <= pd.Timestamp(newest)).to_numpy()
    first_known = int(np.flatnonzero(known)[0])
    other = {p for p in CATEGORIES if p not in set(
        lines.loc[lines["order_id"] == lines.at[first_known, "order_id"], "product_id"])}
    first_later = int(np.flatnonzero(~known)[0])
    actual = frames["actual"]
    changed = {
        "line": {**frames, "lines": lines.assign(product_id=np.where(
            lines.index == first_known, min(other), lines["product_id"]))},
        "a line known on the newest cutoff": {**frames, "lines": lines.assign(
            known_date=np.where(lines.index == first_later, newest, lines["known_date"]),
            order_date=np.where(lines.index == first_later, newest, lines["order_date"]))},
        "cancellation on the newest cutoff": {**frames, "lines": lines.assign(
            retracted_date=np.where(lines.index == first_known, newest,
                                    lines["retracted_date"]))},
        "ground truth": {**frames, "actual": actual.drop(index=actual.index[0])},
        "population": {**frames, "customers": frames["customers"].assign(
            country_code=np.where(frames["customers"].index == 0, "FR", "DE"))},
        "catalogue on a cutoff": {**frames, "catalogue": frames["catalogue"].assign(
            is_launched=np.where(frames["catalogue"].index == 0, False,
                                 frames["catalogue"]["is_launched"]))},
        "windows": {**frames, "windows": frames["windows"].assign(
            window_role=np.where(frames["windows"]["window_number"] == 1, "tuning",
                                 "reported"),
            cutoff_date=frames["windows"]["cutoff_date"] - timedelta(days=1),
            evaluation_end_date=frames["windows"]["evaluation_end_date"] - timedelta(days=1))},
    }
    for name, changed_frames in changed.items():
        assert fingerprint(changed_frames) != base, name
    assert fingerprint(frames, {**PARAMETERS, "sequence_neighbours": 21}) != base


def test_stored_fingerprints_of_a_table_with_and_without_the_column(computed):
    con = duckdb.connect()
    with con:
        con.execute("create table old as select * exclude (input_fingerprint) from computed")
        con.execute("create table new as select * from computed")
        assert stored_fingerprints(con, "old") == [None]
        assert stored_fingerprints(con, "new") == [computed["input_fingerprint"].iloc[0]]
