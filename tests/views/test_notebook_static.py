"""The example notebook run headless (papermill), exported by nbconvert, looked at in Chromium.

A headless run must write static output (no widget views), and the exported HTML must show the
tables and the SVG charts without a kernel and without network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelbook.render import MIME_TYPE

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "views.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(executed notebook, nbconvert HTML), made once for the module."""
    work = tmp_path_factory.mktemp("views-nb")
    out = work / "views-out.ipynb"
    env = {**os.environ, "MODELBOOK_HOME": str(work / ".modelbook")}
    bindir = Path(sys.executable).parent
    subprocess.run(
        [str(bindir / "papermill"), str(NOTEBOOK), str(out), "-k", "python3",
         "-p", "registry", str(work / ".modelbook"), "--cwd", str(work)],
        check=True, env=env, capture_output=True, timeout=300,
    )  # fmt: skip
    subprocess.run(
        [str(bindir / "jupyter"), "nbconvert", "--to", "html", str(out)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out, out.with_suffix(".html")


@pytest.mark.browser
def test_headless_run_writes_static_outputs(exported: tuple[Path, Path]) -> None:
    nb = json.loads(exported[0].read_text())
    results = [o["data"] for c in nb["cells"] for o in c.get("outputs", []) if "data" in o]
    kinds = [r[MIME_TYPE]["type"] for r in results if MIME_TYPE in r]
    assert kinds == [
        "model_version", "model_version", "monitor_report", "model_diff", "dataset_diff"
    ]  # fmt: skip
    assert all(WIDGET_VIEW not in r and "text/html" in r for r in results)
    assert "widgets" not in nb["metadata"]


@pytest.mark.browser
def test_nbconvert_html_has_tables_and_chart_images(exported: tuple[Path, Path]) -> None:
    html = exported[1].read_text()
    # An overview and at least one distribution per monitor report, model diff, dataset diff.
    assert html.count('src="data:image/svg+xml;base64,') >= 6
    nb = json.loads(exported[0].read_text())
    outputs = [o["data"]["text/html"] for c in nb["cells"] for o in c.get("outputs", [])
               if "text/html" in o.get("data", {})]  # fmt: skip
    assert outputs and not any("<svg" in "".join(o) for o in outputs)
    for text in ("Findings", "Data drift:", "model diff", "Rows by patient_id", "Changed columns"):
        assert text in html, text


@pytest.mark.browser
def test_chromium_shows_the_static_report(
    exported: tuple[Path, Path], artifacts: Path, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.route("http*://**", lambda route: route.abort())  # offline: nothing to fetch
        page.goto(exported[1].as_uri())
        charts = page.locator(".mb img")
        assert charts.count() >= 6
        box = charts.first.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100
        decoded = charts.evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
        assert decoded, "every chart image decodes (offline data URI)"
        assert page.locator(".mb table").count() >= 8
        assert page.locator('.mb img[alt*="mean texture"]').count() >= 1
        drift_heading = page.get_by_text("Data drift:", exact=False).first
        assert drift_heading.is_visible()
        drift_heading.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "views-nbconvert.png"), full_page=True)
    finally:
        context.close()
    assert (artifacts / "views-nbconvert.png").stat().st_size > 50_000
