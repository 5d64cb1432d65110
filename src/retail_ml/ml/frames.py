"""Arrow tables from the warehouse to the pandas frames the ML code works on."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def arrow_to_model_frame(table: pa.Table) -> pd.DataFrame:
    """Converts a warehouse Arrow table to pandas: DECIMAL and BOOLEAN columns to float64.

    Money is DECIMAL in the warehouse so that sums are exact and repeatable; a model only needs
    it as a number, and pandas would otherwise hold it as slow Python ``Decimal`` objects.
    Booleans become 0.0/1.0 with NaN for null: trees split on them as numbers, which scores
    several times faster than one-hot encoding them as categories, and a nullable boolean
    would otherwise arrive as an ``object`` column.

    A DECIMAL becomes the float64 nearest to its exact value (``431.96``, as DuckDB's cast gives
    it): Arrow's direct decimal-to-float cast is off by one unit in the last place for some
    values (``431.96000000000004``), which would make the model frame disagree with the
    warehouse (and its fingerprint, :mod:`retail_ml.ml.fingerprint`) for no reason. Going
    through the decimal text is exact, since parsing text to float rounds correctly.
    """
    columns = [
        _decimal_to_float64(column)
        if pa.types.is_decimal(column.type)
        else column.cast(pa.float64())
        if pa.types.is_boolean(column.type)
        else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names).to_pandas()


def _decimal_to_float64(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The float64 nearest to each decimal's exact value (nulls stay null)."""
    return column.cast(pa.string()).cast(pa.float64())
