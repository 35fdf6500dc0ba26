"""The reviewer: the author's notebook, saved from a live JupyterLab, opened on another machine
(its own notebook secret: the file is untrusted) where modelbook's extension is disabled, in
JupyterLab and in Notebook 7. What shows is JupyterLab's sanitized rendering of the saved
``text/html``: tables, chart images, the words "ALERT" and "ok", every alert; no widget error
and no chart text spilled as run-on words.

Screenshots: ``test-artifacts/reviewer-*.png``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from faces import alerts, joined, normalise, saved_outputs, shows_alert
from labserver import ARTIFACTS, CURRENT, Author, Lab, start_lab, stop_lab
from make_fixture import FIXTURE

from modelbook.render import MIME_TYPE

pytestmark = pytest.mark.browser


class _ChartText(HTMLParser):
    """Text inside inline ``<svg>`` (the sanitizer strips the element, keeps the text)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.inside: list[str] = []
        self.outside: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.depth += tag == "svg"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "svg" and self.depth > 0

    def handle_data(self, data: str) -> None:
        (self.inside if self.depth else self.outside).append(data)


def chart_only_text(html: str) -> set[str]:
    parser = _ChartText()
    parser.feed(html)
    visible = normalise(" ".join(parser.outside))
    words = {normalise(t) for t in parser.inside}
    return {w for w in words if len(w) >= 4 and re.search("[a-z]", w) and w not in visible}


def reviewer_server(root: Path, state: Path, *, app: str = "jupyterlab") -> Lab:
    """A server with modelbook's lab extension disabled in its own config (the real CLI)."""
    env = {"JUPYTER_CONFIG_DIR": str(state / "config")}
    subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "disable", "modelbook", "--level=user"],
        check=True, capture_output=True, timeout=120, env={**os.environ, **env},
    )  # fmt: skip
    page_config = json.loads((state / "config" / "labconfig" / "page_config.json").read_text())
    assert page_config["disabledExtensions"] == {"modelbook": True}
    return start_lab(root, state, token="", kernels=False, app=app)


@pytest.fixture(scope="module")
def shared(author: Author, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The author's saved file, as sent to the reviewer."""
    root = tmp_path_factory.mktemp("reviewer-root")
    shutil.copy(author.notebook, root / "shared.ipynb")
    shutil.copy(FIXTURE, root / "report.ipynb")  # estimates and a timeline, saved without a kernel
    return root


@pytest.fixture(scope="module")
def reviewer_lab(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    server = reviewer_server(shared, tmp_path_factory.mktemp("reviewer-state"))
    yield server
    stop_lab(server)


@pytest.fixture(scope="module")
def reviewer_notebook7(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    server = reviewer_server(shared, tmp_path_factory.mktemp("nb7-state"), app="notebook")
    yield server
    stop_lab(server)


def assert_reviewer_sees_the_report(page: Any, notebook: Path, where: str) -> None:
    saved = saved_outputs(notebook)
    report = saved["monitor_report"]
    outputs = page.locator(".jp-OutputArea-output")
    outputs.first.wait_for(timeout=60_000)
    page.locator(".jp-RenderedHTMLCommon table").first.wait_for(timeout=60_000)
    # Our extension is off: no modelbook renderer, no sidebar; the widget view is never tried.
    assert page.locator(".jp-RenderedModelbook").count() == 0, where
    assert page.locator("#modelbook-registry").count() == 0, where
    assert page.get_by_text("model not found").count() == 0, where
    assert page.get_by_text("Error displaying widget").count() == 0, where
    # Untrusted: every code cell of the file.
    trusted = page.evaluate(
        f"() => {CURRENT}.content.widgets.filter(c => c.model.type === 'code')"
        ".map(c => c.model.trusted)"
    )
    assert trusted and not any(trusted), where

    monitor = page.locator(".jp-RenderedHTMLCommon", has_text="Findings").first
    history = page.locator(".jp-RenderedHTMLCommon", has_text="history").last
    text = monitor.inner_text()
    # Tables and status words survive the sanitizer.
    assert monitor.locator("table").count() >= 3, where
    assert "ALERT" in text, where
    assert re.search(r"\bok\b", text), where
    for check in alerts(report):
        assert shows_alert(text, check), (where, check)
    # The estimates (the model has an evaluation set) and the multivariate check, in words.
    assert "Estimated and realized performance" in text, where
    for name, estimate in report[MIME_TYPE]["data"]["estimated"].items():
        assert f"{estimate['value']:.3f}" in text, (where, name)
    assert "Multivariate drift: drifted" in text, where
    # Charts are images that load, each described by its alt text; no inline SVG is lost.
    for bundle in (report, saved["history"]):
        html = joined(bundle["text/html"])
        assert "<svg" not in html.replace("data:image/svg+xml", ""), f"{where}: inline <svg>"
        assert not chart_only_text(html), where
    images = page.locator(".jp-OutputArea-output img")
    assert images.count() >= 2, where
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        loaded = image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert loaded, f"{where}: image {i} did not load"
        assert (image.get_attribute("alt") or "").strip(), f"{where}: image {i} has no alt text"
    assert page.locator(".jp-OutputArea-output svg").count() == 0, where
    # Shown: the screenshots are kept for a person to look at.
    ARTIFACTS.mkdir(exist_ok=True)
    monitor.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"reviewer-{where}-monitor.png"))
    monitor.locator("img").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"reviewer-{where}-charts.png"))
    history.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"reviewer-{where}-history.png"))


