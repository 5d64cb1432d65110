"""Promotes the latest registered version to champion if its gates passed; append-only history.

Reads ml_model_metrics so that dbt runs the quality gates (tests on it) first: in `dbt build` a
failing gate skips this model. Under any other command or selection the package still refuses
to promote a version whose signed gate_status is not `passed`. Rollback: the dbt vars
`ml_champion_rollback_to` and `ml_champion_rollback_reason` (see the ml_model_champions docs).
"""

from datetime import UTC, datetime

import pandas as pd

from retail_ml.ml import arrow_to_model_frame
from retail_ml.ml.champion import CHAMPIONS_SCHEMA, champion_changes


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="fail",
        full_refresh=False,
    )
    registry = arrow_to_model_frame(
        dbt.ref("ml_model_registry")
        .select("model_name, model_version, trained_at, gate_status")
        .to_arrow_table()
    )
    dbt.ref("ml_model_metrics")  # ordering only: the gate tests on it run before promotion
    rollback_to = str(dbt.config.get("rollback_to")).removeprefix("version:")
    rollback_reason = dbt.config.get("rollback_reason")
    champions = pd.DataFrame(columns=CHAMPIONS_SCHEMA.names)
    if dbt.is_incremental:
        query = f"select * from {dbt.this}"  # noqa: S608 - dbt's own relation name
        champions = session.execute(query).df()
    return champion_changes(
        registry,
        champions,
        model_name=dbt.config.get("model_name"),
        changed_at=datetime.now(UTC),
        rollback_to=rollback_to or None,
        rollback_reason=str(rollback_reason) if rollback_reason else None,
    )
