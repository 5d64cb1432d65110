"""Safe persistence of the fitted pipeline and its model-registry record.

Models are stored as bytes in a warehouse table, so loading must not execute
arbitrary code: serialisation uses the skops format (never pickle/joblib) and
:func:`load_model`

0. verifies the HMAC-SHA256 signature of the bytes and the registry fields that
   decide whether and how the model scores, made with a key that is not in the
   warehouse (:mod:`retail_ml.ml.signing`;
   :class:`~retail_ml.ml.errors.ModelSignatureError` on mismatch),
1. verifies the SHA-256 of the bytes against the recorded digest
   (:class:`~retail_ml.ml.errors.ModelIntegrityError` on mismatch),
2. asks ``skops.io.get_untrusted_types`` which non-default types the archive
   needs and refuses anything outside an explicit allow-list
   (:class:`~retail_ml.ml.errors.UntrustedModelError`, naming the types),
3. only then calls ``skops.io.loads`` with that allow-list.

Serialised bytes are canonicalised (see
:mod:`retail_ml.ml.canonical_archive`), so an unchanged model always has the
same bytes and digest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import platform
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sklearn
import skops
import skops.io
from sklearn.pipeline import Pipeline

from retail_ml.ml._checks import require_columns
from retail_ml.ml.canonical_archive import canonicalize_skops_archive
from retail_ml.ml.errors import ModelIntegrityError, ModelLoadError, UntrustedModelError
from retail_ml.ml.gates import REJECTED
from retail_ml.ml.signing import SIGNED_FIELDS, key_id, sign_model, signing_key, verify_signature
from retail_ml.ml.training import TrainedModel

#: Fully-qualified names of the types that a pipeline built by
#: :func:`retail_ml.ml.pipeline.make_pipeline` needs beyond skops' defaults.
#: Hard-coded on purpose (an explicit, minimal allow-list); a test asserts it
#: equals what skops reports for a freshly fitted pipeline, so drift after a
#: library upgrade is caught. To regenerate, fit ``make_pipeline(...)`` on a
#: tiny frame with numeric and categorical features and run
#: ``sorted(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)))``.
TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")

#: Columns and Arrow types of the model registry, in table order. The dbt model returns
#: an Arrow table with exactly this schema, so the warehouse types are fixed even when
#: no new version is appended (an empty table); ``python_models/ml/_ml__models.yml``
#: pins the same columns and types with the ``columns_match_yaml`` test.
REGISTRY_SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("trained_at", pa.timestamp("us", tz="UTC")),
        ("training_fingerprint", pa.string()),
        ("train_cutoff_min", pa.date32()),
        ("train_cutoff_max", pa.date32()),
        ("validation_cutoff", pa.date32()),
        ("feature_columns_json", pa.string()),
        ("params_json", pa.string()),
        ("metrics_json", pa.string()),
        ("evaluation_json", pa.string()),
        ("diagnostics_json", pa.string()),
        ("library_versions_json", pa.string()),
        ("model_bytes", pa.binary()),
        ("model_sha256", pa.string()),
        ("n_train_rows", pa.int64()),
        ("n_validation_rows", pa.int64()),
        ("validation_roc_auc", pa.float64()),
        ("validation_pr_auc", pa.float64()),
        ("baseline_fingerprint", pa.string()),
        ("calibration_json", pa.string()),
        ("gate_status", pa.string()),
        ("gate_results_json", pa.string()),
        ("model_signature", pa.string()),
        ("signing_key_id", pa.string()),
    ]
)


@dataclass(frozen=True)
class ModelArtifact:
    """Serialised model: canonical skops bytes and their SHA-256 hex digest."""

    model_bytes: bytes
    sha256: str


def sha256_hex(data: bytes) -> str:
    """Return the lower-case SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def serialize_model(pipeline: Pipeline) -> ModelArtifact:
    """Serialise a fitted pipeline with skops into reproducible bytes.

    Args:
        pipeline: The fitted pipeline.

    Returns:
        A :class:`ModelArtifact`; the same fitted model always yields the same
        bytes and digest.
    """
    model_bytes = canonicalize_skops_archive(skops.io.dumps(pipeline))
    return ModelArtifact(model_bytes=model_bytes, sha256=sha256_hex(model_bytes))


