"""Drift between what the champion was validated on and what it scores: PSI per feature and score.

The **reference** is the champion's validation cutoff (the latest cutoff it saw labels for) in
the training set; the **serving** side is ``feat_customer_serving`` (the latest complete day)
and the scores of ``ml_customer_scores``. For every model feature and for the score, the
population stability index

    PSI = sum over bins of (serving share - reference share) * ln(serving share / reference share)

is computed on bins fixed by the reference: numeric values in up to :data:`N_BINS` quantile bins
of the reference (centred on its decile midpoints, edges halfway between distinct centres, so a
mostly-zero count has fewer bins and a point mass never sits on an edge), categories as
their own bins, and missing values always as a bin of their own (a feature that starts missing
more often drifts). Empty bins count as :data:`EPSILON` so the logarithm stays finite.

Conventional reading (dbt vars ``ml_drift_psi_warn`` / ``ml_drift_psi_alert``): below 0.1 no
material shift, 0.1-0.25 a moderate shift worth a look, above 0.25 a major shift (retrain or
investigate the feature's pipeline).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import is_numeric_dtype

from retail_ml.ml._checks import require_columns, require_rows
from retail_ml.ml.champion import champion_version
from retail_ml.ml.frames import arrow_to_model_frame
from retail_ml.ml.registry import TRUSTED_TYPES, load_registered_model
from retail_ml.ml.scoring import predict_positive_proba

#: Quantile bins of a numeric feature or of the score (at most).
N_BINS = 10
#: Share given to an empty bin.
EPSILON = 1e-4
#: Name of the score's row in the drift table.
SCORE_FEATURE = "__score__"

#: Columns and Arrow types of ``ml_feature_drift``, in table order.
DRIFT_SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("feature", pa.string()),
        ("feature_role", pa.string()),
        ("n_bins", pa.int64()),
        ("n_reference", pa.int64()),
        ("n_serving", pa.int64()),
        ("reference_missing_rate", pa.float64()),
        ("serving_missing_rate", pa.float64()),
        ("psi", pa.float64()),
        ("drift_level", pa.string()),
        ("reference_cutoff", pa.date32()),
        ("serving_as_of_date", pa.date32()),
    ]
)


@dataclass(frozen=True)
class DriftThresholds:
    """PSI thresholds of the drift levels (``ok`` below ``warn``, ``alert`` from ``alert``)."""

    warn: float = 0.1
    alert: float = 0.25


def _shares(codes: np.ndarray, n_bins: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_bins).astype(np.float64)
    shares = counts / max(counts.sum(), 1.0)
    return np.where(shares == 0.0, EPSILON, shares)


def _bin_codes(
    reference: pd.Series, serving: pd.Series, numeric: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin codes of both samples on bins fixed by the reference; the last bin is 'missing'."""
    if numeric:
        ref = pd.to_numeric(reference, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        srv = pd.to_numeric(serving, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        present = ref[~np.isnan(ref)]
        # Bin centres at the reference's decile midpoints (5%, 15%, ... 95%), edges halfway
        # between distinct centres: a point mass of the reference (a count's 0, the percentile
        # rank every inactive customer shares) lies inside a bin, not on an edge, so the same
        # mass at a slightly different value on serving (a tie's percentile rank moves with the
        # population size) stays in its bin. With edges at the quantiles themselves it crossed
        # one: PSI 2.05 ("alert") for activity_rank_30d at default, whose distribution had not
        # changed.
        centres = (
            np.unique(np.quantile(present, (np.arange(N_BINS) + 0.5) / N_BINS))
            if len(present)
            else np.array([])
        )
        edges = (centres[:-1] + centres[1:]) / 2
        n_value_bins = len(edges) + 1

        def codes(values: np.ndarray) -> np.ndarray:
            found = np.searchsorted(edges, values, side="right")
            return np.where(np.isnan(values), n_value_bins, found)

        return codes(ref), codes(srv), n_value_bins + 1
    categories = sorted(reference.dropna().astype(str).unique())
    index = {category: position for position, category in enumerate(categories)}
    other = len(categories)  # categories unseen in the reference share one bin
    missing = other + 1

    def category_codes(values: pd.Series) -> np.ndarray:
        text = values.astype("object")
        return np.array(
            [missing if pd.isna(v) else index.get(str(v), other) for v in text], dtype=np.int64
        )

    return category_codes(reference), category_codes(serving), missing + 1


def population_stability_index(
    reference: pd.Series, serving: pd.Series, *, numeric: bool
) -> tuple[float, int]:
    """PSI of ``serving`` against ``reference`` and the number of bins used (see module doc).

    Raises:
        ValueError: If either sample is empty.
    """
    if len(reference) == 0 or len(serving) == 0:
        raise ValueError("both samples need at least one value")
    ref_codes, srv_codes, n_bins = _bin_codes(reference, serving, numeric)
    expected = _shares(ref_codes, n_bins)
    actual = _shares(srv_codes, n_bins)
    return float(np.sum((actual - expected) * np.log(actual / expected))), n_bins


def drift_level(psi: float, thresholds: DriftThresholds) -> str:
    """``ok``, ``warn`` or ``alert`` for a PSI value."""
    if psi >= thresholds.alert:
        return "alert"
    return "warn" if psi >= thresholds.warn else "ok"


def drift_reference_rows(
    training: duckdb.DuckDBPyRelation,
    registry: pd.DataFrame,
    *,
    cutoff_column: str = "cutoff_date",
) -> pd.DataFrame:
    """The rows of the training table :func:`feature_drift` may take its reference from.

    Those of every registered version's validation cutoff and of the latest cutoff (the
    fallback when the champion's has left the training set), filtered in DuckDB: the drift
    reads one or two cutoffs of the training set, not all of it, and is the same as on the
    whole table.

    Args:
        training: ``ml_training_set__purchase_30d`` as a DuckDB relation.
        registry: ``ml_model_registry`` (its ``validation_cutoff``).
        cutoff_column: Cutoff column of ``training``.

    Returns:
        Those rows as a model frame (:func:`~retail_ml.ml.frames.arrow_to_model_frame`).
    """
    require_columns(registry, ["validation_cutoff"], "registry")
    quoted = '"' + cutoff_column.replace('"', '""') + '"'
    latest = training.aggregate(f"max({quoted})").fetchone()
    cutoffs = {pd.Timestamp(c).date() for c in registry["validation_cutoff"].dropna()}
    if latest is not None and latest[0] is not None:
        cutoffs.add(latest[0])
    # Dates formatted by Python, never text from a table: safe to inline.
    dates = ", ".join(f"date '{cutoff.isoformat()}'" for cutoff in sorted(cutoffs))
    rows = training.filter(f"{quoted} in ({dates})") if dates else training.limit(0)
    return arrow_to_model_frame(rows.to_arrow_table())


def feature_drift(
    registry: pd.DataFrame,
    champions: pd.DataFrame,
    training: pd.DataFrame,
    serving: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    model_name: str,
    cutoff_column: str = "cutoff_date",
    as_of_column: str = "as_of_date",
    thresholds: DriftThresholds | None = None,
    trusted_types: Sequence[str] = TRUSTED_TYPES,
    key: bytes | None = None,
) -> pa.Table:
    """PSI of every feature of the champion and of its score, reference vs serving.

    Args:
        registry: ``ml_model_registry``.
        champions: ``ml_model_champions``.
        training: ``ml_training_set__purchase_30d`` (features per customer per cutoff).
        serving: ``feat_customer_serving``.
        scores: ``ml_customer_scores`` (``probability``).
        model_name: The model whose champion is monitored.
        cutoff_column: Cutoff column of ``training``.
        as_of_column: As-of date column of ``serving``.
        thresholds: Drift levels; defaults to :class:`DriftThresholds`'s (0.1 / 0.25).
        trusted_types: Allow-list for loading the champion (its score on the reference).
        key: Signing key; defaults to :func:`retail_ml.ml.signing.signing_key`.

    Returns:
        An Arrow table of :data:`DRIFT_SCHEMA`: one row per feature plus one for the score
        (``feature`` = ``__score__``), in the champion's feature order.
    """
    thresholds = thresholds or DriftThresholds()
    chosen = champion_version(champions, registry, model_name)
    columns = json.loads(chosen["feature_columns_json"])
    names = [column["name"] for column in columns]
    require_columns(training, [cutoff_column, *names], "training")
    require_columns(serving, [as_of_column, *names], "serving")
    require_columns(scores, ["probability"], "scores")
    require_rows(serving, "serving")
    cutoff = chosen["validation_cutoff"]
    reference = training[training[cutoff_column] == cutoff]
    if len(reference) == 0:  # the training set moved on: the latest cutoff it has
        reference = training[training[cutoff_column] == training[cutoff_column].max()]
        cutoff = reference[cutoff_column].iloc[0]
    require_rows(reference, "reference")

    pipeline = load_registered_model(chosen, trusted_types, key)
    reference_score = pd.Series(predict_positive_proba(pipeline, reference.loc[:, names]))
    samples = [
        (
            column["name"],
            column["role"],
            reference[column["name"]],
            serving[column["name"]],
            column["role"] == "numeric" and is_numeric_dtype(reference[column["name"]]),
        )
        for column in columns
    ]
    samples.append((SCORE_FEATURE, "score", reference_score, scores["probability"], True))
    as_of = serving[as_of_column].max()
    rows = []
    for name, role, ref, srv, numeric in samples:
        psi, n_bins = population_stability_index(ref, srv, numeric=numeric)
        rows.append(
            {
                "model_name": str(chosen["model_name"]),
                "model_version": str(chosen["model_version"]),
                "feature": name,
                "feature_role": role,
                "n_bins": n_bins,
                "n_reference": len(ref),
                "n_serving": len(srv),
                "reference_missing_rate": float(ref.isna().mean()),
                "serving_missing_rate": float(srv.isna().mean()),
                "psi": psi,
                "drift_level": drift_level(psi, thresholds),
                "reference_cutoff": pd.Timestamp(cutoff).date(),
                "serving_as_of_date": pd.Timestamp(as_of).date(),
            }
        )
    return pa.Table.from_pylist(rows, schema=DRIFT_SCHEMA)
