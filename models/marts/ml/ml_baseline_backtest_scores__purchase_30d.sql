-- The recency/frequency baseline in the rolling backtest: one row per backtest fold (evaluated
-- cutoff) x customer of that cutoff, with the baseline's probability calibrated on the fold's
-- training cutoffs only (ml_backtest_folds__purchase_30d). The buckets are those of
-- ml_baseline_scores__purchase_30d (its rf_score and has_ordered_before), the calibration rule
-- is the same macro: only the rows it is calibrated on differ.

with

baseline_scores as (
    select * from {{ ref('ml_baseline_scores__purchase_30d') }}
),

folds as (
    select * from {{ ref('ml_backtest_folds__purchase_30d') }}
),

fold_train_rows as (
    select
        folds.evaluated_cutoff,
        baseline_scores.rf_score,
        baseline_scores.has_ordered_before,
        baseline_scores.has_purchase_next_30d
    from folds
    inner join baseline_scores
        on folds.cutoff_date = baseline_scores.cutoff_date
    where folds.fold_role = 'train'
),

fold_purchase_rates as (
    select
        evaluated_cutoff,
        avg(cast(has_purchase_next_30d as double)) as purchase_rate
    from fold_train_rows
    group by evaluated_cutoff
),

fold_bucket_rates as (
    select
        evaluated_cutoff,
        rf_score,
        has_ordered_before,
        count(*) as train_rows,
        count(*) filter (where has_purchase_next_30d) as train_purchases
    from fold_train_rows
    group by evaluated_cutoff, rf_score, has_ordered_before
),

evaluated_rows as (
    select
        baseline_scores.customer_id,
        baseline_scores.rf_score,
        baseline_scores.has_ordered_before,
        baseline_scores.has_purchase_next_30d,
        folds.evaluated_cutoff
    from folds
    inner join baseline_scores
        on folds.cutoff_date = baseline_scores.cutoff_date
    where folds.fold_role = 'evaluation'
),

final as (
    select
        evaluated_rows.customer_id,
        evaluated_rows.rf_score,
        coalesce(fold_bucket_rates.train_rows, 0) as bucket_train_rows,
        {{ purchase_baseline_probability(
            'fold_bucket_rates.train_purchases',
            'fold_bucket_rates.train_rows',
            'fold_purchase_rates.purchase_rate'
        ) }} as probability,
        evaluated_rows.has_ordered_before,
        evaluated_rows.has_purchase_next_30d,
        evaluated_rows.evaluated_cutoff
    from evaluated_rows
    inner join fold_purchase_rates
        on evaluated_rows.evaluated_cutoff = fold_purchase_rates.evaluated_cutoff
    left join fold_bucket_rates
        on evaluated_rows.evaluated_cutoff = fold_bucket_rates.evaluated_cutoff
            and evaluated_rows.rf_score = fold_bucket_rates.rf_score
            and evaluated_rows.has_ordered_before = fold_bucket_rates.has_ordered_before
)

select * from final