def test_reviewer_in_jupyterlab_without_the_extension(
    page: Any, reviewer_lab: Lab, shared: Path
) -> None:
    page.goto(f"{reviewer_lab.url}lab/tree/shared.ipynb?reset")
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    assert_reviewer_sees_the_report(page, shared / "shared.ipynb", "jupyterlab")


def test_reviewer_in_notebook7_without_the_extension(
    page: Any, reviewer_notebook7: Lab, shared: Path
) -> None:
    page.goto(f"{reviewer_notebook7.url}notebooks/shared.ipynb")
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    assert_reviewer_sees_the_report(page, shared / "shared.ipynb", "notebook7")


def assert_images_load(images: Any, where: str) -> None:
    assert images.count() >= 1, where
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), f"{where}: image {i}"
        assert (image.get_attribute("alt") or "").strip(), f"{where}: image {i} has no alt text"


def test_reviewer_sees_estimates_and_timeline_of_the_fixture(
    page: Any, reviewer_lab: Lab, shared: Path
) -> None:
    """The saved fixture (outputs made without a kernel) in JupyterLab without our extension:
    the monitor report's estimated section and the timeline (its charts and chunk table)."""
    saved = saved_outputs(shared / "report.ipynb")
    page.goto(f"{reviewer_lab.url}lab/tree/report.ipynb?reset")
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    page.locator(".jp-RenderedHTMLCommon table").first.wait_for(timeout=60_000)
    assert page.locator(".jp-RenderedModelbook").count() == 0

    monitor = page.locator(".jp-RenderedHTMLCommon", has_text="Estimated performance").first
    text = monitor.inner_text()
    estimated = saved["monitor_report"][MIME_TYPE]["data"]["estimated"]
    assert estimated
    for name, estimate in estimated.items():
        assert f"{estimate['value']:.3f}" in text, name
    assert "Multivariate drift" in text
    estimates_chart = monitor.locator("img[alt^='estimated performance']")
    assert_images_load(estimates_chart, "estimates chart")

    timeline = page.locator(".jp-RenderedHTMLCommon", has_text="timeline of model churn@2").first
    timeline.scroll_into_view_if_needed()
    chunks = saved["monitor_timeline"][MIME_TYPE]["data"]["chunks"]
    # Two charts as images (performance per chunk, the drift strip), no inline SVG lost.
    assert_images_load(timeline.locator("img"), "timeline")
    assert timeline.locator("img").count() == 2
    assert timeline.locator("svg").count() == 0
    alt = timeline.locator("img").first.get_attribute("alt") or ""
    assert alt.startswith("roc_auc per chunk"), alt
    # The chunk table: one row per chunk with its period, status and estimate.
    rows = timeline.locator("table").last.locator("tbody tr")
    assert rows.count() == len(chunks)
    for i, chunk in enumerate(chunks):
        row = rows.nth(i).inner_text()
        assert chunk["label"] in row, row
        assert ("ALERT" if chunk["status"] == "alert" else "ok") in row, row
        assert f"{chunk['estimated']['roc_auc']['value']:.3f}" in row, row
    page.screenshot(path=str(ARTIFACTS / "reviewer-jupyterlab-timeline.png"))


