-- Calibration per cutoff month: one row per registered model version x scorer (model, baseline)
-- x cutoff, with the mean predicted probability against the observed purchase rate. Computed
-- when the version was registered (ml_model_registry.calibration_json); seasonal
-- miscalibration shows as a gap that moves with the month.

with

registry as (
    select * from {{ ref('ml_model_registry') }}
),

records as (
    select
        registry.model_name,
        registry.model_version,
        -- A recursive unnest spreads the struct into one column per field, named by the field: an
        -- alias would not name them.
        unnest(  -- noqa: AL03
            from_json(
                registry.calibration_json,
                '[{
                    "scorer": "VARCHAR", "cutoff_date": "DATE", "split": "VARCHAR",
                    "n_rows": "BIGINT", "mean_probability": "DOUBLE", "observed_rate": "DOUBLE",
                    "calibration_gap": "DOUBLE", "brier": "DOUBLE"
                }]'
            ),
            recursive := true
        )
    from registry
),

final as (
    select
        model_name,
        model_version,
        scorer,
        split,
        n_rows,
        mean_probability,
        observed_rate,
        calibration_gap,
        brier,
        cutoff_date
    from records
)

select * from final
