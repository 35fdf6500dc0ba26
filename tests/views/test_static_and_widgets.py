"""Static bundles (self-contained, bounded size), the live widgets, and the display switch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from views_helpers import fixed_drift, wide_drift

import modelbook
from modelbook.display import live_frontend, options
from modelbook.errors import ConfigError
from modelbook.render import MIME_TYPE, mimebundle
from modelbook.version_diff import DatasetDiff

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _assert_self_contained(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert not re.search(r"""(src|href)=["']?https?://""", lowered)
    assert "cdn" not in lowered.replace("cdn-", "")


@pytest.fixture
def dataset_diff(registry: Path, customers: tuple[pd.DataFrame, pd.DataFrame]) -> DatasetDiff:
    a, b = customers
    b = b.assign(income=b["income"] * 1.4)  # drift, so the charts have something to show
    modelbook.register(a, name="customers")
    modelbook.register(b, name="customers")
    d = modelbook.diff("customers@1", "customers@2", key="id")
    assert isinstance(d, DatasetDiff)
    return d


def test_diff_bundle_is_static_and_self_contained(dataset_diff: DatasetDiff) -> None:
    bundle = dataset_diff._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", MIME_TYPE}
    assert bundle[MIME_TYPE]["type"] == "dataset_diff"
    assert bundle[MIME_TYPE]["data"]["rows"]["added"] == 2
    html = bundle["text/html"]
    _assert_self_contained(html)
    assert "<svg" not in html  # charts are images: inline SVG does not survive sanitizers
    from modelbook.render.drift import top_columns

    assert dataset_diff.drift is not None
    charted = [c.column for c in top_columns(dataset_diff.drift)]
    assert charted[0] == "income"
    # The decisions overview, then one image per column worth a look.
    assert html.count('<img src="data:image/svg+xml;base64,') == 1 + len(charted)
    assert 'alt="reference vs current distribution of income: drifted' in html
    assert "Rows by id" in html and "Changed columns" in html
    assert bundle["text/plain"].startswith("dataset diff customers@1 → customers@2\n")
    assert "rows by id: 2 added, 3 removed" in bundle["text/plain"]


