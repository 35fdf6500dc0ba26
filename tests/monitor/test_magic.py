"""``%monitor`` in a real IPython shell: same flags as the API, one-line UsageErrors."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from monitor_data import labels_for

import modelbook
from modelbook import magics
from modelbook.monitoring import MonitorReport


def test_flags_are_api_keywords() -> None:
    keywords = set(inspect.signature(modelbook.api.monitor).parameters)
    flags = {a.dest for a in magics.MONITOR._actions if a.option_strings and a.dest != "help"}
    assert flags == {
        "data", "target", "reference", "columns", "store", "fail_on_alert", "rules", "trust",
        "scores", "predicted", "time", "chunk", "multivariate", "id", "challenger",
        "segments", "sensitive",
    }  # fmt: skip
    assert flags <= keywords


def test_monitor_magic(ip: Any, trained: Any, drifted: pd.DataFrame) -> None:
    ip.user_ns["batch"] = drifted
    ip.user_ns["y"] = labels_for(drifted, seed=3)
    report = ip.run_line_magic("monitor", "churn --data batch --target y --store none")
    assert isinstance(report, MonitorReport)
    assert report.status == "alert" and report.drift is not None
    assert report.drift.drifted_columns == ("tenure",)
    assert "accuracy" in report.metrics and report.run_id is None
    only = ip.run_line_magic("monitor", "churn@1 --data batch --columns charges,plan --store none")
    assert only.drift is not None
    assert [c.column for c in only.drift.columns] == ["charges", "plan"]
    spaced = ip.run_line_magic("monitor", "churn --data batch --columns charges plan --store none")
    assert spaced.drift is not None and len(spaced.drift.columns) == 2
    ip.user_ns["r"] = {"checks": {"drift.column": "info", "drift.dataset": "info"}}
    quiet = ip.run_line_magic(
        "monitor", "churn --data batch --store none --rules r --columns tenure charges calls plan"
    )
    assert not any(c.check.startswith("drift.column") and c.status == "alert" for c in quiet.checks)


def test_monitor_magic_parquet_path_and_column_target(
    ip: Any, trained: Any, drifted: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "batch.parquet"
    drifted.assign(churned=labels_for(drifted, seed=3)).to_parquet(path)
    report = ip.run_line_magic(
        "monitor", f"churn --data {path} --target churned --reference churn-training@1"
    )
    assert report.n_rows == len(drifted) and "accuracy" in report.metrics
    assert report.run_id is not None  # stored by default


def test_fail_on_alert(ip: Any, trained: Any, drifted: pd.DataFrame, batch: pd.DataFrame) -> None:
    ip.user_ns["good"] = batch
    ok = ip.run_line_magic("monitor", "churn --data good --fail-on-alert")
    assert ok.status == "ok"
    ip.user_ns["bad"] = drifted
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("monitor", "churn --data bad --fail-on-alert")
    assert type(info.value) is UsageError
    message = str(info.value)
    assert message.startswith("%monitor --fail-on-alert: monitor run of churn@1: alert, ")
    assert "drift.column [tenure]: drifted: wasserstein" in message
    assert "\n" not in message
    runs = modelbook.api.open_registry().monitor_runs("churn")
    assert [r["status"] for r in runs] == ["alert", "ok"]  # stored before raising


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "churn --data nothing",
            "--data 'nothing' is neither a notebook variable nor a .parquet/.csv path: run the "
            "cell that creates it first.",
        ),
        ("churn", "%monitor: the following arguments are required: --data (see %monitor --help)"),
        (
            "churn --data batch --store all",
            "%monitor: argument --store: invalid choice: 'all' (choose from 'none', 'profile', 'data') "
            "(see %monitor --help)",
        ),
        (
            "ghost --data batch",
            "no model or dataset named 'ghost'; registered: churn, churn-training.",
        ),
        (
            "churn --data batch --target nope",
            "target column 'nope' is not in the batch; columns: tenure, charges, calls, plan.",
        ),
        (
            "churn --data batch --rules \"{'checks':\"",
            "--rules \"{'checks':\" is not a dict literal: write --rules \"{'checks': "
            "{'schema.unexpected': 'info'}}\" or pass a variable.",
        ),
        (
            "churn --data batch --rules \"{'stores': 1}\"",
            "unknown setting 'stores' in monitor; allowed: store, progress, packages, drift, "
            "multivariate, fairness, checks, columns, id_column, prediction_log_days, "
            "segments, max_segments, min_group.",
        ),
        (
            "churn --data missing.parquet",
            "data file missing.parquet does not exist.",
        ),
    ],
)
def test_usage_errors(ip: Any, trained: Any, batch: pd.DataFrame, line: str, message: str) -> None:
    ip.user_ns["batch"] = batch
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("monitor", line)
    assert type(info.value) is UsageError
    assert str(info.value) == message
