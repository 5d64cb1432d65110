-- Quality gate: the latest registered version of each model (the one that scores customers) must
-- reach var('ml_min_validation_auc') ROC AUC on the validation cutoff. One row per failing
-- version; a version without the metric fails too.
{{ config(tags=['ml_quality_gate']) }}

with

registry as (
    select * from {{ ref('ml_model_registry') }}
),

metrics as (
    select * from {{ ref('ml_model_metrics') }}
),

latest_versions as (
    select
        model_name,
        model_version
    from registry
    qualify {{ ml_is_latest_model_version() }}
),

model_validation_auc as (
    select
        model_version,
        metric_value as validation_roc_auc
    from metrics
    where scorer = 'model' and split = 'validation' and metric = 'roc_auc'
),

final as (
    select
        latest_versions.model_name,
        latest_versions.model_version,
        model_validation_auc.validation_roc_auc,
        {{ var('ml_min_validation_auc') }} as min_validation_auc
    from latest_versions
    left join model_validation_auc
        on latest_versions.model_version = model_validation_auc.model_version
    where model_validation_auc.validation_roc_auc is null
        or model_validation_auc.validation_roc_auc < {{ var('ml_min_validation_auc') }}
)

select * from final
