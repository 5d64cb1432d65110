-- One row per registered model version x scorer (model, baseline) x split (train, validation) x
-- metric. The metrics were computed once, when the version was registered, from exactly the rows
-- it was trained and validated on, and are stored with it (ml_model_registry.evaluation_json).

with

registry as (
    select * from {{ ref('ml_model_registry') }}
),

versions as (
    select
        model_name,
        model_version,
        evaluation_json,
        {{ ml_is_latest_model_version() }} as is_latest_version,
        trained_at
    from registry
),

records as (
    select
        versions.model_name,
        versions.model_version,
        versions.is_latest_version,
        versions.trained_at,
        -- A recursive unnest spreads the struct into one column per field, named by the field: an
        -- alias would not name them.
        unnest(  -- noqa: AL03
            from_json(
                versions.evaluation_json,
                '[{
                    "scorer": "VARCHAR", "split": "VARCHAR", "metric": "VARCHAR",
                    "metric_value": "DOUBLE", "n_rows": "BIGINT", "positive_rate": "DOUBLE",
                    "cutoff_min": "DATE", "cutoff_max": "DATE"
                }]'
            ),
            recursive := true
        )
    from versions
),

final as (
    select
        model_name,
        model_version,
        scorer,
        split,
        metric,
        metric_value,
        n_rows,
        positive_rate,
        is_latest_version,
        cutoff_min as split_cutoff_min,
        cutoff_max as split_cutoff_max,
        trained_at
    from records
)

select * from final
