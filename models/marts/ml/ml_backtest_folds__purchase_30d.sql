-- The rolling backtest's folds: one row per evaluated cutoff x cutoff used in that fold. The
-- evaluated cutoffs are the latest `purchase_backtest_folds` training cutoffs; a fold trains on
-- every earlier cutoff whose label had landed, late rows included, by the evaluated cutoff
-- (purchase_label_landed), i.e. what a model fitted on that day could have learned from.

with

requested_dates as (
    select * from {{ ref('int_feature_dates_requested') }}
),

training_cutoffs as (
    select as_of_date as cutoff_date
    from requested_dates
    where is_training_cutoff
),

evaluated_cutoffs as (
    select cutoff_date as evaluated_cutoff
    from training_cutoffs
    qualify row_number() over (order by cutoff_date desc) <= {{ var('purchase_backtest_folds') }}
),

fold_train_cutoffs as (
    select
        evaluated_cutoffs.evaluated_cutoff,
        training_cutoffs.cutoff_date,
        'train' as fold_role
    from evaluated_cutoffs
    inner join training_cutoffs
        on evaluated_cutoffs.evaluated_cutoff > training_cutoffs.cutoff_date
            and {{ purchase_label_landed(
                'training_cutoffs.cutoff_date', 'evaluated_cutoffs.evaluated_cutoff'
            ) }}
),

fold_evaluated_cutoffs as (
    -- A fold with nothing to learn from is no fold.
    select
        evaluated_cutoff,
        evaluated_cutoff as cutoff_date,
        'evaluation' as fold_role
    from evaluated_cutoffs
    where evaluated_cutoff in (select fold_train_cutoffs.evaluated_cutoff from fold_train_cutoffs)
),

final as (
    select
        fold_role,
        evaluated_cutoff,
        cutoff_date
    from fold_train_cutoffs
    union all
    select
        fold_role,
        evaluated_cutoff,
        cutoff_date
    from fold_evaluated_cutoffs
)

select * from final
