"""retail_ml.dbt_session's argument handling (the session itself runs in every daily e2e)."""

from __future__ import annotations

from pathlib import Path

from retail_ml.dbt_session import parse_args_of, target_path_of


def test_the_parse_keeps_only_the_arguments_dbt_parse_takes():
    build = ["--selector", "intraday_refresh", "--project-dir", "p", "--profiles-dir=p",
             "--full-refresh", "--no-use-colors", "--target-path", "t1", "--log-path", "l",
             "--threads", "2", "--target-path", "t2"]
    assert parse_args_of(build) == ["--project-dir", "p", "--profiles-dir=p",
                                    "--no-use-colors", "--target-path", "t1",
                                    "--log-path", "l", "--target-path", "t2"]


def test_the_target_path_is_the_last_one_given_or_dbts_default():
    assert target_path_of(["--target-path", "a", "--target-path", "b"]) == Path("b")
    assert target_path_of(["--project-dir", "p"]) == Path("target")
