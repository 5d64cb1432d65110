"""Tests for retail_ml.ml.fingerprint (computed in DuckDB) and the registry's shortcut on it.

The registry decides "this version is registered already" from fingerprints computed in the
warehouse (retail_ml.ml.jobs.plan_model_version) before reading a row; these tests prove the
fingerprint sees every change and no reordering, that a warehouse table and its model frame
agree, and that the shortcut reads nothing yet gives the version a training run gives.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from retail_ml.ml.fingerprint import fingerprint_frame, fingerprint_relation
from retail_ml.ml.frames import arrow_to_model_frame
from retail_ml.ml.jobs import (
    plan_model_version,
    register_model_version,
    register_model_version_from_relations,
)
from retail_ml.ml.registry import REGISTRY_SCHEMA

COLUMNS = ["customer_id", "net_sales", "score", "orders", "country", "is_new", "cutoff_date"]
ROWS = [
    (1, "431.96", 0.5, 3, "DE", True, "2026-01-31"),
    (2, "12.30", None, None, None, False, "2026-01-31"),
    (3, "0.00", 0.25, 0, "", None, "2026-02-28"),
    (4, None, 1e-12, 7, "FR", True, "2026-02-28"),
]
# The warehouse's types: DECIMAL money, a nullable integer, BOOLEAN flags, dates.
CREATE = """
create table {name} (
    customer_id bigint, net_sales decimal(18, 2), score double, orders integer,
    country varchar, is_new boolean, cutoff_date date
)
"""


def _table(connection: duckdb.DuckDBPyConnection, name: str, rows) -> duckdb.DuckDBPyRelation:
    connection.execute(CREATE.format(name=name))
    if rows:
        connection.executemany(f"insert into {name} values (?, ?, ?, ?, ?, ?, ?)", rows)  # noqa: S608
    return connection.table(name)


@pytest.fixture
def connection():
    with duckdb.connect() as con:
        yield con


def test_equal_data_in_another_row_order_has_the_same_fingerprint(connection) -> None:
    reference = fingerprint_relation(_table(connection, "a", ROWS), COLUMNS)
    assert len(reference) == 64
    shuffled = fingerprint_relation(_table(connection, "b", list(reversed(ROWS))), COLUMNS)
    assert shuffled == reference


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (0, "customer_id", 9),
        (0, "net_sales", "431.97"),
        (0, "score", 0.5000000000000001),
        (1, "score", 0.0),  # a null becomes a value
        (1, "orders", 0),
        (2, "country", None),  # the empty string becomes a null
        (2, "is_new", False),
        (3, "cutoff_date", "2026-03-31"),
    ],
)
def test_one_changed_value_changes_the_fingerprint(connection, row, column, value) -> None:
    reference = fingerprint_relation(_table(connection, "a", ROWS), COLUMNS)
    changed = [list(r) for r in ROWS]
    changed[row][COLUMNS.index(column)] = value
    assert fingerprint_relation(_table(connection, "b", changed), COLUMNS) != reference


def test_rows_and_columns_are_part_of_the_fingerprint(connection) -> None:
    table = _table(connection, "a", ROWS)
    reference = fingerprint_relation(table, COLUMNS)
    assert fingerprint_relation(_table(connection, "b", ROWS[1:]), COLUMNS) != reference
    assert fingerprint_relation(_table(connection, "c", [*ROWS, ROWS[0]]), COLUMNS) != reference
    assert fingerprint_relation(table, COLUMNS[:-1]) != reference
    assert fingerprint_relation(table, [*COLUMNS[1:], COLUMNS[0]]) != reference
    # Columns not selected do not count.
    wider = table.select("*, 1 as unrelated")
    assert fingerprint_relation(wider, COLUMNS) == reference


def test_a_table_and_its_model_frame_have_the_same_fingerprint(connection) -> None:
    table = _table(connection, "a", ROWS)
    frame = arrow_to_model_frame(table.to_arrow_table())
    assert frame["net_sales"].iloc[0] == 431.96  # noqa: PLR2004 - the exact decimal
    # Arrow's direct cast is one unit in the last place off for this value: the conversion
    # arrow_to_model_frame avoids, or the two fingerprints would differ.
    direct = table.select("net_sales").to_arrow_table().column(0).cast(pa.float64())
    assert direct[0].as_py() != 431.96  # noqa: PLR2004
    shuffled = frame.sample(frac=1.0, random_state=1)
    assert fingerprint_frame(shuffled, COLUMNS) == fingerprint_relation(table, COLUMNS)


def test_unsupported_types_and_missing_columns_are_refused(connection) -> None:
    table = _table(connection, "a", ROWS).select("*, now() as loaded_at")
    with pytest.raises(ValueError, match="loaded_at"):
        fingerprint_relation(table, ["customer_id", "loaded_at"])
    with pytest.raises(ValueError, match=r"\['nope', 'gone'\]"):
        fingerprint_relation(table, ["customer_id", "nope", "gone"])
    with pytest.raises(ValueError, match="more than once"):
        fingerprint_relation(table, ["customer_id", "customer_id"])
    with pytest.raises(ValueError, match="at least one"):
        fingerprint_relation(table, [])
    with pytest.raises(ValueError, match=r"\['nope'\]"):
        fingerprint_frame(pd.DataFrame({"a": [1]}), ["a", "nope"])


# --- the registry's shortcut ---------------------------------------------------

NUMERIC = ["recency_days", "orders_90d", "net_sales_90d", "is_opt_in"]
CATEGORICAL = ["country"]
CUTOFFS = [dt.date(2011, 7, 31), dt.date(2011, 8, 31), dt.date(2011, 9, 30)]
TRAINED_AT = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
KEY = b"unit-test-signing-key-0123456789abcdef"


def _training_table(connection: duckdb.DuckDBPyConnection, n_customers: int = 100):
    """A training table with the warehouse's types: DECIMAL, nullable INTEGER, BOOLEAN."""
    rng = np.random.default_rng(0)
    parts = []
    for cutoff in CUTOFFS:
        recency = rng.exponential(60.0, n_customers)
        orders = rng.poisson(3, n_customers).astype("float64")
        orders[rng.random(n_customers) < 0.1] = np.nan  # a null: the column arrives as float64
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": np.arange(n_customers),
                    "cutoff_date": cutoff,
                    "recency_days": recency,
                    "orders_90d": orders,
                    "net_sales_90d": np.round(rng.gamma(2.0, 80.0, n_customers), 2),
                    "is_opt_in": rng.random(n_customers) < 0.5,
                    "country": pd.array(rng.choice(["UK", "DE", None], n_customers), dtype="str"),
                    "label": recency < 40.0,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    connection.register("training_frame", frame)
    connection.execute(
        """
        create table training as
        select
            customer_id, country, cast(orders_90d as integer) as orders_90d,
            cast(net_sales_90d as decimal(18, 2)) as net_sales_90d, recency_days, is_opt_in,
            label, cutoff_date
        from training_frame
        order by random()
        """
    )
    connection.execute(
        """
        create table baseline as
        select
            customer_id, cutoff_date, cast(0.3 as double) as probability,
            case when cutoff_date = (select max(cutoff_date) from training)
                then 'validation' else 'train' end as split
        from training
        """
    )
    return connection.table("training"), connection.table("baseline")


