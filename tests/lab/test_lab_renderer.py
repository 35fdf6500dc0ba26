"""The MIME renderer in a real JupyterLab: a saved notebook, no kernel, report shown and sortable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labserver import ARTIFACTS, Lab, start_lab, stop_lab

from modelbook.render import MIME_TYPE

pytestmark = pytest.mark.browser


def open_notebook(page: Any, lab: Lab) -> Any:
    page.goto(f"{lab.url}lab/tree/report.ipynb?reset")
    # With no kernel spec on the server, Lab asks which kernel to use: keep none.
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    monitor = page.locator(".jp-RenderedModelbook [data-mb-kind='monitor_report']").first
    monitor.wait_for()
    return monitor


def test_saved_notebook_renders_without_kernel_and_sorts(page: Any, lab: Lab) -> None:
    monitor = open_notebook(page, lab)
    # Our renderer won over the text/html fallback for every output of the notebook.
    kinds = page.locator(".jp-RenderedModelbook [data-mb-kind]").evaluate_all(
        "els => els.map(e => e.getAttribute('data-mb-kind'))"
    )
    assert kinds == [
        "monitor_report",
        "monitor_report",
        "monitor_timeline",
        "model_version",
        "dataset_version",
        "model_diff",
        "dataset_diff",
        "history",
        "listing",
        "alias_change",
        "gc_report",
        "challenger_comparison",
        "feedback_report",
        "policy_status",
        "monitor_report",  # segments and fairness (issue 13)
    ]
    # A kind this renderer does not know still shows its data, as a tree.
    unknown = page.locator(".jp-RenderedModelbook .mb-unknown")
    assert unknown.count() == 1
    assert "future_result" in unknown.inner_text()
    assert "churn@2" in unknown.locator(".mb-json").first.inner_text()
    assert monitor.locator(".mb-badge").first.inner_text() == "alert"
    assert_estimates_shown(monitor, fixture_bundles()["monitor_report"])

    # Sort the drift table by column name, both ways.
    drift = monitor.locator(".mb-drift")
    names = drift.locator("tbody tr.mb-row td:nth-child(2)")
    header = drift.locator("th[data-key='column'] button")
    header.click()
    assert names.all_inner_texts() == ["age", "income", "tenure"]
    assert drift.locator("th[data-key='column']").get_attribute("aria-sort") == "ascending"
    header.click()
    assert names.all_inner_texts() == ["tenure", "income", "age"]

    # Filter: only the drifted column stays; expanding it draws the reference-vs-current chart.
    drift.locator("input.mb-toggle").check()
    assert names.all_inner_texts() == ["age"]
    drift.locator("button.mb-expand").first.click()
    chart = drift.locator("tr.mb-detail svg.mb-chart-svg")
    chart.wait_for()
    assert chart.locator(".mb-ref rect").count() > 5
    assert chart.locator(".mb-cur rect").count() > 5

    # A stored dataset version: filter its columns, expand one to see its distribution.
    dataset = page.locator("[data-mb-kind='dataset_version']")
    dataset.locator("input.mb-filter").fill("plan")
    assert dataset.locator("tbody tr.mb-row td:nth-child(3)").all_inner_texts() == ["plan"]
    dataset.locator("button.mb-expand").first.click()
    bars = dataset.locator("tr.mb-detail svg.mb-chart-svg .mb-cur rect")
    assert bars.count() == 3  # basic, plus, pro

    # The timeline: its chart, its drift strip and a row per chunk.
    assert_timeline_shown(page, fixture_bundles()["monitor_timeline"], shot="monitor_timeline")

    # Diff sections collapse.
    diff = page.locator("[data-mb-kind='model_diff']")
    params = diff.locator("details.mb-section", has_text="Parameters").first
    assert params.get_attribute("open") is not None
    params.locator("summary").click()
    assert params.get_attribute("open") is None

    # No kernel was involved: none is running.
    status, kernels = lab.get("api/kernels")
    assert status == 200
    assert kernels == []
    ARTIFACTS.mkdir(exist_ok=True)
    monitor.screenshot(path=str(ARTIFACTS / "monitor_report.png"))

    # The views follow the JupyterLab theme: switch to dark and the text turns light.
    title = monitor.locator(".mb-title")
    assert luminance(title.evaluate("e => getComputedStyle(e).color")) < 0.3
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    page.wait_for_timeout(500)
    assert luminance(title.evaluate("e => getComputedStyle(e).color")) > 0.6
    monitor.screenshot(path=str(ARTIFACTS / "monitor_report_dark.png"))


def test_closing_the_loop_views_render_without_kernel(page: Any, lab: Lab) -> None:
    """Champion/challenger, late labels and policy status (issue 12) from the saved notebook:
    the verdict and the quality table with its n, each run's coverage, each policy's streak."""
    open_notebook(page, lab)
    saved = fixture_bundles()

    comparison = saved["challenger_comparison"]["comparison"]
    view = page.locator(".jp-RenderedModelbook [data-mb-kind='challenger_comparison']")
    view.scroll_into_view_if_needed()
    summary = view.locator("[data-mb-section='summary']").inner_text()
    assert f"{comparison['challenger']} vs champion {comparison['champion']}" in summary
    verdict = view.locator(".mb-verdict-word").inner_text()
    assert verdict.lower() == comparison["verdict"], verdict
    quality = view.locator("[data-mb-section='quality']")
    assert f"Quality on {comparison['n_labelled']} labelled rows" in quality.inner_text()
    rows = quality.locator("table.mb-quality tbody tr")
    assert rows.count() == len(comparison["quality"]) >= 2
    for i, q in enumerate(comparison["quality"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == q["metric"], cells
        assert shows(cells[1], q["champion"]) and shows(cells[2], q["challenger"]), cells
        assert cells[-1] == str(q["n"]), cells
    mcnemar = comparison["mcnemar"]  # b: only the champion right; c: only the challenger
    words = f"exact McNemar: challenger right where champion wrong on {mcnemar['c']} rows, "
    assert words + f"the reverse on {mcnemar['b']}" in quality.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    view.screenshot(path=str(ARTIFACTS / "challenger_comparison.png"))

    feedback = saved["feedback_report"]
    view = page.locator(".jp-RenderedModelbook [data-mb-kind='feedback_report']")
    view.scroll_into_view_if_needed()
    assert "late labels churn" in view.locator(".mb-title").inner_text().lower()
    runs = view.locator(".mb-feedback-run")
    assert runs.count() == len(feedback["runs"]) >= 2
    for run in feedback["runs"]:
        block = view.locator(f".mb-feedback-run[data-mb-run='{run['run_id']}']")
        cells = block.locator("table").first.locator("tbody td").all_inner_texts()
        assert cells[1:] == [
            str(run["predictions"]),
            str(run["labelled"]),
            f"{run['coverage'] * 100:.1f} %",
            str(run["matched"]),
        ], cells
    assert any(r["coverage"] > 0 for r in feedback["runs"])
    view.screenshot(path=str(ARTIFACTS / "feedback_report.png"))

    (policy,) = saved["policy_status"]["policies"]
    view = page.locator(".jp-RenderedModelbook [data-mb-kind='policy_status']")
    view.scroll_into_view_if_needed()
    row = view.locator("tbody tr.mb-row").first.inner_text()
    assert policy["name"] in row and policy["alias"] in row, row
    assert f"{policy['streak']} of {policy['consecutive']}" in row, row
    assert "watching (dry run)" in row, row
    view.screenshot(path=str(ARTIFACTS / "policy_status.png"))


def fixture_bundles() -> dict[str, dict[str, Any]]:
    """The fixture's saved outputs by kind (the first of each), as our renderer reads them."""
    from make_fixture import FIXTURE

    found: dict[str, dict[str, Any]] = {}
    for cell in json.loads(FIXTURE.read_text())["cells"]:
        for output in cell.get("outputs", []):
            bundle = output.get("data", {}).get(MIME_TYPE)
            if bundle:
                found.setdefault(bundle["type"], bundle["data"])
    return found


