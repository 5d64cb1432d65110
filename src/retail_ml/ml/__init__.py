"""Purchase-propensity modelling for retail_ml.

Thin dbt Python models call one function of this package each:

* training: :func:`train_model_registry_row` (= :func:`train_purchase_model`
  + :func:`serialize_model` + :func:`registry_row`) returns the one-row
  model-registry frame;
* scoring: :func:`score_with_registered_model` (= :func:`load_model`, which
  checks integrity and the type allow-list, + :func:`score_customers`).
"""

from retail_ml.ml.errors import ModelIntegrityError, ModelLoadError, UntrustedModelError
from retail_ml.ml.evaluation import evaluate_scores
from retail_ml.ml.fingerprint import fingerprint_frame
from retail_ml.ml.frames import arrow_to_model_frame
from retail_ml.ml.jobs import score_with_registered_model, train_model_registry_row
from retail_ml.ml.pipeline import fit_deterministically, make_pipeline
from retail_ml.ml.registry import (
    TRUSTED_TYPES,
    ModelArtifact,
    library_versions,
    load_model,
    registry_row,
    serialize_model,
)
from retail_ml.ml.scoring import score_customers
from retail_ml.ml.training import FeatureColumn, TrainedModel, train_purchase_model

__all__ = [
    "TRUSTED_TYPES",
    "FeatureColumn",
    "ModelArtifact",
    "ModelIntegrityError",
    "ModelLoadError",
    "TrainedModel",
    "arrow_to_model_frame",
    "UntrustedModelError",
    "evaluate_scores",
    "fingerprint_frame",
    "fit_deterministically",
    "library_versions",
    "load_model",
    "make_pipeline",
    "registry_row",
    "score_customers",
    "score_with_registered_model",
    "serialize_model",
    "train_model_registry_row",
    "train_purchase_model",
]
