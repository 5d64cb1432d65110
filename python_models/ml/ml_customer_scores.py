"""Scores every served customer (feat_customer_serving: as of the latest complete day, or of
today for a fresh customer) with the champion, and only with it.

The champion comes from ml_model_champions (a version whose signed gate_status is `passed`);
loading checks the signature, the digest and the type allow-list. No selection or command can
make this model score with a version that failed its gates.
"""

from retail_ml.ml import arrow_to_model_frame, score_with_registered_model


def model(dbt, session):
    dbt.config(materialized="table")
    registry = arrow_to_model_frame(dbt.ref("ml_model_registry").to_arrow_table())
    champions = arrow_to_model_frame(dbt.ref("ml_model_champions").to_arrow_table())
    serving = arrow_to_model_frame(dbt.ref("feat_customer_serving").to_arrow_table())
    return score_with_registered_model(
        registry,
        champions,
        serving,
        model_name=dbt.config.get("model_name"),
        passthrough_columns=["as_of_date"],
    )
