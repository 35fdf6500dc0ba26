"""Monitor history: the API, its renderers and ``%modelbook history``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from headless_helpers import Churn, seed_runs
from IPython.core.error import UsageError

import modelbook
from modelbook.errors import ConfigError, NotFoundError
from modelbook.registry.store import HISTORY_COLUMNS, now
from modelbook.render import MIME_TYPE, mimebundle
from modelbook.render.history import MAX_ROWS
from modelbook.run_history import HistoryReport, HistoryRun, parse_since

T0 = datetime(2026, 11, 1, 6, 0, 0)


@pytest.fixture
def two_versions(churn: Churn) -> Churn:
    """churn@1 and churn@2 (same model class, other C), with five fixed runs."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    frame = pd.read_parquet(churn.ok)
    X, y = frame.drop(columns="churned"), frame["churned"]
    modelbook.register(LogisticRegression(C=0.1, max_iter=500).fit(X, y), name="churn")
    seed_runs(
        churn.home,
        [
            {"started_at": T0, "status": "ok", "drift_share": 0.0, "metrics": {"accuracy": 0.9}},
            {"started_at": T0 + timedelta(days=1), "status": "alert", "drift_share": 2 / 3,
             "n_alerts": 4, "metrics": {"accuracy": 0.71, "f1": 0.5}, "source": "interactive"},
            {"started_at": T0 + timedelta(days=2), "status": "error", "drift_share": None,
             "n_alerts": 1, "n_rows": None},
            {"started_at": T0 + timedelta(days=3), "version": 2, "status": "ok",
             "drift_share": 0.25, "metrics": {"accuracy": 0.88}, "n_rows": 12345,
             "notebook": "/jobs/daily.ipynb", "parameters": {"batch": "b.parquet"}},
            {"started_at": T0 + timedelta(days=4), "version": 2, "status": "alert",
             "drift_share": 1.0, "n_alerts": 2, "metrics": {"accuracy": 0.6}},
        ],
    )  # fmt: skip
    return churn


def test_history_of_every_version_newest_first(two_versions: Churn) -> None:
    report = modelbook.history("churn")
    assert isinstance(report, HistoryReport)
    assert [r.started_at for r in report.runs] == [T0 + timedelta(days=d) for d in (4, 3, 2, 1, 0)]
    assert [r.version for r in report.runs] == [2, 2, 1, 1, 1]
    assert report.version is None and report.entry_kind == "model"
    assert report.status_counts == {"ok": 2, "alert": 2, "error": 1}
    assert report.metric_names == ("accuracy", "f1")
    run = report.runs[1]
    assert run.n_rows == 12345 and run.drift_share == 0.25
    assert run.notebook == "/jobs/daily.ipynb" and run.parameters == {"batch": "b.parquet"}
    assert run.duration_seconds == 2.0


def test_stored_columns_are_the_run_fields_in_order() -> None:
    # history() builds each run from a row positionally (10,000 runs stay under 100 ms).
    renamed = {"id": "run_id", "target_version": "version", "batch_dataset": "batch"}
    fields = [f.name for f in dataclasses.fields(HistoryRun)][: len(HISTORY_COLUMNS)]
    assert [renamed.get(c, c) for c in HISTORY_COLUMNS] == fields


@pytest.mark.parametrize("ref", ["churn@1", "churn@production"])
def test_history_of_one_version(two_versions: Churn, ref: str) -> None:
    modelbook.alias("churn@1", "production")
    report = modelbook.history(ref)
    assert report.version == 1 and report.target == "churn@1"
    assert [r.status for r in report.runs] == ["error", "alert", "ok"]


def test_since_and_limit(two_versions: Churn) -> None:
    since = modelbook.history("churn", since=T0 + timedelta(days=2, hours=1))
    assert [r.version for r in since.runs] == [2, 2]
    limited = modelbook.history("churn", limit=2)
    assert [r.started_at for r in limited.runs] == [T0 + timedelta(days=4), T0 + timedelta(days=3)]
    assert limited.total == 5  # counted beyond the limit
    assert modelbook.history("churn@1", limit=5).total == 3
    recent = modelbook.history("churn", since="1d")
    assert recent.runs == ()  # the seeded runs are in the past