def assert_estimates_shown(monitor: Any, report: dict[str, Any]) -> None:
    """The estimated section (the model has an evaluation set): every metric's estimate, in the
    static report's section order; the lead estimate in the summary."""
    estimated = report["estimated"]
    assert estimated and all(e["value"] is not None for e in estimated.values()), estimated
    order = monitor.locator("[data-mb-section]").evaluate_all(
        "els => els.map(e => e.dataset.mbSection)"
    )
    assert order[:5] == ["summary", "estimated", "findings", "drift", "multivariate"], order
    section = monitor.locator("[data-mb-section='estimated']")
    assert section.locator("summary").first.inner_text().startswith("Estimated performance")
    rows = section.locator("tbody tr")
    assert rows.count() == len(estimated)
    text = section.inner_text()
    for name, e in estimated.items():
        assert f"{e['value']:.3f}" in text, name
        assert f"{e['band_lower']:.3f}–{e['band_upper']:.3f}" in text, name
    assert section.locator("tr.mb-row-alert").count() == sum(
        e["status"] == "alert" for e in estimated.values()
    )
    lead = estimated["roc_auc"]
    summary = monitor.locator("[data-mb-section='summary']").inner_text()
    assert f"estimated ROC AUC {lead['value']:.3f}" in summary
    multivariate = monitor.locator("[data-mb-section='multivariate']")
    assert multivariate.locator("summary").first.inner_text().startswith("Multivariate drift")


