"""One report, three faces, without a browser: the live widget's synced state shows everything
the static report shows, in its order; the widget's output bundle keeps the static bundle (so a
saved notebook outlives the widget's model); the widget charts follow the page's theme.

The browser tests (test_lab_author.py) check the same run in the widget's DOM, in the saved
HTML and in the lab renderer.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faces import STATIC_HEADINGS, shows_alert, static_section_order
from scenario import ALERT_KINDS, run

from modelbook.display import options
from modelbook.render import MIME_TYPE, mimebundle
from modelbook.results import to_jsonable
from modelbook.widgets.theme import DARK_INK, themed

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def registry_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faces") / ".modelbook"


@pytest.fixture(scope="module")
def report(registry_home: Path) -> Any:
    return run(registry_home)


@pytest.fixture
def widget_display() -> Iterator[None]:
    """Results shown as widgets, as in a live JupyterLab."""
    options.display = "widget"
    yield
    options.display = None


def text_of(html: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_scenario_raises_an_alert_of_each_kind(report: Any) -> None:
    raised = {c.check for c in report.alerts}
    assert set(ALERT_KINDS) <= raised, set(ALERT_KINDS) - raised


def test_widget_bundle_keeps_the_whole_static_bundle(report: Any, widget_display: None) -> None:
    static = mimebundle(report, live=False)
    shown = mimebundle(report)
    assert WIDGET_VIEW in shown
    # Saved from JupyterLab, this is all that is left of the output: our renderer's data, the
    # self-contained HTML and the text, exactly as the static bundle has them.
    for mime in ("text/plain", "text/html", MIME_TYPE):
        assert shown[mime] == static[mime], mime


def test_monitor_widget_shows_every_section_and_alert(report: Any) -> None:
    from modelbook.render.html import to_html
    from modelbook.widgets import MonitorWidget, widget_for

    widget = widget_for(report)
    assert isinstance(widget, MonitorWidget)
    static_html = to_html(report)
    keys = [s["key"] for s in widget.sections]
    assert keys == static_section_order(static_html)
    assert set(keys) >= {"summary", *STATIC_HEADINGS.values()} - {"environment"}
    shown = text_of("".join(s["html"] for s in widget.sections))
    for check in report.alerts:
        assert shows_alert(shown, to_jsonable(check)), check
    # The drift section is the live table: every column with p-value and verdict.
    assert [s["html"] for s in widget.sections if s["key"] == "drift"] == [""]
    assert {r["column"] for r in widget.rows} == {c.column for c in report.drift.columns}
    assert all(r["verdict"] for r in widget.rows if r["status"] != "not tested")
    statuses = [r["status"] for r in widget.rows]
    assert statuses == sorted(statuses, key=["drifted", "ok", "not tested"].index)
    assert widget.overview_svg.startswith("<svg") and widget.chart_svg.startswith("<svg")


def test_a_monitor_run_without_drift_is_a_widget_too(report: Any) -> None:
    import dataclasses

    from modelbook.widgets import MonitorWidget, widget_for

    plain = dataclasses.replace(report, drift=None)
    widget = widget_for(plain)
    assert isinstance(widget, MonitorWidget)
    assert "drift" not in [s["key"] for s in widget.sections]
    assert widget.rows == [] and widget.overview_svg == ""


def _text_fills(svg: str) -> set[str]:
    return set(re.findall(r'<text[^>]*fill="([^"]+)"', svg))


def test_widget_charts_follow_the_theme(report: Any, registry_home: Path) -> None:
    import modelbook
    from modelbook.widgets import HistoryWidget, widget_for

    widget = widget_for(report)
    light = widget.overview_svg
    assert "#e0e0e0" not in _text_fills(light)
    widget.theme = "dark"
    for svg in (widget.overview_svg, widget.chart_svg):
        assert DARK_INK in _text_fills(svg)
        # No opaque background: the chart sits on the page's colour, not in a white box.
        assert 'fill="white"' not in svg and 'fill="#ffffff"' not in svg.lower()
    history = HistoryWidget(modelbook.history("tumours", registry=registry_home))
    assert DARK_INK not in _text_fills(history.chart_svg)
    history.theme = "dark"
    assert DARK_INK in _text_fills(history.chart_svg)


def test_themed_spec_is_a_copy_with_light_ink_and_no_background() -> None:
    spec = {
        "config": {"axis": {"labelFontSize": 10}},
        "layer": [{"mark": {"type": "rule", "color": "#333"}}],
    }
    dark = themed(spec, "dark")
    assert spec["layer"][0]["mark"]["color"] == "#333"  # the input is not changed
    assert dark["layer"][0]["mark"]["color"] == DARK_INK
    assert dark["config"]["background"] == "transparent"
    assert dark["config"]["axis"] == {"labelFontSize": 10, **dark["config"]["axis"]}
    assert dark["config"]["axis"]["labelColor"] == DARK_INK
    assert themed(spec, "light")["config"]["background"] == "transparent"
    assert "labelColor" not in themed(spec, "light")["config"]["axis"]