def load_model(
    model_bytes: bytes,
    expected_sha256: str,
    trusted_types: Sequence[str] = TRUSTED_TYPES,
    *,
    signature: str,
    signed_fields: Mapping[str, str],
    key: bytes | None = None,
) -> Pipeline:
    """Load a pipeline stored by :func:`serialize_model`, refusing unsafe input.

    Args:
        model_bytes: The stored bytes (any bytes-like object).
        expected_sha256: The digest recorded when the model was stored.
        trusted_types: Allow-list of fully-qualified type names that may be
            loaded beyond skops' own defaults.
        signature: The registry's ``model_signature``.
        signed_fields: The registry fields covered by the signature
            (:data:`retail_ml.ml.signing.SIGNED_FIELDS`).
        key: The signing key; defaults to :func:`retail_ml.ml.signing.signing_key`.

    Returns:
        The loaded :class:`~sklearn.pipeline.Pipeline`.

    Raises:
        ModelSignatureError: If the signature does not match (checked first).
        ModelIntegrityError: If the digest does not match (or is malformed) or
            the bytes are not a readable skops archive.
        UntrustedModelError: If the archive needs types outside
            ``trusted_types``; the message names them.
        ModelLoadError: If the loaded object is not a ``Pipeline``.
    """
    data = bytes(model_bytes)
    verify_signature(data, signed_fields, signature, signing_key() if key is None else key)
    expected = expected_sha256.strip().lower()
    if not _SHA256_HEX.fullmatch(expected):
        raise ModelIntegrityError(
            f"expected_sha256 is not a 64-character hex digest: {expected_sha256!r}"
        )
    actual = sha256_hex(data)
    if not hmac.compare_digest(actual, expected):
        raise ModelIntegrityError(
            f"model bytes fail the integrity check: SHA-256 is {actual}, "
            f"expected {expected}; refusing to load"
        )

    try:
        needed = skops.io.get_untrusted_types(data=data)
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:
        raise ModelIntegrityError(f"model bytes are not a readable skops archive: {exc}") from exc
    allowed = list(trusted_types)
    refused = sorted(set(needed) - set(allowed))
    if refused:
        raise UntrustedModelError(
            f"model archive needs types outside the allow-list: {refused}; refusing to load"
        )

    model = skops.io.loads(data, trusted=allowed)
    if not isinstance(model, Pipeline):
        raise ModelLoadError(
            f"stored model is a {type(model).__module__}.{type(model).__qualname__}, "
            "expected sklearn.pipeline.Pipeline"
        )
    return model


def load_registered_model(
    row: Mapping[str, Any],
    trusted_types: Sequence[str] = TRUSTED_TYPES,
    key: bytes | None = None,
) -> Pipeline:
    """:func:`load_model` of a registry row: signature, digest, then the allow-list.

    Args:
        row: A registry row (mapping or ``pandas.Series``) with ``model_bytes``,
            ``model_sha256``, ``model_signature`` and the signed fields.
        trusted_types: Allow-list passed to :func:`load_model`.
        key: Signing key; defaults to :func:`retail_ml.ml.signing.signing_key`.
    """
    return load_model(
        row["model_bytes"],
        row["model_sha256"],
        trusted_types,
        signature=row["model_signature"],
        signed_fields={name: row[name] for name in SIGNED_FIELDS},
        key=key,
    )


def library_versions() -> dict[str, str]:
    """Versions of the libraries that determine the model bytes and scores."""
    return {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
    }


def _canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON; non-JSON scalars (e.g. dates) become strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=str)


def model_version(
    training_fingerprint: str,
    params: Mapping[str, Any],
    feature_columns: Sequence[Mapping[str, str]],
    versions: Mapping[str, str],
    baseline_fingerprint: str | None = None,
) -> str:
    """Deterministic model version: first 16 hex of SHA-256 over its inputs.

    Unchanged training data, parameters, features, library versions and baseline
    scores give the same version. The baseline's scores (``baseline_fingerprint``)
    are part of it because the gates compare the model with the baseline: a changed
    baseline definition is a new version, assessed against the new baseline.
    """
    payload = _canonical_json(
        {
            "baseline_fingerprint": baseline_fingerprint,
            "training_fingerprint": training_fingerprint,
            "params": dict(params),
            "feature_columns": [dict(column) for column in feature_columns],
            "library_versions": dict(versions),
        }
    )
    return sha256_hex(payload.encode("utf-8"))[:16]