def test_reviewer_sees_challenger_feedback_and_policies_of_the_fixture(
    page: Any, reviewer_lab: Lab, shared: Path
) -> None:
    """Issue 12's outputs in the saved fixture, our extension off: the comparison's verdict,
    quality table with n and McNemar line; each feedback run's coverage; each policy's streak.
    All as sanitized HTML tables and words, never the raw JSON data."""
    saved = saved_outputs(shared / "report.ipynb")
    page.goto(f"{reviewer_lab.url}lab/tree/report.ipynb?reset")
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    page.locator(".jp-RenderedHTMLCommon table").first.wait_for(timeout=60_000)
    assert page.locator(".jp-RenderedModelbook").count() == 0
    assert page.locator(".jp-RenderedJSON").count() == 0

    data = saved["challenger_comparison"][MIME_TYPE]["data"]
    comparison = data["comparison"]
    head = f"challenger {comparison['challenger']} vs champion {comparison['champion']}"
    view = page.locator(".jp-RenderedHTMLCommon", has_text=head).first
    view.scroll_into_view_if_needed()
    text = view.inner_text()
    assert f"{head}: {comparison['verdict']}" in normalise(text), text[:300]
    assert f"Quality on {comparison['n_labelled']} labelled rows" in text
    rows = view.locator("table", has_text="difference").locator("tbody tr")
    assert rows.count() == len(comparison["quality"]) >= 2
    for i, q in enumerate(comparison["quality"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == q["metric"] and cells[-1] == str(q["n"]), cells
    assert "exact McNemar" in text
    assert_images_load(view.locator("img"), "comparison")
    assert view.locator("svg").count() == 0
    assert_no_json(text)
    page.screenshot(path=str(ARTIFACTS / "reviewer-jupyterlab-challenger.png"))

    feedback = saved["feedback_report"][MIME_TYPE]["data"]
    view = page.locator(".jp-RenderedHTMLCommon", has_text="late labels for model churn").first
    view.scroll_into_view_if_needed()
    text = view.inner_text()
    tables = view.locator("table", has_text="coverage")
    assert tables.count() == len(feedback["runs"]) >= 2
    for run in feedback["runs"]:
        row = tables.locator("tbody tr", has_text=run["run_id"][:8]).first.inner_text()
        assert f"{run['coverage']:.1%}" in row, row
        assert f"{run['predictions']}" in row and f"{run['labelled']}" in row, row
    assert_no_json(text)
    page.screenshot(path=str(ARTIFACTS / "reviewer-jupyterlab-feedback.png"))

    (policy,) = saved["policy_status"][MIME_TYPE]["data"]["policies"]
    view = page.locator(".jp-RenderedHTMLCommon", has_text=policy["name"]).last
    view.scroll_into_view_if_needed()
    row = view.locator("tbody tr", has_text=policy["name"]).first.inner_text()
    assert policy["alias"] in row, row
    assert f"{policy['streak']} of {policy['consecutive']}" in row, row
    assert_no_json(view.inner_text())


def assert_no_json(text: str) -> None:
    """Words and tables, not a dump of the lab renderer's JSON data."""
    assert not re.search(r'[{\[]\s*"\w+"\s*:', text), text[:300]
