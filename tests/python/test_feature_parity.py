"""Parity: the data scientists' pandas reference gives the same numbers as `feat_customer_daily`.

`notebooks/customer_features.py` rebuilds the customer features from the raw landing-zone files in
plain pandas, following the written specification (docs and model YAML), not the SQL. This test
runs it on the same generated raw data the `built_warehouse` fixture loaded with dbt and compares
every feature column of the spec, row by row, on a handful of as-of dates chosen to exercise the
edges: soon after the first signup, month-ends, mid-month, the latest day, a day on which orders
landed late and a day on which a signed-up customer's record had not landed yet.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pandas as pd
import pyarrow as pa
import pytest

from retail_ml.features import load_spec

pytestmark = pytest.mark.e2e

PROJECT_DIR = Path(__file__).resolve().parents[2]
NOTEBOOK_PATH = PROJECT_DIR / "notebooks" / "customer_features.py"
SEEDS_DIR = PROJECT_DIR / "seeds"
KEY = ["customer_id", "as_of_date"]
FLOAT_RELATIVE_TOLERANCE = 1e-9
EXAMPLES_PER_COLUMN = 5
# Arrow → pandas keeping nulls as nulls (an integer column with nulls would otherwise be float).
NULLABLE_PANDAS_TYPES = {
    pa.int32(): pd.Int64Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}

#: How each spec data type is compared.
COMPARISON_OF_TYPE = {
    "integer": "integer",
    "bigint": "integer",
    "decimal(18,2)": "money",
    "double": "float",
    "boolean": "exact",
    "varchar": "exact",
    "date": "date",
}
CUSTOMER_SPEC = load_spec(PROJECT_DIR / "features" / "customers.yml")
DAILY_CARRIER = next(c for c in CUSTOMER_SPEC.carriers if c.model == "feat_customer_daily")
# Every column of feat_customer_daily per the spec (features/customers.yml), with how it is
# compared: the key, every published feature, and the carrier's own columns.
SPEC_COLUMNS = {
    CUSTOMER_SPEC.key: "integer",
    **{f.name: COMPARISON_OF_TYPE[f.data_type] for f in CUSTOMER_SPEC.published},
    "is_latest": "exact",
    "as_of_date": "date",
}
assert set(DAILY_CARRIER.extra_columns) <= set(SPEC_COLUMNS), DAILY_CARRIER


def load_notebook() -> ModuleType:
    """Imports notebooks/customer_features.py by path (notebooks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("customer_features_notebook", NOTEBOOK_PATH)
    assert spec is not None and spec.loader is not None, NOTEBOOK_PATH
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def last_day_of_month(day: date) -> date:
    next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return next_month - timedelta(days=1)


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    return date(month_index // 12, month_index % 12 + 1, 1)


def choose_as_of_dates(con) -> dict[str, date]:
    """Edge-exercising as-of dates, found in the built data."""
    first_day, latest_day = con.execute(
        "select min(as_of_date), max(as_of_date) from int_feature_dates_spined"
    ).fetchone()
    # The day on which the most orders were placed that landed only on a later day: windows on
    # that day must leave them out, later days must count them.
    late_day, late_orders = con.execute(
        """
        select cast(ordered_at as date) as order_date, count(*) as late_orders
        from stg_shop__orders
        where cast(loaded_at as date) > cast(ordered_at as date)
        group by order_date
        order by late_orders desc, order_date
        limit 1
        """
    ).fetchone()
    assert late_orders > 0, "the generator lands about 1% of rows late"
    # The first signup day of a customer whose record landed only on a later day: no row yet.
    (late_customer_day,) = con.execute(
        """
        select min(signup_date) from (
            select cast(min(signup_at) as date) as signup_date
            from stg_shop__customers
            group by customer_id
            having min(cast(loaded_at as date)) > cast(min(signup_at) as date)
        )
        """
    ).fetchone()
    assert late_customer_day is not None, "the generator lands a few customer records late"
    dates = {
        "20 days after the first signup": first_day + timedelta(days=20),
        "month-end, 9 months back": last_day_of_month(months_before(latest_day, 9)),
        "month-end, 5 months back": last_day_of_month(months_before(latest_day, 5)),
        "month-end, last month": last_day_of_month(months_before(latest_day, 1)),
        "mid-month, 3 months back": months_before(latest_day, 3).replace(day=15),
        "latest complete day": latest_day,
        f"late-landed rows ({late_orders} orders placed then, landed later)": late_day,
        "a customer signed up whose record landed later": late_customer_day,
    }
    assert all(first_day <= day <= latest_day for day in dates.values()), dates
    return dates


def read_mart(con, as_of_dates: list[date]) -> pd.DataFrame:
    # Through Arrow, so DECIMAL money arrives as Decimal, not float.
    # Literal dates: the view computes only the dates the filter names (a subquery would make it
    # compute every date).
    dates = ", ".join(f"date '{day.isoformat()}'" for day in as_of_dates)
    return (
        con.execute(f"select * from feat_customer_daily where as_of_date in ({dates})")  # noqa: S608
        .to_arrow_table()
        .to_pandas(types_mapper=NULLABLE_PANDAS_TYPES.get)
    )


def as_dates(values: pd.Series) -> pd.Series:
    return pd.Series(
        [None if pd.isna(v) else pd.Timestamp(v).date() for v in values],
        index=values.index,
        dtype=object,
    )


def as_cents(values: pd.Series) -> pd.Series:
    def cents(value: object) -> object:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return pd.NA
        exact = Decimal(value) * 100
        assert exact == exact.to_integral_value(), f"not whole cents: {value!r}"
        return int(exact)

    return pd.Series([cents(v) for v in values], index=values.index, dtype="Int64")


def mismatches(kind: str, pandas_values: pd.Series, sql_values: pd.Series) -> pd.Series:
    """True where the two sides differ (a null on one side only is a difference)."""
    if kind == "money":
        pandas_values, sql_values = as_cents(pandas_values), as_cents(sql_values)
    elif kind == "date":
        pandas_values, sql_values = as_dates(pandas_values), as_dates(sql_values)
    elif kind == "integer":
        pandas_values, sql_values = pandas_values.astype("Int64"), sql_values.astype("Int64")
    elif kind == "float":
        pandas_values = pandas_values.astype("Float64")
        sql_values = sql_values.astype("Float64")
    pandas_null, sql_null = pandas_values.isna(), sql_values.isna()
    both = ~pandas_null & ~sql_null
    if kind == "float":
        left = pandas_values[both].astype(float)
        right = sql_values[both].astype(float)
        scale = pd.concat([left.abs(), right.abs()], axis=1).max(axis=1)
        differ_values = (left - right).abs() > FLOAT_RELATIVE_TOLERANCE * scale
    else:
        differ_values = pd.Series(
            [a != b for a, b in zip(pandas_values[both], sql_values[both], strict=True)],
            index=pandas_values[both].index,
            dtype=bool,
        )
    differ = pandas_null != sql_null
    differ[both] = differ_values
    return differ.astype(bool)


def describe_key_differences(pandas_keys: set, sql_keys: set) -> list[str]:
    problems = []
    for label, keys in (
        ("rows only in the pandas reference", pandas_keys - sql_keys),
        ("rows only in feat_customer_daily", sql_keys - pandas_keys),
    ):
        if keys:
            sample = sorted(keys)[:EXAMPLES_PER_COLUMN]
            problems.append(f"{len(keys)} {label}, e.g. (customer_id, as_of_date) {sample}")
    return problems


def compare_features(reference: pd.DataFrame, mart: pd.DataFrame) -> list[str]:
    """Every difference between the pandas reference and the mart, as readable lines."""
    problems = []
    missing_in_mart = [c for c in SPEC_COLUMNS if c not in mart.columns]
    if missing_in_mart:
        problems.append(f"feat_customer_daily lacks spec columns: {missing_in_mart}")
    missing_in_reference = [c for c in SPEC_COLUMNS if c not in reference.columns]
    if missing_in_reference:
        problems.append(f"the pandas reference lacks spec columns: {missing_in_reference}")

    reference = reference.assign(as_of_date=as_dates(reference["as_of_date"]))
    mart = mart.assign(as_of_date=as_dates(mart["as_of_date"]))
    problems += describe_key_differences(
        set(reference[KEY].itertuples(index=False, name=None)),
        set(mart[KEY].itertuples(index=False, name=None)),
    )

    both = reference.merge(mart, on=KEY, how="inner", suffixes=("_pandas", "_sql"))
    for column, kind in SPEC_COLUMNS.items():
        if column in KEY or column in missing_in_mart or column in missing_in_reference:
            continue
        pandas_values, sql_values = both[f"{column}_pandas"], both[f"{column}_sql"]
        differ = mismatches(kind, pandas_values, sql_values)
        if not differ.any():
            continue
        if kind == "date":
            pandas_values, sql_values = as_dates(pandas_values), as_dates(sql_values)
        shown = repr if kind == "float" else str  # all the digits of a float
        examples = both.loc[differ, KEY].assign(
            pandas=pandas_values[differ].map(shown), sql=sql_values[differ].map(shown)
        )
        per_day = examples.groupby("as_of_date").size().to_dict()
        problems.append(
            f"{column} ({kind}): {int(differ.sum())} of {len(both)} rows differ"
            f" (per as-of date: {per_day}); e.g.\n"
            + examples.head(EXAMPLES_PER_COLUMN).to_string(index=False)
        )
    return problems


@pytest.fixture(scope="module")
def parity_frames(built_warehouse):
    with built_warehouse.connect() as con:
        chosen = choose_as_of_dates(con)
        as_of_dates = sorted(set(chosen.values()))
        mart = read_mart(con, as_of_dates)
    notebook = load_notebook()
    started = time.perf_counter()
    reference = notebook.build_customer_features(built_warehouse.raw_dir, as_of_dates, SEEDS_DIR)
    elapsed = time.perf_counter() - started
    print(f"pandas reference: {len(reference)} rows, {len(as_of_dates)} dates, {elapsed:.1f} s")
    print("as-of dates:", {label: day.isoformat() for label, day in chosen.items()})
    return chosen, reference, mart


def test_pandas_reference_matches_feat_customer_daily(parity_frames):
    chosen, reference, mart = parity_frames
    assert len(mart) > 0, f"feat_customer_daily has no rows on {sorted(chosen.values())}"
    problems = compare_features(reference, mart)
    assert not problems, (
        f"pandas reference vs feat_customer_daily on {sorted(set(chosen.values()))}:\n\n"
        + "\n\n".join(problems)
    )


def test_every_chosen_date_has_customers(parity_frames):
    chosen, reference, _ = parity_frames
    rows_per_day = as_dates(reference["as_of_date"]).value_counts()
    empty = {label: day for label, day in chosen.items() if rows_per_day.get(day, 0) == 0}
    assert not empty, f"no customers on {empty}"


def test_mart_has_exactly_the_spec_columns(parity_frames):
    """No column the spec does not know, none missing, in the spec's order."""
    _, _, mart = parity_frames
    assert list(mart.columns) == list(SPEC_COLUMNS)