def registry_row(
    trained: TrainedModel,
    artifact: ModelArtifact,
    *,
    model_name: str,
    trained_at: datetime,
    versions: Mapping[str, str] | None = None,
    evaluation: Sequence[Mapping[str, Any]] = (),
    diagnostics: Mapping[str, Any] | None = None,
    calibration: Sequence[Mapping[str, Any]] = (),
    gate_results: Mapping[str, Any] | None = None,
    baseline_fingerprint: str | None = None,
    key: bytes | None = None,
) -> dict[str, Any]:
    """Build the one-row model-registry record returned by the dbt model.

    Args:
        trained: The trained model and its metadata.
        artifact: ``serialize_model(trained.pipeline)``.
        model_name: Logical model name, e.g. ``"purchase_propensity_30d"``.
        trained_at: Timestamp to record (passed in, so the function is pure).
        versions: Library versions to record; defaults to
            :func:`library_versions` of the running environment.
        evaluation: Metric records of the model and the baseline on both splits
            (:attr:`retail_ml.ml.assessment.Assessment.records`).
        diagnostics: Plot data of the model card
            (:attr:`retail_ml.ml.assessment.Assessment.diagnostics`).
        calibration: Calibration per cutoff
            (:attr:`retail_ml.ml.assessment.Assessment.calibration`).
        gate_results: :func:`retail_ml.ml.gates.evaluate_gates`; ``None`` records the
            version as ``rejected`` (nothing decided it may score).
        baseline_fingerprint: Fingerprint of the baseline scores (part of the version).
        key: Signing key; defaults to :func:`retail_ml.ml.signing.signing_key`.

    Returns:
        A dict with the keys of :data:`REGISTRY_SCHEMA`: ``model_name``,
        ``model_version``, ``trained_at``, ``training_fingerprint``,
        ``train_cutoff_min``, ``train_cutoff_max``, ``validation_cutoff``,
        ``feature_columns_json``, ``params_json``, ``metrics_json``,
        ``evaluation_json``, ``diagnostics_json``, ``library_versions_json``, ``model_bytes``,
        ``model_sha256``, ``n_train_rows``, ``n_validation_rows``,
        ``validation_roc_auc``, ``validation_pr_auc``, ``baseline_fingerprint``,
        ``calibration_json``, ``gate_status``, ``gate_results_json``,
        ``model_signature`` and ``signing_key_id``.
    """
    versions = dict(library_versions() if versions is None else versions)
    feature_columns = [column.as_dict() for column in trained.feature_columns]
    key = signing_key() if key is None else key
    gates = dict(gate_results or {"status": REJECTED, "gates": []})
    signed = {
        "model_name": model_name,
        "model_version": model_version(
            trained.training_fingerprint,
            trained.params,
            feature_columns,
            versions,
            baseline_fingerprint,
        ),
        "feature_columns_json": json.dumps(feature_columns),
        "gate_status": str(gates["status"]),
    }
    return {
        "model_name": model_name,
        "model_version": signed["model_version"],
        "trained_at": trained_at,
        "training_fingerprint": trained.training_fingerprint,
        "train_cutoff_min": trained.train_cutoffs[0],
        "train_cutoff_max": trained.train_cutoffs[1],
        "validation_cutoff": trained.validation_cutoff,
        "feature_columns_json": signed["feature_columns_json"],
        "params_json": _canonical_json(trained.params),
        "metrics_json": _canonical_json(trained.validation_metrics),
        "evaluation_json": _canonical_json([dict(record) for record in evaluation]),
        "diagnostics_json": _canonical_json(dict(diagnostics or {})),
        "library_versions_json": _canonical_json(versions),
        "model_bytes": artifact.model_bytes,
        "model_sha256": artifact.sha256,
        "n_train_rows": int(trained.n_train_rows),
        "n_validation_rows": int(trained.n_validation_rows),
        "validation_roc_auc": float(trained.validation_metrics["roc_auc"]),
        "validation_pr_auc": float(trained.validation_metrics["pr_auc"]),
        "baseline_fingerprint": baseline_fingerprint,
        "calibration_json": _canonical_json([dict(record) for record in calibration]),
        "gate_status": signed["gate_status"],
        "gate_results_json": _canonical_json(gates),
        "model_signature": sign_model(artifact.model_bytes, signed, key),
        "signing_key_id": key_id(key),
    }


def unregistered_rows(candidates: pd.DataFrame, registered_versions: Iterable[str]) -> pd.DataFrame:
    """The registry rows to append: versions not registered yet, each once.

    The registry is append-only and a version is a deterministic hash of what was
    trained, so an unchanged rebuild must append nothing. Of candidate rows sharing a
    version, the first is kept.

    Args:
        candidates: Rows with a ``model_version`` column (e.g. from :func:`registry_row`).
        registered_versions: Versions already in the registry.

    Returns:
        The rows to append, in their original order, with a fresh index (an empty frame
        with the same columns and dtypes when there are none).
    """
    require_columns(candidates, ["model_version"], "candidates")
    versions = candidates["model_version"]
    keep = ~versions.isin(set(registered_versions)) & ~versions.duplicated()
    return candidates.loc[keep].reset_index(drop=True)


def registry_table(rows: pd.DataFrame) -> pa.Table:
    """Convert registry rows (possibly none) to an Arrow table of :data:`REGISTRY_SCHEMA`.

    Raises:
        ValueError: If ``rows`` lacks a registry column or has an extra one.
    """
    expected = REGISTRY_SCHEMA.names
    if sorted(rows.columns) != sorted(expected):
        missing = sorted(set(expected) - set(rows.columns))
        extra = sorted(set(rows.columns) - set(expected))
        raise ValueError(f"registry rows do not match the schema: missing {missing}, extra {extra}")
    return pa.Table.from_pandas(rows.loc[:, expected], schema=REGISTRY_SCHEMA, preserve_index=False)