class _ReadCounter:
    """A DuckDB relation that counts how often it is read whole (everything else passes)."""

    def __init__(self, relation: duckdb.DuckDBPyRelation) -> None:
        self.relation = relation
        self.reads = 0

    def to_arrow_table(self) -> pa.Table:
        self.reads += 1
        return self.relation.to_arrow_table()

    def __getattr__(self, name: str):
        return getattr(self.relation, name)


def _register(training, baseline, **kwargs) -> pa.Table:
    return register_model_version_from_relations(
        training,
        baseline,
        NUMERIC,
        CATEGORICAL,
        model_name="purchase_30d",
        trained_at=TRAINED_AT,
        label_column="label",
        key=KEY,
        **kwargs,
    )


def test_the_planned_version_is_the_version_training_registers(connection) -> None:
    training, baseline = _training_table(connection)
    planned = plan_model_version(training, baseline, NUMERIC, CATEGORICAL, label_column="label")
    # The same tables read and trained the way notebooks do (frames).
    trained = register_model_version(
        arrow_to_model_frame(training.to_arrow_table()),
        NUMERIC,
        CATEGORICAL,
        model_name="purchase_30d",
        trained_at=TRAINED_AT,
        baseline=arrow_to_model_frame(baseline.to_arrow_table()),
        label_column="label",
        key=KEY,
    ).to_pandas()
    assert trained.loc[0, "model_version"] == planned
    # The nullable INTEGER arrives as float64 (it holds nulls): the version covers that dtype,
    # which plan_model_version takes from two probe rows, not from reading the table.
    dtypes = {c["name"]: c["dtype"] for c in json.loads(trained.loc[0, "feature_columns_json"])}
    assert dtypes["orders_90d"] == "float64"
    # The shortcut trains the same version from the relations.
    table = _register(training, baseline)
    assert table.column("model_version").to_pylist() == [planned]
    # A changed baseline, or a changed training value, is another version.
    connection.execute("update baseline set probability = 0.31 where customer_id = 0")
    assert plan_model_version(training, baseline, NUMERIC, CATEGORICAL, label_column="label") != (
        planned
    )
    connection.execute("update baseline set probability = 0.3")
    assert (
        plan_model_version(training, baseline, NUMERIC, CATEGORICAL, label_column="label")
        == planned
    )
    connection.execute(
        "update training set "
        "recency_days = recency_days + 1e-9 where customer_id = 5"
    )
    assert plan_model_version(training, baseline, NUMERIC, CATEGORICAL, label_column="label") != (
        planned
    )


def test_a_registered_version_reads_and_trains_nothing(connection) -> None:
    training, baseline = _training_table(connection)
    planned = plan_model_version(training, baseline, NUMERIC, CATEGORICAL, label_column="label")
    counted_training, counted_baseline = _ReadCounter(training), _ReadCounter(baseline)
    table = _register(counted_training, counted_baseline, registered_versions=[planned])
    assert table.num_rows == 0
    assert table.schema == REGISTRY_SCHEMA
    assert (counted_training.reads, counted_baseline.reads) == (0, 0)
    # Another version registered: this one is read once and trained.
    table = _register(counted_training, counted_baseline, registered_versions=["0123456789abcdef"])
    assert table.column("model_version").to_pylist() == [planned]
    assert (counted_training.reads, counted_baseline.reads) == (1, 1)


def test_shuffled_labels_take_no_shortcut(connection) -> None:
    training, baseline = _training_table(connection)
    planned = plan_model_version(training, baseline, NUMERIC, CATEGORICAL, label_column="label")
    table = _register(
        training, baseline, registered_versions=[planned], shuffle_train_labels_seed=7
    )
    assert table.num_rows == 1
    assert table.column("model_version").to_pylist() != [planned]
