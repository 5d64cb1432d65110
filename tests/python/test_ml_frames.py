"""Tests for retail_ml.ml.frames."""

from decimal import Decimal

import pyarrow as pa

from retail_ml.ml.frames import arrow_to_model_frame


def test_decimal_and_boolean_columns_become_float64_and_others_keep_their_type():
    table = pa.table(
        {
            "customer_id": pa.array([1, 2], pa.int64()),
            "net_sales": pa.array([Decimal("12.34"), None], pa.decimal128(18, 2)),
            "is_new": pa.array([True, None]),
            "country": pa.array(["DE", None]),
        }
    )
    frame = arrow_to_model_frame(table)
    assert str(frame["net_sales"].dtype) == "float64"
    assert frame["net_sales"].iloc[0] == 12.34 and frame["net_sales"].isna().iloc[1]
    assert str(frame["is_new"].dtype) == "float64"
    assert frame["is_new"].iloc[0] == 1.0 and frame["is_new"].isna().iloc[1]
    assert str(frame["customer_id"].dtype) == "int64"
    assert list(frame.columns) == ["customer_id", "net_sales", "is_new", "country"]


def test_decimals_become_the_nearest_float64_not_arrows_one_ulp_off_cast():
    values = [Decimal("431.96"), Decimal("0.07"), Decimal("-12.30"), None]
    column = pa.array(values, pa.decimal128(18, 2))
    frame = arrow_to_model_frame(pa.table({"net_sales": column}))
    assert frame["net_sales"].iloc[:3].tolist() == [431.96, 0.07, -12.3]
    assert frame["net_sales"].isna().iloc[3]
    # The direct cast the conversion avoids: one unit in the last place off for 431.96.
    assert column.cast(pa.float64())[0].as_py() != 431.96  # noqa: PLR2004
