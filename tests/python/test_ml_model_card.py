"""Tests for retail_ml.ml.model_card: the docs block and plots of the registered model."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from retail_ml.ml.model_card import (
    PLOTS,
    build_model_cards,
    first_paragraph,
    main,
    write_model_cards,
)
from retail_ml.ml.model_card_sections import (
    LifecycleData,
    backtest_markdown,
    champions_markdown,
    monitoring_markdown,
    render_section_plots,
)

#: The lifecycle plots a fresh build has data for (no realised outcome yet).
LIFECYCLE_PLOTS = ["backtest", "score_drift", "feature_psi", "calibration_by_month"]


def test_first_paragraph_is_one_table_safe_line() -> None:
    text = "Net sales, EUR. **Net sales**\n(EUR | cents).\n\n- Of an order line: more."
    assert first_paragraph(text) == "Net sales, EUR. **Net sales** (EUR \\| cents)."
    assert first_paragraph("") == ""


def test_missing_warehouse_keeps_the_existing_cards(tmp_path, capsys) -> None:
    assert main(["--db", str(tmp_path / "none.duckdb"), "--project-dir", str(tmp_path)]) == 0
    assert "no warehouse" in capsys.readouterr().err
    assert not (tmp_path / "docs").exists()


@pytest.mark.e2e
def test_card_of_the_registered_version(built_warehouse, tmp_path) -> None:
    assets = tmp_path / "assets" / "model_card" / "purchase_30d"
    assets.mkdir(parents=True)
    # A plot of an older warehouse with no data in this one must not survive.
    (assets / "realised_lift.png").write_bytes(b"stale")
    written = write_model_cards(built_warehouse.db_path, tmp_path)
    docs_file = tmp_path / "docs" / "model_card_purchase_30d.md"
    plots = [*PLOTS, *LIFECYCLE_PLOTS]
    images = [assets / f"{p}.png" for p in plots]
    assert written == [docs_file, *images]
    assert sorted(path.stem for path in assets.glob("*.png")) == sorted(plots)

    for image in images:
        with Image.open(image) as png:
            assert png.format == "PNG"
            assert png.size[0] >= 300 and png.size[1] >= 300
            png.verify()

    markdown = docs_file.read_text()
    with duckdb.connect(str(built_warehouse.db_path), read_only=True) as con:
        (version,) = con.execute("select model_version from ml_model_registry").fetchone()
        metrics = con.execute(
            "select scorer, split, metric, metric_value from ml_model_metrics"
        ).fetchall()
        features = json.loads(
            con.execute("select feature_columns_json from ml_model_registry").fetchone()[0]
        )
        cutoffs = [
            row[0]
            for row in con.execute(
                "select distinct evaluated_cutoff from ml_model_backtest order by 1"
            ).fetchall()
        ]
    assert len(cutoffs) == 4
    assert markdown.startswith("{% docs model_card_purchase_30d %}")
    assert "{% enddocs %}\n\n{% docs model_card_purchase_30d_evaluation %}" in markdown
    assert markdown.rstrip().endswith("{% enddocs %}")
    assert f"version `{version}`" in markdown
    assert len(metrics) == 24
    for _scorer, _split, _metric, value in metrics:
        assert f"{round(value, 4) + 0.0:.4f}" in markdown
    for plot in plots:
        assert f"(assets/model_card/purchase_30d/{plot}.png)" in markdown
    assert "realised_lift.png" not in markdown
    assert "no published score's outcome is complete yet" in markdown
    assert f"| 1 | `{version}` | promote |" in markdown
    for cutoff in cutoffs:
        assert f"| {cutoff} | " in markdown
    for feature in features:
        assert f"| `{feature['name']}` |" in markdown
    assert "| `days_since_last_order` | numeric |" in markdown
    assert "As-of date minus the date of the last non-cancelled order" in markdown


@pytest.mark.e2e
def test_cards_are_reproducible(built_warehouse) -> None:
    first, second = (
        build_model_cards(built_warehouse.db_path),
        build_model_cards(built_warehouse.db_path),
    )
    assert [(c.markdown, c.images) for c in first] == [(c.markdown, c.images) for c in second]


@pytest.mark.e2e
def test_docs_site_shows_the_card_on_the_registry(built_warehouse) -> None:
    manifest = json.loads((built_warehouse.db_path.parent / "target" / "manifest.json").read_text())
    description = manifest["nodes"]["model.retail_ml.ml_model_registry"]["description"]
    assert "**Intended use.**" in description
    assert "## Model card: `purchase_30d`" in description
    assert "(assets/model_card/purchase_30d/roc_curve.png)" in description
    assert "**Active customer**" in description
    assert "**Quality gates.**" in description
    assert "### Rolling backtest" in description
    assert "(assets/model_card/purchase_30d/backtest.png)" in description
    assert "### Monitoring" in description
    assert "### Champion history" in description


def _lifecycle(**overrides) -> LifecycleData:
    empty = pd.DataFrame()
    fields = {
        "champions": pd.DataFrame(
            {
                "champion_seq": [1, 2],
                "model_version": ["aaaa", "bbbb"],
                "action": ["promote", "rollback"],
                "reason": ["gates passed", "bad | campaign"],
                "previous_model_version": [None, "aaaa"],
            }
        ),
        "backtest": empty,
        "calibration": empty,
        "drift": empty,
        "serving_scores": np.array([]),
        "realised_lift": empty,
        **overrides,
    }
    return LifecycleData(**fields)


def test_lifecycle_sections_without_data_say_so_and_draw_nothing() -> None:
    data = _lifecycle()
    champions = champions_markdown("m", data.champions)
    assert "| 2 | `bbbb` | rollback | bad \\| campaign | `aaaa` |" in champions
    assert "no backtest rows" in backtest_markdown("m", data.backtest)
    monitoring = monitoring_markdown("m", data)
    assert "no published score's outcome is complete yet" in monitoring
    assert render_section_plots(data, {}, psi_warn=0.1, psi_alert=0.25) == {}


def test_realised_lift_is_shown_once_an_outcome_is_complete() -> None:
    lift = pd.DataFrame(
        {
            "as_of_date": [dt.date(2026, 9, 1)] * 3,
            "decile": [1, 2, 3],
            "n_customers": [10, 10, 10],
            "mean_probability": [0.8, 0.5, 0.2],
            "realised_rate": [0.9, 0.5, 0.1],
            "realised_lift": [1.8, 1.0, 0.2],
        }
    )
    data = _lifecycle(realised_lift=lift)
    monitoring = monitoring_markdown("m", data)
    assert "top decile realised lift 1.80" in monitoring
    assert "(assets/model_card/m/realised_lift.png)" in monitoring
    images = render_section_plots(data, {}, psi_warn=0.1, psi_alert=0.25)
    assert list(images) == ["realised_lift"]
    assert images["realised_lift"].startswith(b"\x89PNG")
