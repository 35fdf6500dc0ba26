"""Segments and fairness of the saved fixture (issue 13) in a real JupyterLab, no kernel: drawn
by our renderer, and, with the extension disabled, as the reviewer's sanitized HTML.

Screenshots: ``test-artifacts/lab-segments-renderer.png``, ``reviewer-jupyterlab-segments.png``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from faces import normalise
from labserver import ARTIFACTS, Lab, stop_lab
from make_fixture import FIXTURE

from modelbook.render import MIME_TYPE

pytestmark = pytest.mark.browser


def segmented_report() -> dict[str, Any]:
    """The fixture's monitor report run with ``--segments region --sensitive gender``."""
    import json

    for cell in json.loads(FIXTURE.read_text())["cells"]:
        for output in cell.get("outputs", []):
            bundle = output.get("data", {}).get(MIME_TYPE)
            if bundle and bundle["type"] == "monitor_report" and bundle["data"].get("segments"):
                data: dict[str, Any] = bundle["data"]
                return data
    raise AssertionError("regenerate: .venv/bin/python tests/lab/make_fixture.py")


def open_fixture(page: Any, lab: Lab, selector: str) -> None:
    page.goto(f"{lab.url}lab/tree/report.ipynb?reset")
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    page.locator(selector).first.wait_for(timeout=60_000)


def test_lab_renderer_draws_segments_and_fairness(page: Any, lab: Lab) -> None:
    report = segmented_report()
    region = report["segments"]["columns"][0]
    gender = report["fairness"]["columns"][0]
    open_fixture(page, lab, ".jp-RenderedModelbook [data-mb-kind='monitor_report']")
    view = page.locator(".jp-RenderedModelbook [data-mb-kind='monitor_report']").last
    view.scroll_into_view_if_needed()
    order = view.locator("[data-mb-section]").evaluate_all(
        "els => els.map(e => e.dataset.mbSection)"
    )
    quality = order.index("quality")
    assert order[quality + 1 : quality + 3] == ["segments", "fairness"], order
    summary = view.locator("[data-mb-section='summary']").inner_text()
    assert f"worst segment {report['segments']['worst']['segment']}" in normalise(summary)
    segments = view.locator("[data-mb-section='segments']")
    rows = segments.locator(".mb-segments-table tbody tr.mb-row")
    assert rows.count() == len(region["groups"])
    first = rows.first.inner_text()
    assert "alert" in first and "region=north" in first, first
    assert segments.locator("details.mb-segment[open]").count() >= 1  # north, open
    bars = segments.locator("svg.mb-bars").first
    assert bars.locator("rect.mb-bar-alert").count() == 1
    box = bars.bounding_box()
    assert box and box["width"] > 300
    fairness = view.locator("[data-mb-section='fairness']")
    fairness.scroll_into_view_if_needed()
    text = normalise(fairness.inner_text())
    ratio = next(m for m in gender["measures"] if m["name"] == "demographic_parity_ratio")
    assert ratio["message"] in text
    assert "(null) 12" in text and "insufficient 12 rows < min_group 30" in text
    charts = fairness.locator("svg.mb-bars")
    assert charts.count() == 3 and fairness.locator("line.mb-threshold").count() == 3
    assert fairness.locator("rect.mb-bar-faint").count() >= 3  # the (null) group, faint
    fairness.screenshot(path=str(ARTIFACTS / "lab-segments-renderer.png"))


@pytest.fixture(scope="module")
def reviewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    from test_lab_reviewer import reviewer_server

    root = tmp_path_factory.mktemp("segments-reviewer")
    shutil.copy(FIXTURE, root / "report.ipynb")
    server = reviewer_server(root, tmp_path_factory.mktemp("segments-reviewer-state"))
    yield server
    stop_lab(server)


def test_reviewer_sees_segments_and_fairness_as_sanitized_html(page: Any, reviewer: Lab) -> None:
    from test_lab_reviewer import assert_images_load, assert_no_json

    report = segmented_report()
    open_fixture(page, reviewer, ".jp-RenderedHTMLCommon table")
    assert page.locator(".jp-RenderedModelbook").count() == 0
    view = page.locator(".jp-RenderedHTMLCommon", has_text="Segments by region").first
    view.scroll_into_view_if_needed()
    text = normalise(view.inner_text())
    assert "Segments: worst region=north" in text
    table = view.locator("table", has_text="data drift").first
    statuses = [normalise(t) for t in table.locator("tbody tr td:first-child").all_inner_texts()]
    assert statuses[0] == "ALERT" and set(statuses[1:]) == {"ok"}, statuses
    assert "Fairness by gender ALERT" in text
    assert "insufficient 12 rows < min_group 30" in text
    ratio = next(
        m for m in report["fairness"]["columns"][0]["measures"]
        if m["name"] == "demographic_parity_ratio"
    )  # fmt: skip
    assert ratio["message"] in text
    images = view.locator("img[alt^='largest drift per segment'], img[alt^='per-group rates']")
    assert images.count() == 2
    assert_images_load(images, "segments and fairness")
    assert view.locator("svg").count() == 0
    assert_no_json(view.inner_text())
    view.locator("img[alt^='per-group rates']").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "reviewer-jupyterlab-segments.png"))
