"""The author: cells run live in a real JupyterLab, saved, the kernel restarted, the notebook
reopened. One monitor run with an alert of each kind (``scenario.py``) is checked in each face
of the report: the live widget, the saved static HTML and the lab renderer.

* Live, the monitor report shows as the widget with every section of the static report, in the
  same order, and every alert; its charts follow the dark theme.
* The saved outputs carry our MIME type next to the widget view, so after a kernel restart and
  after reopening, the report and the history show from the saved data (our renderer), never
  "Error displaying widget: model not found".
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
from faces import (
    WIDGET_VIEW,
    assert_each_alert,
    checks,
    findings_alerts,
    joined,
    saved_outputs,
    static_section_order,
)
from labserver import ARTIFACTS, CURRENT, Author, wait_for_kernel
from scenario import ALERT_KINDS, alert_kinds

from modelbook.render import MIME_TYPE

pytestmark = pytest.mark.browser


def test_live_widget_shows_the_whole_report(author: Author) -> None:
    page = author.page
    saved = saved_outputs(author.notebook)
    report = saved["monitor_report"]
    # The run raised an alert of each kind; the live bundle kept everything the static one has.
    assert set(ALERT_KINDS) <= alert_kinds(checks(report))
    for kind in ("monitor_report", "history"):
        assert {WIDGET_VIEW, "text/html", "text/plain", MIME_TYPE} <= set(saved[kind]), kind

    # Live: our renderer handed both outputs over to the widget views.
    monitor = page.locator(".mbw-monitor")
    monitor.wait_for(timeout=120_000)
    page.locator(".mbw-history").wait_for(timeout=120_000)
    assert page.locator(".jp-RenderedModelbook[data-mb-live='widget']").count() == 2
    assert page.get_by_text("model not found").count() == 0

    # Face 1, the widget: every alert, every section of the static report in its order.
    assert_each_alert("live widget", monitor.inner_text(), report)
    static_html = joined(report["text/html"])
    widget_order = monitor.locator("[data-mb-section]").evaluate_all(
        "els => els.map(e => e.dataset.mbSection)"
    )
    assert widget_order == static_section_order(static_html)
    assert widget_order[:5] == ["summary", "estimated", "findings", "drift", "multivariate"]
    # The estimates (the model was registered with an evaluation set) lead the summary.
    estimated = monitor.locator("[data-mb-section='estimated']")
    assert "Estimated and realized performance" in estimated.inner_text()
    for name, estimate in estimates(report).items():
        assert f"{estimate['value']:.3f}" in estimated.inner_text(), name
    # Face 2, the static HTML saved with the output: every alert.
    assert_each_alert("static HTML", htmllib.unescape(re.sub(r"<[^>]+>", " ", static_html)), report)
    # The findings list alerts first.
    statuses = monitor.locator("[data-mb-section='findings'] tbody tr").evaluate_all(
        "rows => rows.map(r => r.cells[0].innerText.trim().toLowerCase())"
    )
    listed = findings_alerts(report)
    assert statuses[: len(listed)] == ["alert"] * len(listed)

    # The live drift table: p-value and verdict per row; choosing a column draws it.
    drift = monitor.locator("[data-mb-section='drift']")
    first = drift.locator("tbody tr").first
    assert first.locator("td.mbw-verdict-cell").inner_text().strip()
    drift.locator("tbody tr[data-column='clinic']").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mbw-monitor .mbw-distribution svg text')]"
        ".some(t => t.textContent === 'clinic')",
        timeout=60_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    for key in ("summary", "drift"):
        monitor.locator(f"[data-mb-section='{key}']").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"author-live-widget-{key}.png"))


def estimates(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The saved report's estimated performance, by metric (never empty here)."""
    found: dict[str, dict[str, Any]] = report[MIME_TYPE]["data"]["estimated"]
    assert found and all(e["value"] is not None for e in found.values()), found
    return found


def luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = rgb
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def mean_colour(png: bytes) -> tuple[float, float, float]:
    """Average RGB of a PNG screenshot (Chromium writes 8-bit RGB(A), no interlacing)."""
    import struct
    import zlib

    pos, chunks, width, height, channels = 8, [], 0, 0, 4
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    totals = [0, 0, 0]
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):  # undo the PNG filter of this row
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        for i in range(0, stride, channels):
            totals[0] += line[i]
            totals[1] += line[i + 1]
            totals[2] += line[i + 2]
        previous = line
    n = width * height
    return (totals[0] / n, totals[1] / n, totals[2] / n)


