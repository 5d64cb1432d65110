"""Model cards for the dbt docs site, rendered from what the registry stored.

For every model name in ``ml_model_registry`` the card describes the **champion** (the version
``ml_model_champions`` names, the one scoring uses): intended use is a hand-written docs block;
this module writes the rest:

* ``docs/model_card_<model_name>.md``: docs blocks ``model_card_<model_name>`` (the version,
  model and training data window) and ``model_card_<model_name>_evaluation`` (metrics of
  the model and of the baseline on both splits, the plots, the features with their
  definitions and permutation importance);
* ``assets/model_card/<model_name>/{roc_curve,calibration,feature_importance,
  score_distribution}.png``: the plots, drawn from the version's ``diagnostics_json``;
* the lifecycle docs blocks ``model_card_<model_name>_{champions,backtest,monitoring}`` and
  their plots (:mod:`retail_ml.ml.model_card_sections`): champion history, rolling backtest,
  drift, calibration per cutoff month and realised lift.

dbt copies ``assets/`` into the docs site (``asset-paths``), so the docs block refers to the
images by these fixed paths. Nothing is recomputed: metrics and plot data were frozen when
the version was registered, so the card always matches the version. The output depends only
on the warehouse content (no timestamps), so re-running it on the same warehouse rewrites
identical files.

Run it after ``dbt build`` and before ``dbt docs generate`` (dbt reads docs blocks when it
parses the project)::

    python -m retail_ml.ml.model_card --db warehouse/retail_ml.duckdb --project-dir .
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from matplotlib.figure import Figure

from retail_ml.ml.model_card_sections import (
    backtest_markdown,
    champions_markdown,
    monitoring_markdown,
    read_lifecycle,
    render_section_plots,
)
from retail_ml.ml.monitoring import DriftThresholds
from retail_ml.plots import png_bytes

#: The plots of a card, in the order the card shows them, with their captions.
PLOTS: dict[str, str] = {
    "roc_curve": "ROC curve on the validation cutoff, model vs baseline",
    "calibration": "Calibration on the validation cutoff: observed purchase rate per bin",
    "feature_importance": "Permutation importance on the validation cutoff (drop in ROC AUC)",
    "score_distribution": "Distribution of the model's validation probabilities by outcome",
}

#: Metrics in the card's table, with the direction that is better.
CARD_METRICS: dict[str, str] = {
    "roc_auc": "higher",
    "pr_auc": "higher",
    "log_loss": "lower",
    "brier": "lower",
    "top_decile_lift": "higher",
    "top_decile_precision": "higher",
}

TRAINING_SET = "ml_training_set__purchase_30d"
_COLORS = {"model": "#1f77b4", "baseline": "#ff7f0e"}


@dataclass(frozen=True)
class ModelCard:
    """A rendered card: the docs block markdown and the PNG bytes by plot name."""

    model_name: str
    model_version: str
    markdown: str
    images: dict[str, bytes]

    @property
    def docs_name(self) -> str:
        """Name of the docs block (``{{ doc('<docs_name>') }}``)."""
        return f"model_card_{self.model_name}"


def asset_path(model_name: str, plot: str) -> str:
    """Path of a plot relative to the project (and to the docs site's root)."""
    return f"assets/model_card/{model_name}/{plot}.png"


# --- reading the warehouse ---------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def champion_versions(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The registry row of every model's current champion, with its ``champion_seq``.

    The card states no count of registered versions: that depends on the warehouse's history
    (a fresh build has one), not on the model.
    """
    return _rows(
        con,
        """
        with champions as (
            select model_name, model_version, champion_seq, action as champion_action,
            from ml_model_champions
            qualify row_number() over (partition by model_name order by champion_seq desc) = 1
        )
        select registry.* exclude (model_bytes),
            champions.champion_seq,
            champions.champion_action,
        from ml_model_registry as registry
        inner join champions using (model_name, model_version)
        order by model_name
        """,
    )


def feature_definitions(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Column descriptions of the training set, as dbt persisted them (first paragraph)."""
    rows = con.execute(
        "select column_name, comment from duckdb_columns() where table_name = ?", [TRAINING_SET]
    ).fetchall()
    return {name: first_paragraph(comment or "") for name, comment in rows}


def first_paragraph(text: str) -> str:
    """The text up to the first blank line, on one line, safe inside a markdown table cell."""
    paragraph = text.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split()).replace("|", "\\|")


