"""The model card's lifecycle sections: champion history, rolling backtest and monitoring.

:mod:`retail_ml.ml.model_card` renders what the champion's registry row froze (metrics on the
validation cutoff, importance); this module adds what lives in other tables, read for the
champion version only:

* ``model_card_<name>_champions``: ``ml_model_champions``, every promotion and rollback;
* ``model_card_<name>_backtest``: ``ml_model_backtest``, each fold and the mean ± standard
  deviation and range over the folds (:func:`retail_ml.ml.backtest.backtest_summary`), plot
  ``backtest``;
* ``model_card_<name>_monitoring``: score distribution on the validation cutoff vs serving
  (``score_drift``), PSI of every feature (``feature_psi``, ``ml_feature_drift``), calibration
  per cutoff month (``calibration_by_month``, ``ml_model_calibration``) and realised lift per
  decile (``realised_lift``, ``ml_score_realised_lift``, once an as-of date's outcome is
  complete; until then the card says so and draws nothing).

Everything is a pure function of the rows passed in (no clock), so a card is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from retail_ml.ml.backtest import backtest_summary
from retail_ml.plots import png_bytes

_COLORS = {"model": "#1f77b4", "baseline": "#ff7f0e", "serving": "#2ca02c"}

#: Backtest metrics in the card, with the direction that is better.
BACKTEST_CARD_METRICS: dict[str, str] = {
    "roc_auc": "higher",
    "brier": "lower",
    "top_decile_lift": "higher",
    "pr_auc": "higher",
    "log_loss": "lower",
    "calibration_gap": "closer to 0",
}

#: Captions of the plots this module draws, by plot name.
SECTION_PLOTS: dict[str, str] = {
    "backtest": "Rolling backtest: ROC AUC, Brier score and calibration gap per evaluated cutoff",
    "score_drift": "Score distribution: validation cutoff (training) vs serving day",
    "feature_psi": "Population stability index of every feature and of the score",
    "calibration_by_month": "Calibration per cutoff month: mean probability vs observed rate",
    "realised_lift": "Realised lift per decile of the published scores",
}


@dataclass(frozen=True)
class LifecycleData:
    """The rows of one model's lifecycle tables that its card shows (champion version only)."""

    champions: pd.DataFrame
    backtest: pd.DataFrame
    calibration: pd.DataFrame
    drift: pd.DataFrame
    serving_scores: np.ndarray = field(repr=False)
    realised_lift: pd.DataFrame = field(repr=False)


def read_lifecycle(
    con: duckdb.DuckDBPyConnection, model_name: str, model_version: str
) -> LifecycleData:
    """Read the champion's lifecycle rows, in a stable order."""

    def frame(sql: str, params: Sequence[Any]) -> pd.DataFrame:
        result = con.execute(sql, list(params)).df()
        for column in result.columns:  # DuckDB dates arrive as datetime64: show them as dates
            if pd.api.types.is_datetime64_any_dtype(result[column]):
                result[column] = result[column].dt.date
        return result

    return LifecycleData(
        champions=frame(
            "select champion_seq, model_version, action, reason, previous_model_version"
            " from ml_model_champions where model_name = ? order by champion_seq",
            [model_name],
        ),
        backtest=frame(
            "select * from ml_model_backtest where model_version = ?"
            " order by evaluated_cutoff, scorer, metric",
            [model_version],
        ),
        calibration=frame(
            "select scorer, split, n_rows, mean_probability, observed_rate, calibration_gap,"
            " brier, cutoff_date from ml_model_calibration where model_version = ?"
            " order by cutoff_date, scorer",
            [model_version],
        ),
        drift=frame(
            "select feature, feature_role, psi, drift_level, reference_cutoff,"
            " serving_as_of_date from ml_feature_drift where model_version = ?"
            " order by psi desc, feature",
            [model_version],
        ),
        serving_scores=con.execute(
            "select probability from ml_customer_scores where model_version = ?"
            " order by customer_id",
            [model_version],
        )
        .df()["probability"]
        .to_numpy(dtype=np.float64),
        realised_lift=frame(
            "select as_of_date, decile, n_customers, mean_probability, realised_rate,"
            " realised_lift from ml_score_realised_lift where model_version = ?"
            " order by as_of_date, decile",
            [model_version],
        ),
    )


