"""With a live kernel, the registry sidebar stays fresh: it reloads when a cell that used
modelbook finishes (shown or not), when it is opened after such cells ran, and when the page
regains focus (another process may have written to the registry)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labserver import CURRENT, Lab, start_lab, stop_lab

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_lab(tmp_path_factory: pytest.TempPathFactory, installed_extension: Path) -> Iterator[Lab]:
    import pyarrow as pa

    import modelbook as mb

    root = tmp_path_factory.mktemp("live-root")
    for name in ("first", "stale"):
        mb.register(pa.table({"x": [1.0, 2.0]}), name=name, registry=root / ".modelbook")
    server = start_lab(root, tmp_path_factory.mktemp("live-state"), token="")
    yield server
    stop_lab(server)


def open_sidebar(page: Any) -> Any:
    page.locator("li[data-id='modelbook-registry']").click()
    sidebar = page.locator("#modelbook-registry")
    sidebar.locator(".mb-entry[data-name='first']").wait_for()
    return sidebar


def run_in_new_notebook(page: Any, code: str, *, wait_output: str | None = None) -> None:
    page.evaluate(
        "window.jupyterapp.commands.execute('notebook:create-new', {kernelName: 'python3'})"
    )
    editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    editor.click()
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        f"() => {CURRENT}.content && {CURRENT}.content.widgets[0].model.executionCount !== null",
        timeout=120_000,
    )
    if wait_output:
        page.locator(wait_output).wait_for(timeout=90_000)


def count(sidebar: Any, name: str) -> Any:
    return sidebar.locator(f".mb-entry[data-name='{name}'] .mb-entry-count")


def test_sidebar_refreshes_after_a_cell_prints_a_result(page: Any, live_lab: Lab) -> None:
    page.goto(f"{live_lab.url}lab?reset")
    sidebar = open_sidebar(page)
    assert sidebar.locator(".mb-entry[data-name='fresh']").count() == 0
    run_in_new_notebook(
        page,
        "import pyarrow, modelbook; "
        "modelbook.register(pyarrow.table({'y': [1, 2, 3]}), name='fresh')",
        # The output renders with our renderer...
        wait_output=".jp-RenderedModelbook [data-mb-kind='dataset_version']",
    )
    # ... and the sidebar picks the new name up by itself.
    sidebar.locator(".mb-entry[data-name='fresh']").wait_for(timeout=15_000)


def test_sidebar_opened_after_cells_ran_shows_their_changes(page: Any, live_lab: Lab) -> None:
    """Issue 9 item 7: the sidebar loaded at start-up, cells changed the registry while it was
    closed (one of them printing nothing), then it is opened: it must not be stale."""
    page.goto(f"{live_lab.url}lab?reset")
    page.locator("#modelbook-registry .mb-entry[data-name='stale']").wait_for(state="attached")
    assert count(page.locator("#modelbook-registry"), "stale").text_content() == "1 v"
    run_in_new_notebook(
        page,
        "import pyarrow, modelbook; "
        "v = modelbook.register(pyarrow.table({'x': [5.0, 6.0]}), name='stale')",
    )
    sidebar = open_sidebar(page)
    page.wait_for_function(
        "() => document.querySelector(\"#modelbook-registry .mb-entry[data-name='stale']"
        " .mb-entry-count\").textContent === '2 v'",
        timeout=15_000,
    )
    assert sidebar.is_visible()


def test_sidebar_refreshes_when_the_page_regains_focus(page: Any, live_lab: Lab) -> None:
    import pyarrow as pa

    import modelbook as mb

    page.goto(f"{live_lab.url}lab?reset")
    sidebar = open_sidebar(page)
    assert sidebar.locator(".mb-entry[data-name='elsewhere']").count() == 0
    # Another process (here: this test) writes to the registry while the user is away.
    mb.register(pa.table({"z": [1]}), name="elsewhere", registry=live_lab.root / ".modelbook")
    page.wait_for_timeout(1_200)  # focus reloads at most once a second
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    sidebar.locator(".mb-entry[data-name='elsewhere']").wait_for(timeout=15_000)
