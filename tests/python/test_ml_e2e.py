"""End to end: the ML layer of the session's `dbt build` (baseline, metrics, gates, registry).

Reuses the session build; tests that must change the warehouse work on their own copy of it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import BuiltWarehouse, run_dbt
from retail_ml.ml.assessment import REPORTED_METRICS
from retail_ml.ml.signing import signing_key

pytestmark = pytest.mark.e2e

GATES = {
    "assert_ml_model_meets_min_validation_auc",
    "assert_ml_model_beats_baseline_auc",
    "assert_ml_latest_model_passed_its_gates",
}
ML_MODELS = [
    "ml_baseline_scores__purchase_30d",
    "ml_model_registry",
    "ml_model_metrics",
    "ml_model_champions",
    "ml_customer_scores",
    "ml_customer_score_history",
]
SCORES_SQL = "select * from ml_customer_scores order by customer_id"
CHAMPIONS_SQL = (
    "select champion_seq, model_version, action, reason, previous_model_version"
    " from ml_model_champions order by champion_seq"
)


def _query(db_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _copy_of(built: BuiltWarehouse, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built.db_path, copy)
    return copy


def _dbt(args: list[str], built: BuiltWarehouse, db_path: Path, tmp_path: Path):
    return run_dbt(args, raw_dir=built.raw_dir, db_path=db_path, work_dir=tmp_path)


def test_metrics_cover_model_and_baseline_on_both_splits(built_warehouse) -> None:
    rows = _query(
        built_warehouse.db_path,
        "select scorer, split, list(metric order by metric), count(distinct model_version)"
        " from ml_model_metrics group by all order by all",
    )
    assert [(scorer, split) for scorer, split, _, _ in rows] == [
        ("baseline", "train"),
        ("baseline", "validation"),
        ("model", "train"),
        ("model", "validation"),
    ]
    assert all(metrics == sorted(REPORTED_METRICS) for _, _, metrics, _ in rows)
    assert all(versions == 1 for *_, versions in rows)
    ((registry_auc, metrics_auc, baseline_auc),) = _query(
        built_warehouse.db_path,
        """
        select
            any_value(r.validation_roc_auc),
            max(m.metric_value) filter (where m.scorer = 'model'),
            max(m.metric_value) filter (where m.scorer = 'baseline'),
        from ml_model_registry as r
        inner join ml_model_metrics as m
            on r.model_version = m.model_version
            and m.split = 'validation' and m.metric = 'roc_auc'
        """,
    )
    assert metrics_auc == registry_auc
    assert 0.6 < baseline_auc < metrics_auc, "the session build passed the gates"


def test_baseline_probability_is_the_smoothed_train_rate_of_its_bucket(built_warehouse) -> None:
    ((mismatches, buckets),) = _query(
        built_warehouse.db_path,
        """
        with b as (from ml_baseline_scores__purchase_30d),
        base as (select avg(has_purchase_next_30d::double) as rate from b where split = 'train'),
        buckets as (
            select rf_score, has_ordered_before, count(*) as n,
                count(*) filter (where has_purchase_next_30d) as k
            from b where split = 'train' group by all
        )
        select
            count(*) filter (
                where abs(b.probability - (coalesce(k, 0) + base.rate) / (coalesce(n, 0) + 1))
                    > 1e-12
            ),
            count(distinct (b.rf_score, b.has_ordered_before)),
        from b cross join base left join buckets using (rf_score, has_ordered_before)
        """,
    )
    assert mismatches == 0
    assert buckets >= 5


def test_scores_use_the_version_flagged_latest(built_warehouse) -> None:
    latest = _query(
        built_warehouse.db_path,
        "select distinct model_version from ml_model_metrics where is_latest_version",
    )
    scored = _query(
        built_warehouse.db_path, "select distinct model_version from ml_customer_scores"
    )
    assert latest == scored and len(scored) == 1


def test_quality_gates_fail_when_thresholds_are_impossible(built_warehouse, tmp_path) -> None:
    run = _dbt(
        [
            "test",
            "--select",
            "tag:ml_quality_gate",
            "--vars",
            "{ml_min_validation_auc: 1.01, ml_min_auc_lift_over_baseline: 1.0}",
        ],
        built_warehouse,
        built_warehouse.db_path,
        tmp_path,
    )
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in run.results}
    assert run.returncode != 0, run.output[-2000:]
    assert statuses == {
        "assert_ml_model_meets_min_validation_auc": "fail",
        "assert_ml_model_beats_baseline_auc": "fail",
        # Decided at registration with the thresholds of that build: still passed.
        "assert_ml_latest_model_passed_its_gates": "pass",
    }


def test_rebuild_with_unchanged_data_appends_no_version(built_warehouse, tmp_path) -> None:
    db_path = _copy_of(built_warehouse, tmp_path)
    registry_sql = "select model_version, trained_at, model_sha256 from ml_model_registry"
    before = _query(db_path, registry_sql)
    run = _dbt(["build", "--select", "ml_model_registry"], built_warehouse, db_path, tmp_path)
    assert run.returncode == 0 and not run.failures(), run.output[-3000:]
    assert _query(db_path, registry_sql) == before
    assert len(before) == 1


def test_changed_data_appends_a_version_even_on_full_refresh(built_warehouse, tmp_path) -> None:
    db_path = _copy_of(built_warehouse, tmp_path)
    ((old_version, old_trained_at),) = _query(
        db_path, "select model_version, trained_at from ml_model_registry"
    )
    with duckdb.connect(str(db_path)) as con:
        con.execute("delete from ml_training_set__purchase_30d where customer_id % 10 = 0")
    run = _dbt(
        [
            "build",
            "--full-refresh",
            "--select",
            "ml_baseline_scores__purchase_30d",
            "ml_model_registry",
            "ml_model_metrics",
            "ml_model_champions",
            "ml_customer_scores",
        ],
        built_warehouse,
        db_path,
        tmp_path,
    )
    assert run.returncode == 0 and not run.failures(), run.output[-3000:]

    registry = _query(db_path, "select model_version, trained_at from ml_model_registry order by 2")
    assert len(registry) == 2
    assert registry[0] == (old_version, old_trained_at), "the registry survives --full-refresh"
    new_version = registry[1][0]
    assert new_version != old_version
    assert _query(db_path, "select distinct model_version from ml_customer_scores") == [
        (new_version,)
    ]
    metrics = _query(
        db_path,
        "select model_version, bool_and(is_latest_version), count(*)"
        " from ml_model_metrics group by all order by 3, 1",
    )
    rows_per_version = 2 * 2 * len(REPORTED_METRICS)
    assert sorted(metrics) == sorted(
        [(old_version, False, rows_per_version), (new_version, True, rows_per_version)]
    )


def test_columns_match_yaml_catches_a_changed_and_an_undocumented_column(
    built_warehouse, tmp_path
) -> None:
    db_path = _copy_of(built_warehouse, tmp_path)
    with duckdb.connect(str(db_path)) as con:
        con.execute("alter table ml_customer_scores alter decile type integer")
        con.execute("alter table ml_customer_scores add column scored_at timestamp")
    run = _dbt(
        ["test", "--select", "test_name:columns_match_yaml", "--store-failures"],
        built_warehouse,
        db_path,
        tmp_path,
    )
    outcome = {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in run.results}
    assert outcome == {
        "columns_match_yaml_ml_customer_scores_": ("fail", 2),
        "columns_match_yaml_ml_feature_drift_": ("pass", 0),
        "columns_match_yaml_ml_model_backtest_": ("pass", 0),
        "columns_match_yaml_ml_model_champions_": ("pass", 0),
        "columns_match_yaml_ml_model_registry_": ("pass", 0),
        "columns_match_yaml_ml_product_recommendations_closed_": ("pass", 0),
        "columns_match_yaml_ml_product_recommendations_fresh_": ("pass", 0),
        "columns_match_yaml_ml_recommendation_metrics_": ("pass", 0),
        "columns_match_yaml_ml_recommender_statistics_": ("pass", 0),
    }, run.output[-3000:]
    problems = _query(
        db_path,
        "select column_name, yaml_data_type, actual_data_type, problem"
        " from main_dbt_test__audit.columns_match_yaml_ml_customer_scores_ order by 1",
    )
    assert problems == [
        ("decile", "bigint", "INTEGER", "type differs"),
        ("scored_at", None, "TIMESTAMP", "in the relation, not documented in YAML"),
    ]


def test_a_model_trained_on_shuffled_labels_is_rejected_and_never_scores(
    built_warehouse, tmp_path
) -> None:
    db_path = _copy_of(built_warehouse, tmp_path)
    scores_before = _query(db_path, SCORES_SQL)
    champions_before = _query(db_path, CHAMPIONS_SQL)
    shuffled = ["--vars", "{ml_shuffle_train_labels_seed: 7}"]

    run = _dbt(["build", "--select", *ML_MODELS, *shuffled], built_warehouse, db_path, tmp_path)
    assert run.returncode != 0, "the gates must fail the build"
    failed = {r["unique_id"].rsplit(".", 1)[-1] for r in run.results if r["status"] == "fail"}
    assert {"assert_ml_latest_model_passed_its_gates"} <= failed, run.output[-3000:]
    registry = _query(
        db_path,
        "select model_version, gate_status, gate_results_json from ml_model_registry"
        " order by trained_at",
    )
    assert [status for _, status, _ in registry] == ["passed", "rejected"]
    assert '"gate":"min_validation_auc","passed":false' in registry[1][2]

    # Bypass attempts: no tests at all, and a build without the gates.
    for args in (
        ["run", "--select", *ML_MODELS, *shuffled],
        ["build", "--select", *ML_MODELS, "--exclude", "tag:ml_quality_gate", *shuffled],
    ):
        bypass = _dbt(args, built_warehouse, db_path, tmp_path)
        assert bypass.returncode == 0 and not bypass.failures(), bypass.output[-3000:]
        assert _query(db_path, CHAMPIONS_SQL) == champions_before
        assert _query(db_path, SCORES_SQL) == scores_before
    assert len(_query(db_path, "select * from ml_model_registry")) == 2


def test_rollback_appends_a_champion_row_and_rescores(built_warehouse, tmp_path) -> None:
    db_path = _copy_of(built_warehouse, tmp_path)
    ((first,),) = _query(db_path, "select model_version from ml_model_champions")
    scores_before = _query(db_path, SCORES_SQL)
    with duckdb.connect(str(db_path)) as con:
        con.execute("delete from ml_training_set__purchase_30d where customer_id % 10 = 0")
    # A second version, promoted whatever its gates say (thresholds that any model passes).
    lenient = "ml_min_validation_auc: 0, ml_min_auc_lift_over_baseline: -1, "
    lenient += "ml_max_brier_excess_over_baseline: 1"
    run = _dbt(
        ["build", "--select", *ML_MODELS, "--vars", "{" + lenient + "}"],
        built_warehouse,
        db_path,
        tmp_path,
    )
    assert run.returncode == 0 and not run.failures(), run.output[-3000:]
    ((second,),) = _query(
        db_path, "select model_version from ml_model_champions where champion_seq = 2"
    )
    assert second != first

    rollback = f"{{ml_champion_rollback_to: '{first}', ml_champion_rollback_reason: 'incident 42'}}"
    select = ["--select", "ml_model_champions", "ml_customer_scores", "ml_customer_score_history"]
    for _ in range(2):  # the second rollback to the same version appends nothing
        run = _dbt(["build", *select, "--vars", rollback], built_warehouse, db_path, tmp_path)
        assert run.returncode == 0 and not run.failures(), run.output[-3000:]
    expected = [
        (1, first, "promote", "latest registered version; all quality gates passed", None),
        (2, second, "promote", "latest registered version; all quality gates passed", first),
        (3, first, "rollback", "incident 42", second),
    ]
    assert _query(db_path, CHAMPIONS_SQL) == expected
    assert _query(db_path, SCORES_SQL) == scores_before
    # The history kept both versions' scores of the day, each once (appended, not overwritten).
    history = _query(
        db_path,
        "select model_version, count(*), count(distinct customer_id)"
        " from ml_customer_score_history group by all order by all",
    )
    assert sorted(v for v, _, _ in history) == sorted([first, second])
    assert {(n, d) for _, n, d in history} == {(len(scores_before), len(scores_before))}
    # A later build without the vars keeps the rollback (the second is not re-promoted).
    run = _dbt(["build", *select], built_warehouse, db_path, tmp_path)
    assert run.returncode == 0 and not run.failures(), run.output[-3000:]
    assert _query(db_path, CHAMPIONS_SQL) == expected


def test_monitoring_tables_describe_the_champion(built_warehouse) -> None:
    db = built_warehouse.db_path
    ((champion, features_json),) = _query(
        db,
        "select r.model_version, r.feature_columns_json from ml_model_registry as r"
        " inner join ml_model_champions as c using (model_version)",
    )
    drift = _query(
        db, "select model_version, feature, psi, drift_level from ml_feature_drift order by rowid"
    )
    features = [column["name"] for column in json.loads(features_json)]
    assert [feature for _, feature, _, _ in drift] == [*features, "__score__"]
    assert {version for version, *_ in drift} == {champion}
    assert all(psi >= 0 and level in {"ok", "warn", "alert"} for _, _, psi, level in drift)
    assert _query(db, "select count(*) from ml_customer_score_history") == _query(
        db, "select count(*) from ml_customer_scores"
    )
    ((cutoffs, scorers),) = _query(
        db, "select count(distinct cutoff_date), count(distinct scorer) from ml_model_calibration"
    )
    assert (cutoffs, scorers) == (
        _query(db, "select count(distinct cutoff_date) from ml_training_set__purchase_30d")[0][0],
        2,
    )


def test_drift_tests_warn_and_never_block(built_warehouse, tmp_path) -> None:
    run = _dbt(
        [
            "test",
            "--select",
            "ml_feature_drift",
            "--vars",
            "{ml_drift_psi_warn: 0.000001, ml_drift_psi_alert: 0.000002}",
        ],
        built_warehouse,
        built_warehouse.db_path,
        tmp_path,
    )
    statuses = {r["unique_id"].split(".")[2]: r["status"] for r in run.results}
    assert run.returncode == 0, run.output[-3000:]
    assert statuses["ml_feature_drift_psi_below_warn"] == "warn"
    assert statuses["ml_feature_drift_psi_below_alert"] == "warn"


def test_the_signing_key_is_not_in_the_warehouse(built_warehouse) -> None:
    key = signing_key().decode()
    with duckdb.connect(str(built_warehouse.db_path), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name from duckdb_columns()"
            " where data_type in ('VARCHAR', 'BLOB') and table_name like 'ml_%'"
        ).fetchall()
        hits = [
            (table, column)
            for table, column in columns
            if con.execute(
                f"select count(*) from {table} where contains(cast({column} as varchar), ?)",  # noqa: S608
                [key],
            ).fetchone()[0]
        ]
    assert len(columns) > 20
    assert hits == []


def test_realised_outcomes_match_the_label_once_the_window_has_passed(
    built_warehouse, tmp_path
) -> None:
    db_path = _copy_of(built_warehouse, tmp_path)
    assert _query(db_path, "select count(*) from ml_score_realised_lift") == [(0,)], (
        "the serving day's label window has not passed"
    )
    cutoff = "2026-09-30"
    with duckdb.connect(str(db_path)) as con:  # scores published on a past day, seeded
        con.execute(
            f"""
            insert into ml_customer_score_history
            select s.customer_id, s.model_name, s.model_version, s.probability, s.decile,
                date '{cutoff}'
            from ml_customer_scores as s
            inner join ml_training_set__purchase_30d as t
                on s.customer_id = t.customer_id and t.cutoff_date = date '{cutoff}'
            """  # noqa: S608
        )
    run = _dbt(["build", "--select", "ml_score_realised_lift"], built_warehouse, db_path, tmp_path)
    assert run.returncode == 0 and not run.failures(), run.output[-3000:]
    mismatches = _query(
        db_path,
        f"""
        with expected as (
            select h.decile, avg(t.has_purchase_next_30d::double) as rate, count(*) as n
            from ml_customer_score_history as h
            inner join ml_training_set__purchase_30d as t
                on h.customer_id = t.customer_id and t.cutoff_date = h.as_of_date
            where h.as_of_date = date '{cutoff}'
            group by h.decile
        )
        select
            count(*) filter (
                where abs(l.realised_rate - e.rate) > 1e-12 or l.n_customers != e.n
            ),
            count(*)
        from ml_score_realised_lift as l
        inner join expected as e using (decile)
        where l.as_of_date = date '{cutoff}'
        """,  # noqa: S608
    )
    assert mismatches == [(0, 10)]
