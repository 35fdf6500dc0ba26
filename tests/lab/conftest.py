"""Fixtures for the browser tests: a real registry, a real JupyterLab, Debian's Chromium."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labserver import ARTIFACTS, CURRENT, HERE, Author, Lab, start_lab, stop_lab, wait_for_kernel

REPO = HERE.parents[1]


def _load_target(package_json: Path) -> str:
    return str(json.loads(package_json.read_text())["jupyterlab"]["_build"]["load"])


@pytest.fixture(scope="session")
def installed_extension() -> Path:
    """The lab extension this environment serves; fails when it is missing or older than the
    TypeScript source, so a browser test never checks a stale build."""
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "modelbook"
    rebuild = "rebuild and reinstall it with `.venv/bin/pip install -e .`"
    if not (installed / "package.json").exists():
        pytest.fail(f"the modelbook lab extension is not installed in {sys.prefix}: {rebuild}.")
    built = REPO / "src" / "modelbook" / "labextension" / "package.json"
    source = REPO / "labextension" / "src"
    if built.exists() and source.is_dir():
        newest = max(p.stat().st_mtime for p in source.rglob("*") if p.is_file())
        if newest > built.stat().st_mtime:
            pytest.fail(f"labextension/src changed after the last build: {rebuild}.")
        if _load_target(built) != _load_target(installed / "package.json"):
            pytest.fail(f"the installed lab extension differs from the last build: {rebuild}.")
    return installed


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with a real registry in ``.modelbook/`` and the saved fixture notebook."""
    from make_fixture import FIXTURE, build_registry

    root = tmp_path_factory.mktemp("lab-root")
    build_registry(root / ".modelbook")
    shutil.copy(FIXTURE, root / "report.ipynb")
    return root


@pytest.fixture(scope="session")
def lab(
    lab_root: Path, tmp_path_factory: pytest.TempPathFactory, installed_extension: Path
) -> Iterator[Lab]:
    """JupyterLab with an empty token and no kernel to start (UI tests)."""
    server = start_lab(lab_root, tmp_path_factory.mktemp("lab-state"), token="", kernels=False)
    yield server
    stop_lab(server)


@pytest.fixture(scope="session")
def chromium(browser: Any) -> Any:
    """The session's shared browser (tests/conftest.py)."""
    return browser


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page; its final state is saved to test-artifacts/<test name>.png."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    with contextlib.suppress(Exception):
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=False)
    context.close()


# -- the author: cells run live in JupyterLab, then saved ---------------------------------------


@pytest.fixture(scope="session")
def author(
    tmp_path_factory: pytest.TempPathFactory, chromium: Any, installed_extension: Path
) -> Iterator[Author]:
    """Run ``scenario.cells()`` live in JupyterLab (widgets shown), save, keep the page open."""
    from scenario import write_notebook

    root = tmp_path_factory.mktemp("author-root")
    (root / ".modelbook").mkdir()  # the kernel's registry (found from its working folder)
    notebook = write_notebook(root / "author.ipynb")
    server = start_lab(root, tmp_path_factory.mktemp("author-state"), token="")
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server.url}lab/tree/author.ipynb?reset")
        wait_for_kernel(page)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # Done when every code cell has its execution count (queued cells have none), or
        # when one failed (run-all stops there).
        page.wait_for_function(
            f"() => {CURRENT}.content.widgets.every("
            "c => c.model.type !== 'code' || c.model.executionCount !== null)"
            " || document.querySelector(\"[data-mime-type='application/vnd.jupyter.error']\")",
            timeout=480_000,
        )
        wait_for_kernel(page, timeout=600_000)
        failed = page.locator("[data-mime-type='application/vnd.jupyter.error']")
        if failed.count():
            pytest.fail("a scenario cell failed:\n" + failed.first.inner_text())
        page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function(f"() => !{CURRENT}.context.model.dirty", timeout=60_000)
        yield Author(server, page, notebook)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / "author-final.png"))
        context.close()
        stop_lab(server)
