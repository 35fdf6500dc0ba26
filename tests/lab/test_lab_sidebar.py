"""The registry sidebar in a real JupyterLab, fed by the server extension from a real registry."""

from __future__ import annotations

from typing import Any

import pytest
from labserver import Lab

from modelbook.registry import Registry

pytestmark = pytest.mark.browser


def test_sidebar_lists_registry_and_inserts_cells(page: Any, lab: Lab) -> None:
    registry = Registry(lab.root / ".modelbook")
    latest = {r["target"]: r["status"] for r in registry.latest_monitor_runs()}

    page.goto(f"{lab.url}lab/tree/report.ipynb?reset")
    page.locator(".jp-Dialog button", has_text="No Kernel").click()
    page.locator(".jp-RenderedModelbook").first.wait_for()
    page.locator("li[data-id='modelbook-registry']").click()
    sidebar = page.locator("#modelbook-registry")
    sidebar.locator(".mb-entry").first.wait_for()

    # Every name of the registry, grouped models first, with kind and latest monitor status.
    entries = sidebar.locator(".mb-entry").evaluate_all(
        "els => els.map(e => [e.dataset.kind, e.dataset.name])"
    )
    assert entries == [
        [e["kind"], e["name"]]
        for kind in ("model", "dataset")
        for e in registry.entries()
        if e["kind"] == kind
    ]
    assert ["model", "churn"] in entries and ["dataset", "customers"] in entries
    churn = sidebar.locator(".mb-entry[data-name='churn']")
    assert churn.locator(".mb-badge").inner_text() == latest["churn"]
    assert churn.locator(".mb-entry-aliases .mb-chip").all_inner_texts() == [
        "production→2",
        "staging→1",
    ]
    assert sidebar.locator(".mb-where").inner_text() == str(registry.home)

    # Versions, newest first, with aliases; selecting one shows its details.
    churn.locator(".mb-entry-row").click()
    versions = churn.locator(".mb-version")
    versions.first.wait_for()
    assert versions.evaluate_all("els => els.map(e => e.dataset.ref)") == ["churn@2", "churn@1"]
    assert "production" in versions.first.inner_text()
    versions.first.locator("button").click()
    details = sidebar.locator(".mb-details [data-mb-kind='model_version']")
    details.wait_for()
    assert "churn@2" in details.locator(".mb-title").inner_text()
    last_run = sidebar.locator(".mb-last-run")
    assert last_run.locator("> summary .mb-badge").inner_text() == latest["churn"]
    last_run.locator("> summary").click()
    assert last_run.locator("[data-mb-kind='monitor_report']").is_visible()

    # The buttons insert %modelbook cells into the open notebook.
    sidebar.locator("button.mb-insert-show").click()
    sidebar.locator("button.mb-insert-diff").click()
    sources = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").all_inner_texts()
    assert "%modelbook show churn@2" in sources
    assert "%modelbook diff churn@1 churn@2" in sources
