"""Feature specs: one declaration per feature, from which SQL, contracts and lists follow."""

from retail_ml.features.spec import Carrier, Feature, Spec, SpecError, load_spec, load_specs

__all__ = ["Carrier", "Feature", "Spec", "SpecError", "load_spec", "load_specs"]
