"""Tests for retail_ml.recommend.report: the backtest's docs block and plots."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pandas as pd
import pytest

from retail_ml.recommend.report import main, render_markdown, render_plot

METHODS = {
    "blend": 0.62, "copurchase_cosine": 0.57, "buy_again": 0.50,
    "popularity_segment": 0.46, "popularity_country": 0.46, "popularity_global": 0.44,
}


def metrics_frame(blend_hit: float = 0.62) -> pd.DataFrame:
    rows = []
    for window in (1, 2):
        for method, hit in {**METHODS, "blend": blend_hit}.items():
            for metric, value in (("hit_rate_at_10", hit), ("recall_at_10", hit / 3)):
                best = METHODS["buy_again"] if metric == "hit_rate_at_10" else 0.5 / 3
                rows.append(
                    {
                        "method": method, "metric": metric,
                        "window_role": "tuning" if window == 1 else "reported",
                        "parameters_json": json.dumps(
                            {"repeat_weight": 0.05, "basket_weight": 0.3,
                             "next_order_weight": 0.2}
                        ),
                        "value": value, "ci_lower": value - 0.01, "ci_upper": value + 0.01,
                        "ratio_to_best_baseline": value / best, "window_number": window,
                        "k": 10, "customers_evaluated": 1234, "bootstrap_samples": 1000,
                        "is_served_method": method == "blend",
                        "is_baseline": method not in ("blend", "copurchase_cosine"),
                        "cutoff_date": date(2026, 9, 26 if window == 1 else 26),
                        "evaluation_end_date": date(2026, 10, 26),
                    }
                )
    return pd.DataFrame(rows)


def test_markdown_has_a_row_per_window_and_method_and_says_whether_the_target_is_met():
    text = render_markdown(metrics_frame())
    assert text.startswith("{% docs recommender_backtest_results %}")
    assert text.rstrip().endswith("{% enddocs %}")
    table = [line for line in text.splitlines() if line.startswith("| 1 (") or
             line.startswith("| 2 (")]
    assert len(table) == 2 * len(METHODS)
    assert "| 2 (reported) | 2026-09-26 | 1,234 | **blend** | 0.620 [0.610, 0.630] | 1.24 |" in text
    assert "`basket_weight` = 0.3" in text
    assert "1.24–1.24× (target 1.5×: not met); over the best popularity baseline" in text
    assert "alone: 1.35–1.35×" in text
    assert "target 1.5×: met" in render_markdown(metrics_frame(blend_hit=0.80))
    with pytest.raises(ValueError, match="empty"):
        render_markdown(metrics_frame().iloc[0:0])


def test_plots_are_png_and_the_same_for_the_same_metrics():
    first = render_plot(metrics_frame(), "hit_rate_at_10")
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert first == render_plot(metrics_frame(), "hit_rate_at_10")
    assert first != render_plot(metrics_frame(blend_hit=0.7), "hit_rate_at_10")


def test_cli_writes_the_docs_block_and_plots(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        frame = metrics_frame()  # noqa: F841 - read by DuckDB's replacement scan
        con.execute("create table ml_recommendation_metrics as select * from frame")
    assert main(["--db", str(db), "--project-dir", str(tmp_path)]) == 0
    docs = (tmp_path / "docs" / "recommender_backtest.md").read_text()
    assert docs == render_markdown(metrics_frame())
    for name in ("backtest_hit_rate.png", "backtest_recall.png"):
        assert (tmp_path / "assets" / "recommender" / name).read_bytes()[:4] == b"\x89PNG"
