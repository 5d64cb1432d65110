-- Quality gate: the latest registered version of each model must beat the recency/frequency
-- baseline's validation ROC AUC by at least var('ml_min_auc_lift_over_baseline') (absolute AUC
-- points). One row per failing version; a missing model or baseline metric fails too.
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

validation_auc as (
    select
        model_version,
        max(metric_value) filter (where scorer = 'model') as model_roc_auc,
        max(metric_value) filter (where scorer = 'baseline') as baseline_roc_auc
    from metrics
    where split = 'validation' and metric = 'roc_auc'
    group by model_version
),

final as (
    select
        latest_versions.model_name,
        latest_versions.model_version,
        validation_auc.model_roc_auc,
        validation_auc.baseline_roc_auc,
        validation_auc.model_roc_auc - validation_auc.baseline_roc_auc as auc_lift_over_baseline,
        {{ var('ml_min_auc_lift_over_baseline') }} as min_auc_lift_over_baseline
    from latest_versions
    left join validation_auc
        on latest_versions.model_version = validation_auc.model_version
    where validation_auc.model_roc_auc is null
        or validation_auc.baseline_roc_auc is null
        or validation_auc.model_roc_auc - validation_auc.baseline_roc_auc
        < {{ var('ml_min_auc_lift_over_baseline') }}
)

select * from final
