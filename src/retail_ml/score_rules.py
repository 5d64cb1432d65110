"""The project's own dbt-score rules (``[tool.dbt-score] rule_namespaces`` in pyproject.toml).

- ``is_public``: a filter; ``has_example_sql`` applies to public models only: they are what
  analysts query (the published copy), and an example query on a private model would invite
  reading what they cannot reach.
- ``public_columns_typed_and_classified``: every column of a public model has a data type and
  a valid ``pii``/``sensitivity`` classification (the rule of retail_ml.governance, so the
  score drops where the governance check fails).
"""

# No `from __future__ import annotations`: dbt-score reads the rule functions' annotations
# at import time to know what they evaluate.

from dbt_score import Model, RuleViolation, Severity, rule, rule_filter

from retail_ml.governance import column_classification_problems


@rule_filter
def is_public(model: Model) -> bool:
    """Models with `access: public`."""
    return model.access == "public"


@rule(severity=Severity.HIGH, rule_filters={is_public()})
def public_columns_typed_and_classified(model: Model) -> RuleViolation | None:
    """Every column of a public model is typed and classified (meta pii, sensitivity)."""
    problems = column_classification_problems(model._raw_values)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return RuleViolation(problems[0] + more)
    return None