# --- markdown ----------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 4, *, sign: bool = False) -> str:
    """``value`` with ``digits`` decimals (never "-0.0000"), or a dash for ``None``."""
    if value is None:
        return "–"
    rounded = round(value, digits) + 0.0
    return f"{rounded:+.{digits}f}" if sign else f"{rounded:.{digits}f}"


def _metric_table(evaluation: list[dict[str, Any]]) -> list[str]:
    values = {(r["scorer"], r["split"], r["metric"]): r["metric_value"] for r in evaluation}
    lines = [
        "| metric | better | model, validation | baseline, validation | model − baseline "
        "| model, train | baseline, train |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for metric, better in CARD_METRICS.items():
        model = values.get(("model", "validation", metric))
        baseline = values.get(("baseline", "validation", metric))
        difference = None if model is None or baseline is None else model - baseline
        lines.append(
            f"| `{metric}` | {better} | **{_fmt(model)}** | {_fmt(baseline)} "
            f"| {_fmt(difference, sign=True)} "
            f"| {_fmt(values.get(('model', 'train', metric)))} "
            f"| {_fmt(values.get(('baseline', 'train', metric)))} |"
        )
    return lines


def _split_summary(evaluation: list[dict[str, Any]], split: str) -> dict[str, Any]:
    for record in evaluation:
        if record["split"] == split:
            return record
    return {}


def render_markdown(registry_row: dict[str, Any], definitions: dict[str, str]) -> str:
    """The docs block of one model's card (see the module docstring).

    Args:
        registry_row: The version's registry row (``model_bytes`` not needed).
        definitions: Feature column descriptions by name.

    Returns:
        Markdown text with two docs blocks: ``model_card_<model_name>`` (heading, version,
        model, training and validation data) and ``model_card_<model_name>_evaluation``
        (metrics vs baseline, plots, features), so that hand-written sections such as the
        intended use can go between them.
    """
    name = registry_row["model_name"]
    evaluation = json.loads(registry_row["evaluation_json"])
    diagnostics = json.loads(registry_row["diagnostics_json"])
    params = json.loads(registry_row["params_json"])
    features = json.loads(registry_row["feature_columns_json"])
    versions = json.loads(registry_row["library_versions_json"])
    train = _split_summary(evaluation, "train")
    validation = _split_summary(evaluation, "validation")
    ranked = diagnostics.get("permutation_importance", {}).get("features", [])
    importance = {entry["feature"]: entry for entry in ranked}
    rank = {entry["feature"]: position for position, entry in enumerate(ranked)}
    hyper = params.get("classifier_params", {})

    lines = [
        f"{{% docs model_card_{name} %}}",
        "<!-- Generated by `python -m retail_ml.ml.model_card` (make docs) from the warehouse: "
        "do not edit. -->",
        f"## Model card: `{name}`, version `{registry_row['model_version']}`",
        "",
        "| | |",
        "|---|---|",
        f"| Version | `{registry_row['model_version']}`, the champion (`ml_model_champions`): "
        f"quality gates {registry_row.get('gate_status', 'unknown')} when registered "
        "(validation ROC AUC, lift over the baseline, Brier score not worse than the baseline's) |",
        f"| Model | scikit-learn Pipeline: numeric features as they are (missing values reach the "
        "trees as missing), one-hot "
        f"categorical features, `{params.get('classifier')}` (learning_rate "
        f"{hyper.get('learning_rate')}, max_iter {hyper.get('max_iter')}, max_leaf_nodes "
        f"{hyper.get('max_leaf_nodes')}), seed {params.get('seed')} |",
        f"| Label | `{params.get('label_column')}`: a non-cancelled order in the 30 days after "
        "the cutoff |",
        f"| Training data | [{TRAINING_SET}](#!/model/model.retail_ml.{TRAINING_SET}), cutoffs "
        f"{registry_row['train_cutoff_min']} … {registry_row['train_cutoff_max']}: "
        f"{registry_row['n_train_rows']:,} rows, {train.get('positive_rate', 0):.1%} bought |",
        f"| Validation data | cutoff {registry_row['validation_cutoff']} (held out): "
        f"{registry_row['n_validation_rows']:,} rows, "
        f"{validation.get('positive_rate', 0):.1%} bought |",
        f"| Training fingerprint | `{registry_row['training_fingerprint'][:16]}…` |",
        "| Libraries | "
        + ", ".join(f"{lib} {version}" for lib, version in sorted(versions.items()))
        + " |",
        "{% enddocs %}",
        "",
        f"{{% docs model_card_{name}_evaluation %}}",
        "### Metrics: model vs baseline",
        "",
        "Baseline: the recency/frequency score of `ml_baseline_scores__purchase_30d`, calibrated "
        "on the train split. Train-split scores of the model are in-sample; compare on "
        "validation. Definitions and quality gates: `ml_model_metrics`.",
        "",
        *_metric_table(evaluation),
        "",
        "### Plots",
        "",
    ]
    for plot, caption in PLOTS.items():
        lines += [f"**{caption}**", "", f"![{caption}]({asset_path(name, plot)})", ""]
    lines += [
        "### Features",
        "",
        "Permutation importance: mean drop in validation ROC AUC when the feature is shuffled "
        f"({diagnostics.get('permutation_importance', {}).get('n_repeats')} shuffles, "
        f"{diagnostics.get('permutation_importance', {}).get('n_rows', 0):,} rows); ± one "
        "standard deviation; most important first. Definitions: the feature docs below and "
        f"[{TRAINING_SET}](#!/model/model.retail_ml.{TRAINING_SET}).",
        "",
        "| feature | role | importance | definition |",
        "|---|---|---:|---|",
    ]
    for feature in sorted(features, key=lambda f: rank.get(f["name"], len(rank))):
        entry = importance.get(feature["name"], {})
        score = (
            f"{_fmt(entry['importance_mean'])} ± {_fmt(entry['importance_std'])}" if entry else "–"
        )
        lines.append(
            f"| `{feature['name']}` | {feature['role']} | {score} "
            f"| {definitions.get(feature['name'], '')} |"
        )
    lines += ["{% enddocs %}", ""]
    return "\n".join(lines)


# --- plots -------------------------------------------------------------------------------




def _auc(evaluation: list[dict[str, Any]], scorer: str) -> float | None:
    for record in evaluation:
        if (record["scorer"], record["split"], record["metric"]) == (
            scorer,
            "validation",
            "roc_auc",
        ):
            return record["metric_value"]
    return None


def plot_roc(diagnostics: dict[str, Any], evaluation: list[dict[str, Any]]) -> bytes:
    figure = Figure(figsize=(5, 5), layout="constrained")
    axes = figure.add_subplot()
    for scorer, data in diagnostics["scorers"].items():
        curve = data["roc_curve"]
        axes.plot(
            curve["fpr"],
            curve["tpr"],
            color=_COLORS.get(scorer),
            label=f"{scorer} (ROC AUC {_fmt(_auc(evaluation, scorer), 3)})",
        )
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1))
    axes.set_title("ROC curve (validation)")
    axes.legend(loc="lower right")
    return png_bytes(figure)