def test_monitor_report_with_100_columns_stays_under_300_kb(registry: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    x = pd.DataFrame({f"f{i}": rng.normal(size=1500) for i in range(100)})
    y = pd.Series((x.f0 + rng.normal(size=1500) > 0).astype(int), name="label")
    modelbook.register(LogisticRegression(max_iter=300).fit(x, y), name="wide", data=x, target=y)
    batch = x.copy()
    for i in range(0, 100, 3):
        batch[f"f{i}"] = batch[f"f{i}"] * 1.5 + 0.5
    report = modelbook.monitor("wide", data=batch)
    html = report._repr_mimebundle_()["text/html"]
    _assert_self_contained(html)
    assert len(html.encode()) < 300_000
    assert "<svg" not in html
    images = html.count('<img src="data:image/svg+xml;base64,')
    # The decisions overview, the first six drifted columns, the multivariate band.
    assert images == 1 + 6 + 1
    assert report.drift is not None
    from modelbook.render.drift import ordered

    first = [c.column for c in ordered(report.drift)][:6]
    for name in first:
        assert f'alt="reference vs current distribution of {name}: drifted' in html


def test_100_column_drift_section_size() -> None:
    from modelbook.render.drift import drift_html

    html = drift_html(wide_drift(100))
    assert len(html.encode()) < 300_000
    assert html.count("<tr>") == 101
    # The reason for the tests is said once per test, not on each of the 100 rows.
    assert html.count("default") == 2 and "Why these tests:" in html


# --------------------------------------------------------------------------- widgets


def test_drift_widget_table_and_chosen_column_chart() -> None:
    from modelbook.widgets import DriftWidget

    w = DriftWidget(fixed_drift(), title="t")
    assert [r["column"] for r in w.rows] == ["age", "plan", "income", "notes"]
    assert [r["status"] for r in w.rows] == ["drifted", "drifted", "ok", "not tested"]
    assert w.rows[0]["statistic"] == 0.31 and w.rows[0]["threshold"] == 0.05
    assert w.summary == "2 of 3 columns drifted (67%; dataset drifts at 50%)"
    assert w.selected == "age" and ">age<" in w.chart_svg
    w.selected = "plan"
    assert ">plan<" in w.chart_svg and ">enterprise<" in w.chart_svg
    w.selected = "notes"  # untested: nothing to draw
    assert w.chart_svg == ""


def test_diff_widget_sections(dataset_diff: DatasetDiff) -> None:
    from modelbook.widgets import DiffWidget

    w = DiffWidget(dataset_diff)
    titles = [s["title"] for s in w.sections]
    assert titles[:2] == ["Schema", "Column statistics"]
    assert titles[2].startswith("Drift: ") and titles[3] == "Rows by id"
    schema = w.sections[0]
    assert schema["rows"] == [{"mark": "added", "cells": ["score", "", "double"]}]
    rows = w.sections[3]["rows"]
    assert rows[0]["cells"][0] == "2 rows added" and rows[1]["cells"][0] == "3 rows removed"


def test_history_widget_chart_and_alerts() -> None:
    from test_charts import _history

    from modelbook.widgets import HistoryWidget

    w = HistoryWidget(_history())
    assert w.metrics == ["(drift share only)", "auc"] and w.metric == "auc"
    assert w.chart_svg.startswith("<svg") and ">metric auc<" in w.chart_svg
    assert [a["status"] for a in w.alerts] == ["alert", "alert"]
    w.metric = "(drift share only)"
    assert ">metric auc<" not in w.chart_svg


# --------------------------------------------------------------------------- display switch


@pytest.fixture
def reset_options() -> Any:
    yield options
    options.display = None


def test_display_option_and_environment(
    reset_options: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert modelbook.options is options
    assert options.display == "auto"
    monkeypatch.setenv("MODELBOOK_DISPLAY", "static")
    assert options.display == "static"
    options.display = "widget"
    assert options.display == "widget"
    with pytest.raises(ConfigError) as info:
        options.display = "fancy"
    assert str(info.value) == "options.display must be one of auto, widget, static, not 'fancy'."
    options.display = None
    monkeypatch.setenv("MODELBOOK_DISPLAY", "loud")
    with pytest.raises(ConfigError) as info:
        _ = options.display
    assert str(info.value) == (
        "MODELBOOK_DISPLAY='loud' is not one of auto, widget, static; fix the variable."
    )


def test_auto_is_static_outside_a_kernel(dataset_diff: DatasetDiff, reset_options: Any) -> None:
    assert not live_frontend()
    assert MIME_TYPE in mimebundle(dataset_diff)


def test_widget_bundle_keeps_the_static_html(dataset_diff: DatasetDiff, reset_options: Any) -> None:
    options.display = "widget"
    bundle = mimebundle(dataset_diff)
    assert set(bundle) == {"text/plain", "text/html", WIDGET_VIEW, MIME_TYPE}
    assert bundle[WIDGET_VIEW]["model_id"]
    assert bundle["text/html"] == mimebundle(dataset_diff, live=False)["text/html"]
    options.display = "static"
    assert WIDGET_VIEW not in mimebundle(dataset_diff)


KERNEL_CODE = """
import pandas as pd, modelbook
modelbook.register(pd.DataFrame({"id": [1, 2, 3], "v": [1.0, 2.0, 3.0]}), name="t")
modelbook.register(pd.DataFrame({"id": [1, 2, 4], "v": [1.0, 2.5, 3.0]}), name="t")
modelbook.diff("t@1", "t@2", key="id")
"""


def _run_in_kernel(metadata: dict[str, Any]) -> dict[str, Any]:
    """Send one execute_request to a real kernel, with the given message metadata."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        msg = kc.session.msg("execute_request", {"code": KERNEL_CODE, "silent": False,
                                                 "store_history": True, "user_expressions": {},
                                                 "allow_stdin": False, "stop_on_error": True},
                             metadata=metadata)  # fmt: skip
        kc.shell_channel.send(msg)
        data: dict[str, Any] = {}
        while True:
            reply = kc.get_iopub_msg(timeout=60)
            if reply["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                continue
            if reply["msg_type"] == "execute_result":
                data = reply["content"]["data"]
            if reply["msg_type"] == "error":
                raise AssertionError("\n".join(reply["content"]["traceback"]))
            if reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle":
                return data
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_real_kernel_shows_the_widget_only_to_a_frontend(registry: Path) -> None:
    headless = _run_in_kernel({})  # what nbclient / papermill send
    assert MIME_TYPE in headless and WIDGET_VIEW not in headless
    lab = _run_in_kernel({"cellId": "c1", "deletedCells": [], "recordTiming": False})
    assert WIDGET_VIEW in lab and "text/html" in lab and MIME_TYPE in lab
    assert "<script" not in lab["text/html"]
    assert "Rows by id" in lab["text/html"]


def test_history_html_has_its_chart() -> None:
    from test_charts import _history

    html = mimebundle(_history(), live=False)["text/html"]
    _assert_self_contained(html)
    assert "<svg" not in html and html.count("<img ") == 1
    assert 'alt="share of drifted columns over 6 runs from 2026-11-01 06:00:00' in html


def test_plotted_columns_are_the_drifted_and_nearly_drifted() -> None:
    import dataclasses

    from views_helpers import numeric_column

    from modelbook.render.drift import top_columns
    from modelbook.stats.drift import DatasetDrift

    assert [c.column for c in top_columns(fixed_drift())] == ["age", "plan"]
    near = dataclasses.replace(numeric_column("near", drifted=False), statistic=0.03)
    clean = DatasetDrift(
        columns=(numeric_column("a", drifted=False), near),
        drifted_share=0.0,
        share_threshold=0.5,
        drifted=False,
    )
    assert [c.column for c in top_columns(clean)] == ["near"]  # 0.03 / 0.05 ≥ 0.5
    quiet = dataclasses.replace(clean, columns=(numeric_column("a", drifted=False),))
    assert [c.column for c in top_columns(quiet)] == ["a"]  # at least one chart