def test_parse_since() -> None:
    before = now()
    assert before - timedelta(days=30, seconds=5) < parse_since("30d") <= now() - timedelta(days=30)
    assert abs((now() - parse_since("12h")) - timedelta(hours=12)) < timedelta(seconds=5)
    assert abs((now() - parse_since("2w")) - timedelta(weeks=2)) < timedelta(seconds=5)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1)
    aware = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert parse_since(aware) == datetime(2026, 11, 1, 12, 0)
    assert parse_since(None) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"since": "yesterday"},
            "since='yesterday' is not a duration or a date: write e.g. '30d', '12h', '2w' or "
            "'2026-11-01'.",
        ),
        ({"limit": 0}, "limit=0 must be a positive whole number of runs."),
    ],
)
def test_invalid_arguments(two_versions: Churn, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        modelbook.history("churn", **kwargs)
    assert str(info.value) == message


def test_unknown_name(two_versions: Churn) -> None:
    with pytest.raises(NotFoundError) as info:
        modelbook.history("nope")
    assert str(info.value) == (
        "no model or dataset named 'nope'; registered: churn, churn-training."
    )


def test_no_runs_yet(churn: Churn) -> None:
    report = modelbook.history("churn")
    assert report.runs == ()
    assert str(report) == "monitor history of model churn (all versions): no monitor runs yet"


def test_text_rendering(two_versions: Churn) -> None:
    assert str(modelbook.history("churn", limit=3)) == (
        "monitor history of model churn (all versions): newest 3 of 5 runs: 1 ok, 1 alert, 1 error\n"
        "started              version  status  source     rows    drift share  alerts  accuracy\n"
        "-------------------  -------  ------  ---------  ------  -----------  ------  --------\n"
        "2026-11-05 06:00:00  2        alert   scheduled  100     100%         2       0.6\n"
        "2026-11-04 06:00:00  2        ok      scheduled  12,345  25%          0       0.88\n"
        "2026-11-03 06:00:00  1        error   scheduled                       1"
    )


def test_mimebundle_html_and_json(two_versions: Churn) -> None:
    report = modelbook.history("churn")
    bundle = mimebundle(report)
    html = bundle["text/html"]
    assert "<script" not in html
    assert html.count("<tr>") == 6  # header + five runs
    assert ">ALERT</span>" in html and ">ERROR</span>" in html
    assert "monitor history of model churn (all versions)" in html
    data = bundle[MIME_TYPE]
    assert data["type"] == "history" and data["version"] == 1
    assert len(data["data"]["runs"]) == 5
    assert data["data"]["runs"][0]["started_at"] == "2026-11-05T06:00:00"
    assert data["data"]["runs"][2]["drift_share"] is None


def test_to_frame_oldest_first_with_metric_columns(two_versions: Churn) -> None:
    frame = modelbook.history("churn").to_frame()
    assert list(frame.columns)[-2:] == ["accuracy", "f1"]
    assert frame["status"].tolist() == ["ok", "alert", "error", "ok", "alert"]
    assert frame["f1"].isna().sum() == 4


def test_long_history_is_capped_in_text_not_in_json(churn: Churn) -> None:
    seed_runs(churn.home, [{"started_at": T0 + timedelta(hours=i)} for i in range(MAX_ROWS + 5)])
    report = modelbook.history("churn")
    text = str(report)
    assert text.endswith("… 5 older runs not shown: narrow with since=/limit= or use .to_frame()")
    assert len(text.splitlines()) == 1 + 2 + MAX_ROWS + 1
    assert len(report.to_dict()["runs"]) == MAX_ROWS + 5


def test_magic(two_versions: Churn, ip: Any) -> None:
    report = ip.run_line_magic("modelbook", "history churn@2 --limit 1")
    assert isinstance(report, HistoryReport)
    assert [r.status for r in report.runs] == ["alert"]
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("modelbook", "history churn --since soon")
    assert str(info.value) == (
        "since='soon' is not a duration or a date: write e.g. '30d', '12h', '2w' or '2026-11-01'."
    )


def test_history_of_runs_the_engine_stored(churn: Churn, registry: Path) -> None:
    """End to end with the monitor engine: status, drift share and metrics come through."""
    ok = modelbook.monitor("churn", data=str(churn.ok), target="churned")
    alert = modelbook.monitor("churn", data=str(churn.drift), target="churned")
    report = modelbook.history("churn")
    assert [r.run_id for r in report.runs] == [alert.run_id, ok.run_id]
    newest = report.runs[0]
    assert newest.status == "alert"
    assert newest.drift_share == pytest.approx(alert.drift_share)
    assert newest.metrics["accuracy"] == pytest.approx(alert.metrics["accuracy"])
    assert report.runs[1].status == "ok" and report.runs[1].drift_share == 0.0