def _fmt(value: Any, digits: int = 4, *, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    rounded = round(float(value), digits) + 0.0
    return f"{rounded:+.{digits}f}" if sign else f"{rounded:.{digits}f}"


def _image(name: str, plot: str) -> list[str]:
    caption = SECTION_PLOTS[plot]
    return [f"**{caption}**", "", f"![{caption}](assets/model_card/{name}/{plot}.png)", ""]


# --- markdown ----------------------------------------------------------------------------


def champions_markdown(name: str, champions: pd.DataFrame) -> str:
    """The docs block ``model_card_<name>_champions``: the champion history, oldest first."""
    lines = [
        f"{{% docs model_card_{name}_champions %}}",
        "### Champion history",
        "",
        "Every change of champion (`ml_model_champions`, append-only): promotions after the "
        "quality gates passed, and rollbacks (`dbt build --select ml_model_champions+ --vars "
        "'{ml_champion_rollback_to: <version>, ml_champion_rollback_reason: \"…\"}'`). "
        "The last row is the version that scores.",
        "",
        "| # | version | action | reason | replaced |",
        "|---:|---|---|---|---|",
    ]
    for row in champions.itertuples(index=False):
        previous = f"`{row.previous_model_version}`" if row.previous_model_version else "–"
        reason = str(row.reason or "").replace("|", "\\|")
        lines.append(
            f"| {row.champion_seq} | `{row.model_version}` | {row.action} | {reason} | {previous} |"
        )
    lines += ["{% enddocs %}", ""]
    return "\n".join(lines)


def backtest_markdown(name: str, backtest: pd.DataFrame) -> str:
    """The docs block ``model_card_<name>_backtest``: folds, mean ± spread, plot."""
    lines = [
        f"{{% docs model_card_{name}_backtest %}}",
        "### Rolling backtest",
        "",
    ]
    if backtest.empty:
        lines += [
            "This version has no backtest rows (`ml_model_backtest`): it was not trained on the "
            "current training set.",
            "{% enddocs %}",
            "",
        ]
        return "\n".join(lines)
    values = backtest.set_index(["evaluated_cutoff", "scorer", "metric"])["metric_value"]
    folds = backtest.drop_duplicates("evaluated_cutoff").sort_values("evaluated_cutoff")
    lines += [
        f"The version's recipe refitted on {len(folds)} folds (`ml_model_backtest`, protocol "
        "in `ml_model_backtest_protocol`): each fold trains on the earlier cutoffs whose label "
        "(30 days + 7 days of lateness) had landed by the evaluated cutoff, and the baseline is "
        "calibrated on the same cutoffs. Per fold:",
        "",
        "| evaluated cutoff | trained on | training rows | evaluated rows | bought "
        "| ROC AUC model | baseline | Δ | Brier model | baseline | top-decile lift model "
        "| baseline | calibration gap model | baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fold in folds.itertuples(index=False):
        cutoff = fold.evaluated_cutoff

        def value(scorer: str, metric: str, cutoff: Any = cutoff) -> float:
            return float(values[(cutoff, scorer, metric)])

        lines.append(
            f"| {cutoff} | {fold.train_cutoff_min} … {fold.train_cutoff_max} "
            f"({fold.n_train_cutoffs} cutoffs) | {fold.n_train_rows:,} "
            f"| {fold.n_evaluation_rows:,} | {fold.positive_rate:.1%} "
            f"| **{_fmt(value('model', 'roc_auc'))}** | {_fmt(value('baseline', 'roc_auc'))} "
            f"| {_fmt(value('model', 'roc_auc') - value('baseline', 'roc_auc'), sign=True)} "
            f"| **{_fmt(value('model', 'brier'))}** | {_fmt(value('baseline', 'brier'))} "
            f"| {_fmt(value('model', 'top_decile_lift'), 3)} "
            f"| {_fmt(value('baseline', 'top_decile_lift'), 3)} "
            f"| {_fmt(value('model', 'calibration_gap'), sign=True)} "
            f"| {_fmt(value('baseline', 'calibration_gap'), sign=True)} |"
        )
    summary = backtest_summary(backtest).set_index(["metric", "scorer"])
    lines += [
        "",
        f"Over the {len(folds)} folds: mean ± sample standard deviation [min, max].",
        "",
        "| metric | better | model | baseline | model − baseline |",
        "|---|---|---|---|---|",
    ]
    for metric, better in BACKTEST_CARD_METRICS.items():
        cells = []
        for scorer in ("model", "baseline", "model - baseline"):
            if (metric, scorer) not in summary.index:
                cells.append("–")
                continue
            row = summary.loc[(metric, scorer)]
            signed = scorer == "model - baseline" or metric == "calibration_gap"
            cells.append(
                f"{_fmt(row['mean'], sign=signed)} ± {_fmt(row['std'])} "
                f"[{_fmt(row['min'], sign=signed)}, {_fmt(row['max'], sign=signed)}]"
            )
        lines.append(f"| `{metric}` | {better} | " + " | ".join(cells) + " |")
    lines += ["", *_image(name, "backtest"), "{% enddocs %}", ""]
    return "\n".join(lines)


def monitoring_markdown(name: str, data: LifecycleData) -> str:
    """The docs block ``model_card_<name>_monitoring``: drift, calibration, realised lift."""
    drift = data.drift
    lines = [f"{{% docs model_card_{name}_monitoring %}}", "### Monitoring", ""]
    if not drift.empty:
        score = drift[drift["feature"] == "__score__"]
        features = drift[drift["feature"] != "__score__"]
        reference = drift["reference_cutoff"].iloc[0]
        serving = drift["serving_as_of_date"].iloc[0]
        counts = features["drift_level"].value_counts()
        lines += [
            f"Drift (`ml_feature_drift`, PSI; thresholds in `ml_feature_drift_psi`): the "
            f"champion's validation cutoff {reference} against the serving day {serving}. "
            f"Score PSI {_fmt(score['psi'].iloc[0], 3) if not score.empty else '–'} "
            f"({score['drift_level'].iloc[0] if not score.empty else '–'}); features: "
            + ", ".join(f"{counts.get(level, 0)} {level}" for level in ("ok", "warn", "alert"))
            + ".",
            "",
            *_image(name, "score_drift"),
            *_image(name, "feature_psi"),
        ]
        moved = features[features["drift_level"] != "ok"]
        if not moved.empty:
            lines += ["| feature | PSI | level |", "|---|---:|---|"]
            lines += [
                f"| `{row.feature}` | {_fmt(row.psi, 3)} | {row.drift_level} |"
                for row in moved.itertuples(index=False)
            ]
            lines.append("")
    calibration = data.calibration
    if not calibration.empty:
        model = calibration[calibration["scorer"] == "model"]
        worst = model.loc[model["calibration_gap"].abs().idxmax()]
        lines += [
            "Calibration per cutoff month (`ml_model_calibration`: the version's own cutoffs, "
            "in-sample on the train split, held out on validation): mean predicted probability "
            "against the observed purchase rate. The largest gap of the model is "
            f"{_fmt(worst['calibration_gap'], 3, sign=True)} on {worst['cutoff_date']} "
            f"({worst['split']}); the backtest's calibration gap above is the held-out view.",
            "",
            *_image(name, "calibration_by_month"),
        ]
    lift = data.realised_lift
    if lift.empty:
        lines += [
            "Realised lift per decile (`ml_score_realised_lift`): no published score's outcome "
            "is complete yet (an as-of date needs its 30-day window plus the 7-day lateness "
            "margin to have passed); the table fills as the score history ages.",
            "",
        ]
    else:
        latest = lift["as_of_date"].max()
        top = lift[(lift["as_of_date"] == latest) & (lift["decile"] == lift["decile"].min())]
        lines += [
            f"Realised lift per decile (`ml_score_realised_lift`), latest complete as-of date "
            f"{latest}: top decile realised lift {_fmt(top['realised_lift'].iloc[0], 2)}.",
            "",
            *_image(name, "realised_lift"),
        ]
    lines += ["{% enddocs %}", ""]
    return "\n".join(lines)


# --- plots -------------------------------------------------------------------------------




def plot_backtest(backtest: pd.DataFrame) -> bytes:
    figure = Figure(figsize=(11, 3.6), layout="constrained")
    panels = (
        ("roc_auc", "ROC AUC"),
        ("brier", "Brier score"),
        ("calibration_gap", "calibration gap (mean p − observed)"),
    )
    for position, (metric, title) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, len(panels), position)
        for scorer in ("model", "baseline"):
            rows = backtest[(backtest["metric"] == metric) & (backtest["scorer"] == scorer)]
            rows = rows.sort_values("evaluated_cutoff")
            labels = [str(cutoff) for cutoff in rows["evaluated_cutoff"]]
            values = rows["metric_value"].to_numpy()
            axes.plot(labels, values, marker="o", color=_COLORS[scorer], label=scorer)
            axes.axhline(values.mean(), color=_COLORS[scorer], linestyle=":", linewidth=1)
        if metric == "calibration_gap":
            axes.axhline(0, color="grey", linewidth=0.8)
        axes.set_title(title)
        axes.tick_params(axis="x", labelrotation=30, labelsize=8)
        axes.legend(fontsize=8)
    figure.suptitle("Per evaluated cutoff (dotted: mean over the folds)")
    return png_bytes(figure)


def plot_score_drift(histogram: dict[str, Any], serving_scores: np.ndarray) -> bytes:
    """Validation-cutoff scores (the registry's histogram) against serving, as shares."""
    edges = np.asarray(histogram["bin_edges"], dtype=np.float64)
    reference = np.asarray(histogram["positives"], dtype=np.float64) + np.asarray(
        histogram["negatives"], dtype=np.float64
    )
    serving, _ = np.histogram(np.clip(serving_scores, edges[0], edges[-1]), bins=edges)
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    centres = (edges[:-1] + edges[1:]) / 2
    axes.step(
        centres,
        reference / max(reference.sum(), 1),
        where="mid",
        color=_COLORS["model"],
        label="validation cutoff (training)",
    )
    axes.step(
        centres,
        serving / max(serving.sum(), 1),
        where="mid",
        color=_COLORS["serving"],
        label="serving day",
    )
    axes.set(xlabel="predicted probability", ylabel="share of customers", xlim=(0, 1))
    axes.set_title("Score distribution, training vs serving")
    axes.legend()
    return png_bytes(figure)


def plot_feature_psi(drift: pd.DataFrame, warn: float, alert: float) -> bytes:
    ordered = drift.sort_values(["psi", "feature"])
    colors = [
        {"ok": "#7f7f7f", "warn": "#ff7f0e", "alert": "#d62728"}.get(level, "#7f7f7f")
        for level in ordered["drift_level"]
    ]
    figure = Figure(figsize=(6, 0.28 * len(ordered) + 1.4), layout="constrained")
    axes = figure.add_subplot()
    axes.barh(ordered["feature"], ordered["psi"], color=colors)
    axes.axvline(warn, color="#ff7f0e", linestyle="--", linewidth=1, label=f"warn {warn}")
    axes.axvline(alert, color="#d62728", linestyle="--", linewidth=1, label=f"alert {alert}")
    axes.set_xlabel("PSI, validation cutoff vs serving day")
    axes.set_title("Drift per feature (__score__ = the probability)")
    axes.tick_params(axis="y", labelsize=8)
    axes.legend(fontsize=8, loc="lower right")
    return png_bytes(figure)


def plot_calibration_by_month(calibration: pd.DataFrame) -> bytes:
    figure = Figure(figsize=(7, 4), layout="constrained")
    axes = figure.add_subplot()
    model = calibration[calibration["scorer"] == "model"].sort_values("cutoff_date")
    labels = [str(cutoff) for cutoff in model["cutoff_date"]]
    axes.plot(labels, model["observed_rate"], marker="s", color="black", label="observed rate")
    for scorer in ("model", "baseline"):
        rows = calibration[calibration["scorer"] == scorer].sort_values("cutoff_date")
        axes.plot(
            [str(c) for c in rows["cutoff_date"]],
            rows["mean_probability"],
            marker="o",
            color=_COLORS[scorer],
            label=f"{scorer}: mean probability",
        )
    validation = model[model["split"] == "validation"]
    for cutoff in validation["cutoff_date"]:
        axes.axvline(str(cutoff), color="grey", linestyle=":", linewidth=1)
    axes.set(ylabel="purchase rate in the next 30 days")
    axes.set_title("Calibration per cutoff month (dotted: validation cutoff)")
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes.legend(fontsize=8)
    return png_bytes(figure)


def plot_realised_lift(lift: pd.DataFrame) -> bytes:
    latest = lift[lift["as_of_date"] == lift["as_of_date"].max()].sort_values("decile")
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    axes.bar(latest["decile"].astype(str), latest["realised_lift"], color=_COLORS["model"])
    axes.axhline(1, color="grey", linewidth=0.8)
    axes.set(xlabel="decile (1 = highest scores)", ylabel="realised purchase rate / overall")
    axes.set_title(f"Realised lift per decile, as of {latest['as_of_date'].iloc[0]}")
    return png_bytes(figure)


def render_section_plots(
    data: LifecycleData, diagnostics: dict[str, Any], *, psi_warn: float, psi_alert: float
) -> dict[str, bytes]:
    """The PNG bytes of the plots that have data (a missing one is not drawn)."""
    images: dict[str, bytes] = {}
    if not data.backtest.empty:
        images["backtest"] = plot_backtest(data.backtest)
    histogram = diagnostics.get("scorers", {}).get("model", {}).get("histogram")
    if histogram and data.serving_scores.size:
        images["score_drift"] = plot_score_drift(histogram, data.serving_scores)
    if not data.drift.empty:
        images["feature_psi"] = plot_feature_psi(data.drift, psi_warn, psi_alert)
    if not data.calibration.empty:
        images["calibration_by_month"] = plot_calibration_by_month(data.calibration)
    if not data.realised_lift.empty:
        images["realised_lift"] = plot_realised_lift(data.realised_lift)
    return images