def assert_timeline_shown(page: Any, timeline: dict[str, Any], *, shot: str) -> None:
    view = page.locator(".jp-RenderedModelbook [data-mb-kind='monitor_timeline']")
    view.scroll_into_view_if_needed()
    chunks = timeline["chunks"]
    assert len(chunks) == 4
    assert "churn@2" in view.locator(".mb-title").inner_text()
    assert f"{len(chunks)} chunks by month of ts" in view.inner_text()
    # The chart: estimated and realized ROC AUC, a point per chunk each, the ±3 SE band.
    chart = view.locator("svg.mb-timeline-chart")
    assert chart.get_attribute("aria-label") == "roc_auc per chunk"
    assert chart.locator("polyline").count() == 2
    assert chart.locator("polygon").count() == 2  # the threshold band and the ±3 SE band
    assert chart.locator("circle title").count() == 2 * len(chunks)
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    # Another metric redraws it.
    view.locator("select[aria-label='metric']").select_option("accuracy")
    assert view.locator("svg.mb-timeline-chart").get_attribute("aria-label") == (
        "accuracy per chunk"
    )
    # The drift strip: a chunk-status row and a row per column, a cell per chunk.
    strip = view.locator("svg.mb-timeline-strip rect")
    assert strip.count() == len(chunks) * (len(timeline["columns"]) + 1)
    # The chunk table: one row per chunk, its period and its estimate.
    rows = view.locator("tbody tr.mb-row")
    assert rows.count() == len(chunks)
    for i, chunk in enumerate(chunks):
        text = rows.nth(i).inner_text()
        assert chunk["label"] in text, (chunk["label"], text)
        assert shows(text, chunk["estimated"]["roc_auc"]["value"]), text
    ARTIFACTS.mkdir(exist_ok=True)
    view.screenshot(path=str(ARTIFACTS / f"{shot}.png"))


def shows(text: str, value: float) -> bool:
    """Whether ``text`` shows ``value`` to the 3 decimals (or more) it is printed with."""
    numbers = [float(n) for n in re.findall(r"\d+\.\d+", text)]
    return any(abs(n - value) <= 5e-4 + 1e-12 for n in numbers)


def luminance(css_color: str) -> float:
    """Relative brightness (0 black … 1 white) of an ``rgb(r, g, b)`` CSS colour."""
    r, g, b = (int(v) for v in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_papermill_output_renders(page: Any, lab: Lab, tmp_path: Path, monkeypatch: Any) -> None:
    """A notebook run headless by papermill (real kernel) shows its results in Lab afterwards."""
    import nbformat
    import papermill

    monkeypatch.delenv("MODELBOOK_HOME", raising=False)
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%load_ext modelbook"),
            nbformat.v4.new_code_cell(
                "import pyarrow as pa\n"
                "import modelbook as mb\n"
                "mb.register(pa.table({'x': [1.0, 2.0, 3.0]}), name='scored')"
            ),
        ]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    source = tmp_path / "job.ipynb"
    nbformat.write(notebook, source)
    papermill.execute_notebook(
        str(source),
        str(lab.root / "papermill-output.ipynb"),
        cwd=str(tmp_path),
        kernel_name="python3",
        progress_bar=False,
    )
    page.goto(f"{lab.url}lab/tree/papermill-output.ipynb?reset")
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    view = page.locator(".jp-RenderedModelbook [data-mb-kind='dataset_version']")
    view.wait_for()
    assert "scored@1" in view.locator(".mb-title").inner_text()


@pytest.fixture(scope="module")
def notebook7(
    lab_root: Path, tmp_path_factory: pytest.TempPathFactory, installed_extension: Path
) -> Iterator[Lab]:
    server = start_lab(
        lab_root, tmp_path_factory.mktemp("nb7-state"), token="", kernels=False, app="notebook"
    )
    yield server
    stop_lab(server)


def test_notebook7_renders_saved_notebook(page: Any, notebook7: Lab) -> None:
    page.goto(f"{notebook7.url}notebooks/report.ipynb")
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    monitor = page.locator(".jp-RenderedModelbook [data-mb-kind='monitor_report']").first
    monitor.wait_for()
    drift = monitor.locator(".mb-drift")
    drift.locator("th[data-key='statistic'] button").click()  # ascending
    values = drift.locator("tbody tr.mb-row td:nth-child(5)").all_inner_texts()
    assert values == sorted(values, key=float)
    # The estimates and the timeline show there too.
    assert_estimates_shown(monitor, fixture_bundles()["monitor_report"])
    assert_timeline_shown(page, fixture_bundles()["monitor_timeline"], shot="nb7_timeline")
    # The left panel of Notebook 7's notebook page holds the registry sidebar.
    assert page.locator("#modelbook-registry").count() == 1
