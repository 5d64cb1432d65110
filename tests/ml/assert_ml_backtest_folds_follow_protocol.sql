-- The rolling backtest's protocol: a fold trains only on cutoffs before the one it evaluates,
-- whose label window plus the lateness margin ended by then, and every fold has its evaluated
-- cutoff and at least one training cutoff. One row per violation.

with

folds as (
    select * from {{ ref('ml_backtest_folds__purchase_30d') }}
),

bad_train_cutoffs as (
    select
        evaluated_cutoff,
        cutoff_date,
        'training cutoff not before the evaluated one, or its label not landed by it' as problem
    from folds
    where fold_role = 'train'
        and (
            cutoff_date >= evaluated_cutoff
            or not ({{ purchase_label_landed('cutoff_date', 'evaluated_cutoff') }})
        )
),

bad_folds as (
    select
        evaluated_cutoff,
        cast(null as date) as cutoff_date,
        'a fold needs its evaluated cutoff and at least one training cutoff' as problem
    from folds
    group by evaluated_cutoff
    having count(*) filter (where fold_role = 'evaluation' and cutoff_date = evaluated_cutoff) != 1
        or count(*) filter (where fold_role = 'train') = 0
),

final as (
    select * from bad_train_cutoffs
    union all
    select * from bad_folds
)

select * from final