def plot_calibration(diagnostics: dict[str, Any]) -> bytes:
    figure = Figure(figsize=(5, 5), layout="constrained")
    axes = figure.add_subplot()
    for scorer, data in diagnostics["scorers"].items():
        bins = data["calibration"]
        axes.plot(
            [b["mean_predicted"] for b in bins],
            [b["observed_rate"] for b in bins],
            marker="o",
            color=_COLORS.get(scorer),
            label=scorer,
        )
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    axes.set(
        xlabel="mean predicted probability",
        ylabel="observed purchase rate",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    axes.set_title("Calibration (validation, 10 bins)")
    axes.legend(loc="upper left")
    return png_bytes(figure)


def plot_feature_importance(diagnostics: dict[str, Any]) -> bytes:
    entries = diagnostics["permutation_importance"]["features"]
    names = [entry["feature"] for entry in entries][::-1]
    means = [entry["importance_mean"] for entry in entries][::-1]
    stds = [entry["importance_std"] for entry in entries][::-1]
    figure = Figure(figsize=(6, 0.28 * len(entries) + 1.2), layout="constrained")
    axes = figure.add_subplot()
    axes.barh(names, means, xerr=stds, color=_COLORS["model"])
    axes.axvline(0, color="grey", linewidth=0.8)
    axes.set_xlabel("drop in ROC AUC when shuffled")
    axes.set_title("Permutation importance (validation)")
    axes.tick_params(axis="y", labelsize=8)
    return png_bytes(figure)


def plot_score_distribution(diagnostics: dict[str, Any]) -> bytes:
    histogram = diagnostics["scorers"]["model"]["histogram"]
    edges = histogram["bin_edges"]
    widths = [right - left for left, right in zip(edges[:-1], edges[1:], strict=True)]
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    axes.bar(
        edges[:-1],
        histogram["negatives"],
        width=widths,
        align="edge",
        alpha=0.6,
        color="#7f7f7f",
        label="did not buy",
    )
    axes.bar(
        edges[:-1],
        histogram["positives"],
        width=widths,
        align="edge",
        alpha=0.6,
        color=_COLORS["model"],
        label="bought",
    )
    axes.set(xlabel="predicted probability", ylabel="customers", xlim=(0, 1))
    axes.set_title("Model scores on the validation cutoff")
    axes.legend()
    return png_bytes(figure)


def render_plots(registry_row: dict[str, Any]) -> dict[str, bytes]:
    """The PNG bytes of every plot in :data:`PLOTS` for one registry row."""
    diagnostics = json.loads(registry_row["diagnostics_json"])
    evaluation = json.loads(registry_row["evaluation_json"])
    if not diagnostics.get("scorers") or not diagnostics.get("permutation_importance"):
        raise ValueError(f"version {registry_row['model_version']} has no diagnostics to plot")
    return {
        "roc_curve": plot_roc(diagnostics, evaluation),
        "calibration": plot_calibration(diagnostics),
        "feature_importance": plot_feature_importance(diagnostics),
        "score_distribution": plot_score_distribution(diagnostics),
    }


# --- putting it together -------------------------------------------------------------------


def build_model_cards(db_path: Path) -> list[ModelCard]:
    """Render the card of the champion of every registered model (read-only).

    The card's lifecycle sections (champion history, rolling backtest, monitoring) come from
    :mod:`retail_ml.ml.model_card_sections`.
    """
    thresholds = DriftThresholds()
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = champion_versions(con)
        definitions = feature_definitions(con)
        lifecycle = {
            row["model_name"]: read_lifecycle(con, row["model_name"], row["model_version"])
            for row in rows
        }
    cards = []
    for row in rows:
        name = row["model_name"]
        data = lifecycle[name]
        markdown = "\n".join(
            [
                render_markdown(row, definitions),
                champions_markdown(name, data.champions),
                backtest_markdown(name, data.backtest),
                monitoring_markdown(name, data),
            ]
        )
        images = {
            **render_plots(row),
            **render_section_plots(
                data,
                json.loads(row["diagnostics_json"]),
                psi_warn=thresholds.warn,
                psi_alert=thresholds.alert,
            ),
        }
        cards.append(
            ModelCard(
                model_name=name,
                model_version=row["model_version"],
                markdown=markdown,
                images=images,
            )
        )
    return cards


def write_model_cards(db_path: Path, project_dir: Path) -> list[Path]:
    """Write every card's docs block and plots under ``project_dir``; return the paths."""
    written = []
    for card in build_model_cards(db_path):
        docs_file = project_dir / "docs" / f"{card.docs_name}.md"
        docs_file.parent.mkdir(parents=True, exist_ok=True)
        docs_file.write_text(card.markdown, encoding="utf-8")
        written.append(docs_file)
        for plot, png in card.images.items():
            image = project_dir / asset_path(card.model_name, plot)
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(png)
            written.append(image)
        # A plot without data this time (e.g. no realised outcome yet) must not linger from an
        # older warehouse: the card would show a figure its text contradicts.
        for stale in sorted((project_dir / asset_path(card.model_name, "x")).parent.glob("*.png")):
            if stale.stem not in card.images:
                stale.unlink()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the model cards for the dbt docs site.")
    parser.add_argument("--db", type=Path, default=Path("warehouse/retail_ml.duckdb"))
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(
            f"model_card: no warehouse at {args.db}; keeping the existing cards "
            "(run `make build` first to refresh them)",
            file=sys.stderr,
        )
        return 0
    for path in write_model_cards(args.db, args.project_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
