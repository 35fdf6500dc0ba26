"""With a live kernel: a cell that prints a modelbook result refreshes the registry sidebar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labserver import Lab, start_lab, stop_lab

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_lab(tmp_path_factory: pytest.TempPathFactory, installed_extension: Path) -> Iterator[Lab]:
    import pyarrow as pa

    import modelbook as mb

    root = tmp_path_factory.mktemp("live-root")
    mb.register(pa.table({"x": [1.0, 2.0]}), name="first", registry=root / ".modelbook")
    server = start_lab(root, tmp_path_factory.mktemp("live-state"), token="")
    yield server
    stop_lab(server)


def test_sidebar_refreshes_after_a_cell_prints_a_result(page: Any, live_lab: Lab) -> None:
    page.goto(f"{live_lab.url}lab?reset")
    page.locator("li[data-id='modelbook-registry']").click()
    sidebar = page.locator("#modelbook-registry")
    sidebar.locator(".mb-entry[data-name='first']").wait_for()
    assert sidebar.locator(".mb-entry[data-name='fresh']").count() == 0

    page.evaluate(
        "window.jupyterapp.commands.execute('notebook:create-new', {kernelName: 'python3'})"
    )
    editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    editor.click()
    page.keyboard.type(
        "import pyarrow, modelbook; "
        "modelbook.register(pyarrow.table({'y': [1, 2, 3]}), name='fresh')"
    )
    page.keyboard.press("Shift+Enter")
    # The output renders with our renderer, and the sidebar picks the new name up by itself.
    page.locator(".jp-RenderedModelbook [data-mb-kind='dataset_version']").wait_for(timeout=90_000)
    sidebar.locator(".mb-entry[data-name='fresh']").wait_for(timeout=15_000)
