-- Quality gate: the latest registered version of each model passed the gates decided when it
-- was registered (gate_status, incl. the calibration gate). One row per rejected latest version.
-- Visible check only: scoring reads the champion, which is never a rejected version.
{{ config(tags=['ml_quality_gate']) }}

with

registry as (
    select * from {{ ref('ml_model_registry') }}
),

metrics as (
    -- Read so that the test runs with the other gates, before promotion.
    select distinct model_version from {{ ref('ml_model_metrics') }}
),

latest_versions as (
    select
        model_name,
        model_version,
        gate_status,
        gate_results_json
    from registry
    qualify {{ ml_is_latest_model_version() }}
),

final as (
    select
        latest_versions.model_name,
        latest_versions.model_version,
        latest_versions.gate_status,
        latest_versions.gate_results_json
    from latest_versions
    left join metrics
        on latest_versions.model_version = metrics.model_version
    where latest_versions.gate_status != 'passed'
        or metrics.model_version is null
)

select * from final
