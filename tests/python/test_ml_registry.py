"""Tests for retail_ml.ml.registry (safe persistence and the registry row)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from retail_ml.ml.canonical_archive import canonicalize_skops_archive
from retail_ml.ml.errors import (
    ModelIntegrityError,
    ModelLoadError,
    ModelSignatureError,
    UntrustedModelError,
)
from retail_ml.ml.pipeline import fit_deterministically, make_pipeline
from retail_ml.ml.registry import (
    REGISTRY_SCHEMA,
    TRUSTED_TYPES,
    library_versions,
    load_registered_model,
    registry_row,
    registry_table,
    serialize_model,
    unregistered_rows,
)
from retail_ml.ml.registry import (
    load_model as _load_model,
)
from retail_ml.ml.signing import DEFAULT_KEY_FILE, key_id, sign_model, signing_key
from retail_ml.ml.training import train_purchase_model

SRC = Path(__file__).resolve().parents[2] / "src"
NUMERIC = ["recency_days", "order_count"]
CATEGORICAL = ["country"]
FEATURES = NUMERIC + CATEGORICAL
TRAINED_AT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def _frame(n_rows: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    recency = rng.exponential(60.0, n_rows)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n_rows),
            "cutoff_date": np.repeat([dt.date(2011, 7, 1), dt.date(2011, 8, 1)], n_rows // 2),
            "recency_days": recency,
            "order_count": rng.poisson(3, n_rows).astype("float64"),
            "country": pd.array(rng.choice(["UK", "DE", None], n_rows), dtype="str"),
            "label": (recency + rng.normal(0.0, 10.0, n_rows) < 40.0).astype("int64"),
        }
    )


KEY = b"k" * 32
FIELDS = {
    "model_name": "m",
    "model_version": "0123456789abcdef",
    "feature_columns_json": "[]",
    "gate_status": "passed",
}


def _load(model_bytes, expected_sha256, **kwargs):
    """load_model with a valid signature, to exercise the checks after it."""
    signature = sign_model(bytes(model_bytes), FIELDS, KEY)
    return _load_model(
        model_bytes, expected_sha256, signature=signature, signed_fields=FIELDS, key=KEY, **kwargs
    )


def _fitted_pipeline(seed: int = 0) -> Pipeline:
    frame = _frame()
    pipeline = make_pipeline(NUMERIC, CATEGORICAL, seed)
    return fit_deterministically(pipeline, frame[FEATURES], frame["label"])


def _double(values):
    return values * 2


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return _fitted_pipeline()


@pytest.fixture(scope="module")
def trained():
    return train_purchase_model(_frame(), NUMERIC, CATEGORICAL)


def test_trusted_types_match_what_skops_reports(pipeline: Pipeline) -> None:
    reported = sorted(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)))
    assert list(TRUSTED_TYPES) == reported


def test_serialized_bytes_are_deterministic(pipeline: Pipeline) -> None:
    first = serialize_model(pipeline)
    second = serialize_model(_fitted_pipeline())
    assert first.model_bytes == second.model_bytes
    assert first.sha256 == second.sha256 == hashlib.sha256(first.model_bytes).hexdigest()
    assert serialize_model(_fitted_pipeline(seed=1)).sha256 != first.sha256


def test_serialized_bytes_are_identical_in_a_fresh_interpreter(pipeline: Pipeline) -> None:
    code = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import test_ml_registry as t\n"
        "from retail_ml.ml.registry import serialize_model\n"
        "print(serialize_model(t._fitted_pipeline()).sha256)\n"
    )
    # Different hash seed and thread count than the test process.
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONHASHSEED": "4242", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code, str(Path(__file__).parent)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == serialize_model(pipeline).sha256


def test_canonical_archive_is_idempotent_and_has_fixed_metadata(pipeline: Pipeline) -> None:
    data = serialize_model(pipeline).model_bytes
    assert canonicalize_skops_archive(data) == data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    assert infos[0].filename == "schema.json"
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert all(re.fullmatch(r"\d+\.(npy|bin)", info.filename) for info in infos[1:])


def test_canonicalize_rejects_non_archives() -> None:
    with pytest.raises(ValueError, match="not a skops archive"):
        canonicalize_skops_archive(b"definitely not a zip file")


def test_round_trip_gives_identical_predictions(pipeline: Pipeline) -> None:
    artifact = serialize_model(pipeline)
    loaded = _load(artifact.model_bytes, artifact.sha256)
    assert isinstance(loaded, Pipeline)
    frame = _frame(seed=3)
    np.testing.assert_array_equal(
        loaded.predict_proba(frame[FEATURES]), pipeline.predict_proba(frame[FEATURES])
    )
    # Bytes-like input (e.g. a BLOB read back as memoryview) and an upper-case digest.
    again = _load(memoryview(artifact.model_bytes), artifact.sha256.upper())
    assert serialize_model(again).sha256 == artifact.sha256


def test_tampered_bytes_are_refused(pipeline: Pipeline) -> None:
    artifact = serialize_model(pipeline)
    tampered = bytearray(artifact.model_bytes)
    tampered[len(tampered) // 2] ^= 0xFF
    with pytest.raises(ModelIntegrityError, match="integrity check"):
        _load(bytes(tampered), artifact.sha256)


def test_wrong_or_malformed_digest_is_refused(pipeline: Pipeline) -> None:
    artifact = serialize_model(pipeline)
    with pytest.raises(ModelIntegrityError, match="integrity check"):
        _load(artifact.model_bytes, "0" * 64)
    with pytest.raises(ModelIntegrityError, match="64-character"):
        _load(artifact.model_bytes, "abc")


def test_unreadable_archive_with_matching_digest_is_refused() -> None:
    garbage = b"not a skops archive"
    with pytest.raises(ModelIntegrityError, match="not a readable skops archive"):
        _load(garbage, hashlib.sha256(garbage).hexdigest())


def test_custom_function_is_refused_as_untrusted() -> None:
    frame = _frame()
    custom = Pipeline(
        [
            ("double", FunctionTransformer(_double)),
            ("model", make_pipeline(NUMERIC, [], seed=0)),
        ]
    )
    fit_deterministically(custom, frame[NUMERIC], frame["label"])
    artifact = serialize_model(custom)
    with pytest.raises(UntrustedModelError, match=r"test_ml_registry\._double"):
        _load(artifact.model_bytes, artifact.sha256)


def test_types_outside_a_narrower_allow_list_are_refused(pipeline: Pipeline) -> None:
    artifact = serialize_model(pipeline)
    with pytest.raises(UntrustedModelError, match="TreePredictor"):
        _load(artifact.model_bytes, artifact.sha256, trusted_types=["numpy.dtype"])


def test_non_pipeline_objects_are_refused(pipeline: Pipeline) -> None:
    artifact = serialize_model(pipeline.named_steps["classifier"])
    with pytest.raises(ModelLoadError, match="expected sklearn.pipeline.Pipeline"):
        _load(artifact.model_bytes, artifact.sha256)


def test_package_never_uses_pickle_or_joblib() -> None:
    sources = (SRC / "retail_ml" / "ml").glob("*.py")
    pattern = re.compile(r"^\s*(import|from)\s+(pickle|cPickle|joblib|dill|cloudpickle)\b", re.M)
    offenders = [path.name for path in sources if pattern.search(path.read_text())]
    assert offenders == []


# --- registry_row ------------------------------------------------------------

ROW_KEYS = {
    "model_name",
    "model_version",
    "trained_at",
    "training_fingerprint",
    "train_cutoff_min",
    "train_cutoff_max",
    "validation_cutoff",
    "feature_columns_json",
    "params_json",
    "metrics_json",
    "evaluation_json",
    "diagnostics_json",
    "library_versions_json",
    "model_bytes",
    "model_sha256",
    "n_train_rows",
    "n_validation_rows",
    "validation_roc_auc",
    "validation_pr_auc",
    "baseline_fingerprint",
    "calibration_json",
    "gate_status",
    "gate_results_json",
    "model_signature",
    "signing_key_id",
}


def test_registry_row_contents(trained) -> None:
    artifact = serialize_model(trained.pipeline)
    row = registry_row(trained, artifact, model_name="purchase_30d", trained_at=TRAINED_AT, key=KEY)
    assert set(row) == ROW_KEYS
    assert row["model_name"] == "purchase_30d"
    assert re.fullmatch(r"[0-9a-f]{16}", row["model_version"])
    assert row["trained_at"] == TRAINED_AT
    assert row["training_fingerprint"] == trained.training_fingerprint
    assert row["train_cutoff_min"] == row["train_cutoff_max"] == dt.date(2011, 7, 1)
    assert row["validation_cutoff"] == dt.date(2011, 8, 1)
    assert json.loads(row["feature_columns_json"]) == [
        {"name": "recency_days", "role": "numeric", "dtype": "float64"},
        {"name": "order_count", "role": "numeric", "dtype": "float64"},
        {"name": "country", "role": "categorical", "dtype": "str"},
    ]
    assert json.loads(row["params_json"]) == trained.params
    assert json.loads(row["metrics_json"]) == trained.validation_metrics
    assert json.loads(row["evaluation_json"]) == []
    assert json.loads(row["diagnostics_json"]) == {}
    assert set(json.loads(row["library_versions_json"])) == set(library_versions())
    assert isinstance(row["model_bytes"], bytes)
    assert row["model_sha256"] == hashlib.sha256(row["model_bytes"]).hexdigest()
    assert (row["n_train_rows"], row["n_validation_rows"]) == (120, 120)
    assert row["validation_roc_auc"] == trained.validation_metrics["roc_auc"]
    assert row["validation_pr_auc"] == trained.validation_metrics["pr_auc"]
    assert len(pd.DataFrame([row])) == 1
    assert row["gate_status"] == "rejected", "no gate results: nothing decided it may score"
    assert re.fullmatch(r"[0-9a-f]{64}", row["model_signature"])
    assert row["signing_key_id"] == key_id(KEY)
    assert isinstance(load_registered_model(row, key=KEY), Pipeline)


def _swap_classifier_for_constant_one(row: dict) -> dict:
    """The attack of issue 11: DummyClassifier(constant=1), re-serialised, SHA-256 rewritten."""
    pipeline = load_registered_model(row, key=KEY)
    dummy = DummyClassifier(strategy="constant", constant=1)
    frame = _frame()
    dummy.fit(frame[FEATURES], frame["label"])
    swapped = Pipeline([("preprocess", pipeline.named_steps["preprocess"]), ("classifier", dummy)])
    artifact = serialize_model(swapped)
    return {**row, "model_bytes": artifact.model_bytes, "model_sha256": artifact.sha256}


def test_swapped_classifier_with_rewritten_digest_is_refused(trained) -> None:
    row = registry_row(
        trained, serialize_model(trained.pipeline), model_name="m", trained_at=TRAINED_AT, key=KEY
    )
    swapped = _swap_classifier_for_constant_one(row)
    with pytest.raises(ModelSignatureError, match="signature check"):
        load_registered_model(swapped, key=KEY)
    # Without the signature the swap passes the digest and the allow-list: it is the
    # signature that refuses it (the seeded violation the test guards against).
    loaded = _load(swapped["model_bytes"], swapped["model_sha256"])
    assert set(loaded.predict(_frame()[FEATURES])) == {1}


def test_signature_covers_the_gate_status_and_the_key(trained) -> None:
    row = registry_row(
        trained, serialize_model(trained.pipeline), model_name="m", trained_at=TRAINED_AT, key=KEY
    )
    with pytest.raises(ModelSignatureError):
        load_registered_model({**row, "gate_status": "passed"}, key=KEY)
    with pytest.raises(ModelSignatureError):
        load_registered_model(row, key=b"another-key-" * 4)


def test_signing_key_from_env_or_a_private_file(tmp_path: Path) -> None:
    assert signing_key({"RETAIL_ML_MODEL_SIGNING_KEY": "x" * 40}) == b"x" * 40
    with pytest.raises(ModelSignatureError, match="at least 32"):
        signing_key({"RETAIL_ML_MODEL_SIGNING_KEY": "short"})
    key_file = tmp_path / "secrets" / "model_signing.key"
    first = signing_key({"RETAIL_ML_MODEL_SIGNING_KEY_FILE": str(key_file)})
    assert len(first) == 64 and key_file.stat().st_mode & 0o777 == 0o600
    assert signing_key({"RETAIL_ML_MODEL_SIGNING_KEY_FILE": str(key_file)}) == first


def test_signing_key_file_is_git_ignored() -> None:
    ignored = subprocess.run(  # noqa: S603 - fixed argv
        ["git", "check-ignore", "-q", str(DEFAULT_KEY_FILE)],  # noqa: S607
        cwd=SRC.parent,
        check=False,
    )
    assert ignored.returncode == 0


def test_model_version_is_deterministic(trained) -> None:
    versions = {"numpy": "1", "pandas": "2", "python": "3", "scikit-learn": "4", "skops": "5"}
    artifact = serialize_model(trained.pipeline)
    retrained = train_purchase_model(
        _frame().sample(frac=1.0, random_state=2), NUMERIC, CATEGORICAL
    )

    def version(model, **overrides) -> str:
        row = registry_row(
            model,
            artifact,
            model_name="m",
            trained_at=overrides.pop("trained_at", TRAINED_AT),
            versions={**versions, **overrides},
            key=KEY,
        )
        return row["model_version"]

    reference = version(trained)
    assert version(retrained) == reference
    assert version(trained, trained_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)) == reference
    assert version(trained, numpy="9") != reference
    reseeded = train_purchase_model(_frame(), NUMERIC, CATEGORICAL, seed=1)
    assert version(reseeded) != reference
    other_data = train_purchase_model(_frame(seed=9), NUMERIC, CATEGORICAL)
    assert version(other_data) != reference


def test_registry_row_stores_evaluation_and_diagnostics(trained) -> None:
    records = [{"scorer": "model", "split": "validation", "metric": "roc_auc", "metric_value": 0.8}]
    row = registry_row(
        trained,
        serialize_model(trained.pipeline),
        model_name="m",
        trained_at=TRAINED_AT,
        evaluation=records,
        diagnostics={"split": "validation"},
        key=KEY,
    )
    assert json.loads(row["evaluation_json"]) == records
    assert json.loads(row["diagnostics_json"]) == {"split": "validation"}
    assert list(row) == REGISTRY_SCHEMA.names


# --- append-only registry: unregistered_rows and registry_table -----------------------------


def _candidates(*versions: str) -> pd.DataFrame:
    return pd.DataFrame({"model_version": list(versions), "n": range(len(versions))})


def test_unregistered_rows_drops_registered_versions() -> None:
    new = unregistered_rows(_candidates("a", "b", "c"), registered_versions=["b", "z"])
    assert new["model_version"].tolist() == ["a", "c"]
    assert new.index.tolist() == [0, 1]


def test_unregistered_rows_of_an_unchanged_rebuild_is_empty() -> None:
    candidates = _candidates("a")
    new = unregistered_rows(candidates, registered_versions={"a"})
    assert new.empty
    assert list(new.columns) == list(candidates.columns)
    assert new.dtypes.equals(candidates.dtypes)


def test_unregistered_rows_keeps_the_first_of_duplicated_candidates() -> None:
    new = unregistered_rows(_candidates("a", "b", "a"), registered_versions=())
    assert new["model_version"].tolist() == ["a", "b"]
    assert new["n"].tolist() == [0, 1]


def test_unregistered_rows_needs_a_version_column() -> None:
    with pytest.raises(ValueError, match="model_version"):
        unregistered_rows(pd.DataFrame({"x": [1]}), ())


def test_registry_table_has_the_schema_with_and_without_rows(trained) -> None:
    row = registry_row(
        trained, serialize_model(trained.pipeline), model_name="m", trained_at=TRAINED_AT
    )
    table = registry_table(pd.DataFrame([row]))
    assert table.schema == REGISTRY_SCHEMA and table.num_rows == 1
    empty = registry_table(unregistered_rows(pd.DataFrame([row]), [row["model_version"]]))
    assert empty.schema == REGISTRY_SCHEMA and empty.num_rows == 0


def test_registry_table_names_missing_and_extra_columns(trained) -> None:
    row = registry_row(
        trained, serialize_model(trained.pipeline), model_name="m", trained_at=TRAINED_AT
    )
    frame = pd.DataFrame([row]).drop(columns="model_sha256").assign(extra=1)
    with pytest.raises(ValueError, match=r"missing \['model_sha256'\], extra \['extra'\]"):
        registry_table(frame)
