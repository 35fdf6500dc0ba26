"""A real JupyterLab, headless, driven by Playwright with Debian's Chromium: run the example
notebook, the monitor widget renders the whole report with its live drift table, choosing a
column shows that column's chart; saved, the outputs keep the static report and our data."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "views.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab on a free port, serving tmp_path (with a copy of the notebook)."""
    shutil.copy(NOTEBOOK, tmp_path / "views.ipynb")
    port = _free_port()
    env = {
        **os.environ,
        "MODELBOOK_HOME": str(tmp_path / ".modelbook"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / ".jupyter"),
        "JUPYTER_DATA_DIR": str(tmp_path / ".jupyter-data"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / ".workspaces"),
    }
    env.pop("MODELBOOK_DISPLAY", None)
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", "--ServerApp.token=", "--ServerApp.password=",
         "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--ServerApp.root_dir={tmp_path}"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError((tmp_path / "lab.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.browser
def test_drift_widget_in_jupyterlab(
    lab: str, artifacts: Path, tmp_path: Path, browser: Any
) -> None:
    lab_dir = tmp_path
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{lab}/lab/tree/views.ipynb?reset")
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
            timeout=60_000,
        )
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext"
            ".session.kernel.status === 'idle'",
            timeout=60_000,
        )
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        monitor = page.locator(".mbw-monitor")
        monitor.wait_for(timeout=120_000)
        # The whole report: the static sections, with the drift section live.
        title = monitor.locator("h3").first.inner_text()
        assert title.startswith("monitor tumours@1") and "alert" in title.lower()
        sections = monitor.locator("[data-mb-section]").evaluate_all(
            "els => els.map(e => e.dataset.mbSection)"
        )
        assert sections[:3] == ["summary", "findings", "drift"] and "quality" in sections
        drift = monitor.locator("[data-mb-section='drift']")
        rows = drift.locator("tbody tr")
        assert rows.count() == 12
        # Choose a column: its distribution chart replaces the first one.
        drift.locator("tbody tr[data-column='mean area']").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.mbw-monitor .mbw-distribution svg text')]"
            ".some(t => t.textContent === 'mean area')",
            timeout=30_000,
        )
        assert drift.locator("tr.mbw-selected").get_attribute("data-column") == "mean area"
        # Sort by statistic, then the drifted-only toggle.
        drift.locator("th[data-key='statistic']").click()
        drift.locator("input.mbw-drifted-only").check()
        shown = drift.locator("tbody tr td.drifted")
        assert 0 < shown.count() == drift.locator("tbody tr").count() < 12
        # The diff widgets of the later cells render too.
        page.locator(".mbw-diff").nth(1).wait_for(timeout=120_000)
        assert page.locator(".mbw-diff h3").first.inner_text().startswith("model diff")
        monitor.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "views-jupyterlab.png"))
        page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
            timeout=30_000,
        )
    finally:
        context.close()
    _saved_notebook_keeps_the_static_report(lab_dir / "views.ipynb")


def _saved_notebook_keeps_the_static_report(path: Path) -> None:
    """Saved from JupyterLab, the widget outputs carry the static HTML that nbconvert shows
    and our MIME type, which JupyterLab with modelbook renders without the widget's model."""
    from modelbook.render import MIME_TYPE

    nb = json.loads(path.read_text())
    outputs = [o["data"] for c in nb["cells"] for o in c.get("outputs", []) if "data" in o]
    widgets = [d for d in outputs if WIDGET_VIEW in d]
    assert len(widgets) == 3  # monitor report, model diff, dataset diff
    for data in widgets:
        html = "".join(data["text/html"])  # nbformat stores multi-line strings as lists
        assert "<script" not in html
        assert data[MIME_TYPE]["type"] in ("monitor_report", "model_diff", "dataset_diff")
    subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "html", str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    html = path.with_suffix(".html").read_text()
    charts = html.count("<svg") + html.count("data:image/svg+xml")
    assert charts >= 3 and "Data drift" in html and "Rows by patient_id" in html
