"""Purchase-propensity modelling for retail_ml.

Thin dbt Python models call one function of this package each:

* training: :func:`register_model_version_from_relations` (the version the
  warehouse tables imply, :func:`plan_model_version`, computed in DuckDB; when it is
  registered nothing is read) then :func:`register_model_version` (= :func:`plan_training`, the
  version check against the registry, :func:`fit_plan`,
  :func:`assess_trained_model` against the SQL baseline, :func:`serialize_model`
  and :func:`registry_row`) returns the registry rows to append: the new
  version, or none when the training data's version is registered already;
* promotion: :func:`retail_ml.ml.champion.champion_changes` appends to the champion history when the
  latest version passed its gates (or on a rollback);
* scoring: :func:`score_with_registered_model` (= the champion's row,
  :func:`load_model`, which checks the signature, the digest and the type
  allow-list, + :func:`score_customers`).

The model card (:mod:`retail_ml.ml.model_card`, ``python -m
retail_ml.ml.model_card``) renders what the registry stored; it needs
matplotlib and is not imported here.
"""

from retail_ml.ml.assessment import Assessment, assess_trained_model
from retail_ml.ml.errors import (
    ModelIntegrityError,
    ModelLoadError,
    ModelSignatureError,
    UntrustedModelError,
)
from retail_ml.ml.evaluation import evaluate_scores
from retail_ml.ml.fingerprint import fingerprint_frame
from retail_ml.ml.frames import arrow_to_model_frame
from retail_ml.ml.gates import GateThresholds, evaluate_gates
from retail_ml.ml.jobs import (
    plan_model_version,
    register_model_version,
    register_model_version_from_relations,
    score_with_registered_model,
    train_model_registry_row,
)
from retail_ml.ml.pipeline import fit_deterministically, make_pipeline
from retail_ml.ml.registry import (
    REGISTRY_SCHEMA,
    TRUSTED_TYPES,
    ModelArtifact,
    library_versions,
    load_model,
    load_registered_model,
    registry_row,
    registry_table,
    serialize_model,
    unregistered_rows,
)
from retail_ml.ml.scoring import score_customers
from retail_ml.ml.training import (
    FeatureColumn,
    TrainedModel,
    TrainingPlan,
    fit_plan,
    plan_training,
    train_purchase_model,
)

__all__ = [
    "REGISTRY_SCHEMA",
    "TRUSTED_TYPES",
    "Assessment",
    "FeatureColumn",
    "GateThresholds",
    "ModelArtifact",
    "ModelIntegrityError",
    "ModelLoadError",
    "ModelSignatureError",
    "TrainedModel",
    "TrainingPlan",
    "UntrustedModelError",
    "arrow_to_model_frame",
    "assess_trained_model",
    "evaluate_gates",
    "evaluate_scores",
    "fingerprint_frame",
    "fit_deterministically",
    "fit_plan",
    "plan_model_version",
    "library_versions",
    "load_model",
    "load_registered_model",
    "make_pipeline",
    "plan_training",
    "register_model_version",
    "register_model_version_from_relations",
    "registry_row",
    "registry_table",
    "score_customers",
    "score_with_registered_model",
    "serialize_model",
    "train_model_registry_row",
    "train_purchase_model",
    "unregistered_rows",
]