def test_widget_charts_follow_the_dark_theme(author: Author) -> None:
    page = author.page
    chart = page.locator(".mbw-monitor .mbw-overview svg")
    chart.wait_for()
    light = luminance(mean_colour(chart.screenshot()))
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    try:
        page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=60_000)
        # The widget told the kernel, which drew the charts again with light ink.
        page.wait_for_function(
            "() => { const t = document.querySelector('.mbw-monitor .mbw-overview svg text');"
            " return t && t.getAttribute('fill') === '#e0e0e0'; }",
            timeout=60_000,
        )
        page.wait_for_function(
            "() => { const t = document.querySelector('.mbw-monitor .mbw-distribution svg text');"
            " return t && t.getAttribute('fill') === '#e0e0e0'; }",
            timeout=60_000,
        )
        page.wait_for_function(
            "() => { const t = document.querySelector('.mbw-history .mbw-chart svg text');"
            " return t && t.getAttribute('fill') === '#e0e0e0'; }",
            timeout=60_000,
        )
        page.wait_for_timeout(300)
        chart.scroll_into_view_if_needed()
        dark = luminance(mean_colour(chart.screenshot()))
        page.screenshot(path=str(ARTIFACTS / "author-live-widget-dark.png"))
        page.locator(".mbw-monitor [data-mb-section='summary']").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "author-live-widget-dark-summary.png"))
        # Not a white box: the chart sits on the dark page (mostly background, a few bars).
        assert light > 0.7, light
        assert dark < 0.35, dark
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('.jp-Notebook')).backgroundColor"
        )
        assert background != "rgb(255, 255, 255)"
    finally:
        page.evaluate(
            "window.jupyterapp.commands.execute('apputils:change-theme',"
            " {theme: 'JupyterLab Light'})"
        )
        page.wait_for_function("document.body.dataset.jpThemeLight === 'true'", timeout=60_000)


def assert_saved_reports_render(page: Any, report: dict[str, Any], where: str) -> None:
    """Our renderer shows the saved monitor report and history: no widget error anywhere."""
    monitor = page.locator(".jp-RenderedModelbook [data-mb-kind='monitor_report']")
    monitor.wait_for(timeout=60_000)
    page.locator(".jp-RenderedModelbook [data-mb-kind='history']").wait_for(timeout=60_000)
    assert page.get_by_text("model not found").count() == 0, where
    assert page.locator(".jupyter-widgets").count() == 0, where
    # Face 3, the lab renderer: every alert, the static report's sections in its order.
    assert_each_alert(f"lab renderer ({where})", monitor.inner_text(), report)
    order = monitor.locator("[data-mb-section]").evaluate_all(
        "els => els.map(e => e.dataset.mbSection)"
    )
    shared = [k for k in order if k not in ("checks", "run")]
    assert shared == static_section_order(joined(report["text/html"])), where
    assert order[-2:] == ["checks", "run"]  # the lab view's extras come last
    assert {"estimated", "multivariate"} <= set(order), where
    estimated = monitor.locator("[data-mb-section='estimated']").inner_text()
    for name, estimate in estimates(report).items():
        assert f"{estimate['value']:.3f}" in estimated, (where, name)
    drift = monitor.locator("[data-mb-section='drift'] .mb-drift")
    verdicts = drift.locator("td .mb-verdict").all_inner_texts()
    assert verdicts and all(v.strip() for v in verdicts)


def test_restart_and_reopen_show_the_saved_report(author: Author) -> None:
    page = author.page
    report = saved_outputs(author.notebook)["monitor_report"]
    # Restart the kernel: the widgets' models are gone; the outputs fall back to our renderer.
    page.evaluate(f"{CURRENT}.sessionContext.session.kernel.restart()")
    page.wait_for_function(
        "() => document.querySelectorAll(\".jp-RenderedModelbook[data-mb-live='widget']\")"
        ".length === 0",
        timeout=60_000,
    )
    wait_for_kernel(page)
    assert_saved_reports_render(page, report, "after a kernel restart")
    page.screenshot(path=str(ARTIFACTS / "author-after-restart.png"))

    # Reopen the saved file in a new page: a new kernel, no widget models.
    page.goto(f"{author.lab.url}lab/tree/author.ipynb?reset")
    wait_for_kernel(page)
    assert_saved_reports_render(page, report, "reopened")
    assert page.locator(".jp-RenderedModelbook[data-mb-live='widget']").count() == 0
    page.locator(
        ".jp-RenderedModelbook [data-mb-kind='monitor_report']"
    ).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "author-reopened-monitor.png"))
