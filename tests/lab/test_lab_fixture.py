"""The saved fixture notebook still matches the result classes it was made from.

When a result gains or loses a field, the browser tests would keep passing on old data; this
says to regenerate the fixture (and to check the renderer shows the new field).
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from make_fixture import FIXTURE

from modelbook.monitoring.report import MonitorReport
from modelbook.render import MIME_TYPE
from modelbook.results import AliasChange, DatasetVersion, GcReport, Listing, ModelVersion
from modelbook.run_history import HistoryReport
from modelbook.version_diff import DatasetDiff, ModelDiff

CLASSES = {
    cls.kind: cls
    for cls in (
        AliasChange,
        DatasetDiff,
        DatasetVersion,
        GcReport,
        HistoryReport,
        Listing,
        ModelDiff,
        ModelVersion,
        MonitorReport,
    )
}


def bundles() -> list[dict[str, object]]:
    notebook = json.loads(FIXTURE.read_text())
    return [
        output["data"][MIME_TYPE]
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if MIME_TYPE in output.get("data", {})
    ]


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
    fields = {f.name for f in dataclasses.fields(cls)}
    assert set(data) == fields, (
        f"{cls.__name__} changed since tests/lab/fixtures/report.ipynb was made: regenerate it "
        "with `.venv/bin/python tests/lab/make_fixture.py` and check labextension/src/views "
        "shows the new fields."
    )
