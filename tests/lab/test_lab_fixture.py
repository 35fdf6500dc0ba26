"""The saved fixture notebook still matches the result classes it was made from.

When a result gains or loses a field, the browser tests would keep passing on old data; this
says to regenerate the fixture (and to check the renderer shows the new field).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from make_fixture import FIXTURE

from modelbook.late_labels import FeedbackReport
from modelbook.monitoring.challenger import ChallengerComparison
from modelbook.monitoring.report import MonitorReport
from modelbook.monitoring.timeline import MonitorTimeline
from modelbook.policies import PolicyStatus
from modelbook.render import MIME_TYPE
from modelbook.results import AliasChange, DatasetVersion, GcReport, Listing, ModelVersion
from modelbook.run_history import HistoryReport
from modelbook.version_diff import DatasetDiff, ModelDiff

CLASSES = {
    cls.kind: cls
    for cls in (
        AliasChange,
        ChallengerComparison,
        DatasetDiff,
        DatasetVersion,
        FeedbackReport,
        GcReport,
        HistoryReport,
        Listing,
        ModelDiff,
        ModelVersion,
        MonitorReport,
        MonitorTimeline,
        PolicyStatus,
    )
}
# Keys a class's lab data adds to its fields (derived properties its to_dict writes).
DERIVED = {ChallengerComparison: {"verdict"}, FeedbackReport: {"status"}}


def bundles() -> list[dict[str, object]]:
    notebook = json.loads(FIXTURE.read_text())
    return [
        output["data"][MIME_TYPE]
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if MIME_TYPE in output.get("data", {})
    ]


def expected_keys(cls: type, bundle: dict[str, object]) -> set[str]:
    """The keys a bundle of ``cls`` has today: its fields, or for a timeline (whose lab data is
    a compact summary, not its fields) the keys of a timeline made today from the fixture's
    own chunk reports, with each chunk's keys too (``chunks.<key>``)."""
    if cls is not MonitorTimeline:
        return {f.name for f in dataclasses.fields(cls)} | DERIVED.get(cls, set())
    data = bundle["data"]
    assert isinstance(data, dict)
    report = next(b["data"] for b in bundles() if b["type"] == "monitor_report")
    assert isinstance(report, dict)
    now = datetime.now(UTC)
    timeline = MonitorTimeline(
        target="churn@2", target_kind="model", reference=None,
        reports=(MonitorReport.from_dict(report),), chunk="month", time="ts", timeline="t",
        started_at=now, finished_at=now,
    )  # fmt: skip
    fresh = timeline.to_dict()
    return set(fresh) | {f"chunks.{k}" for k in fresh["chunks"][0]}


def keys_of(cls: type, data: dict[str, object]) -> set[str]:
    if cls is not MonitorTimeline:
        return set(data)
    chunks = data["chunks"]
    assert isinstance(chunks, list) and chunks, "the fixture's timeline has no chunks"
    return set(data) | {f"chunks.{k}" for chunk in chunks for k in chunk}


def test_fixture_covers_every_result_kind() -> None:
    kinds = {b["type"] for b in bundles()}
    assert set(CLASSES) <= kinds, f"regenerate: python tests/lab/make_fixture.py ({kinds})"


@pytest.mark.parametrize("bundle", bundles(), ids=lambda b: str(b["type"]))
def test_fixture_fields_match_result_class(bundle: dict[str, object]) -> None:
    cls = CLASSES.get(str(bundle["type"]))
    if cls is None:
        assert bundle["type"] == "future_result"  # the deliberately unknown kind
        return
    data = bundle["data"]
    assert isinstance(data, dict)
    assert keys_of(cls, data) == expected_keys(cls, bundle), (
        f"{cls.__name__} changed since tests/lab/fixtures/report.ipynb was made: regenerate it "
        "with `.venv/bin/python tests/lab/make_fixture.py` and check labextension/src/views "
        "shows the new fields."
    )


def test_fixture_monitor_estimates_and_timeline_has_chunks() -> None:
    """What the browser tests check is in the fixture: estimates in a monitor report (its model
    has an evaluation set) and a timeline of monthly chunks with their estimates."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for b in bundles():
        data = b["data"]
        assert isinstance(data, dict)
        by_kind.setdefault(str(b["type"]), []).append(data)
    first = by_kind["monitor_report"][0]
    assert first["estimated"], "the fixture's model must be registered with an evaluation set"
    assert all(e["value"] is not None for e in first["estimated"].values())
    assert first["multivariate"] is not None
    (timeline,) = by_kind["monitor_timeline"]
    assert timeline["chunk"] == "month" and 3 <= len(timeline["chunks"]) <= 4
    assert all(c["estimated"] and c["metrics"] for c in timeline["chunks"])
