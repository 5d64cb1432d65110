"""Arrow tables from the warehouse to the pandas frames the ML code works on."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def arrow_to_model_frame(table: pa.Table) -> pd.DataFrame:
    """Converts a warehouse Arrow table to pandas, DECIMAL columns to float64.

    Money is DECIMAL in the warehouse so that sums are exact and repeatable; a model only needs
    it as a number, and pandas would otherwise hold it as slow Python ``Decimal`` objects.
    """
    columns = [
        column.cast(pa.float64()) if pa.types.is_decimal(column.type) else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names).to_pandas()
