"""Shared fixtures: a fresh registry on disk and a real IPython shell with the extension loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import modelbook.registry.paths as paths


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A registry folder in tmp_path, used by every API call in the test (MODELBOOK_HOME)."""
    home = tmp_path / ".modelbook"
    monkeypatch.setenv("MODELBOOK_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    paths.set_session_home(None)
    yield home
    paths.set_session_home(None)


@pytest.fixture
def ip(registry: Path) -> Iterator[Any]:
    """The real IPython shell with ``%load_ext modelbook``, and a clean namespace."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "modelbook")
    saved = dict(shell.user_ns)
    yield shell
    shell.user_ns.clear()
    shell.user_ns.update(saved)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per session.

    One sync Playwright per process: a second ``sync_playwright()`` while the first is open
    fails ("Sync API inside the asyncio loop"), so every browser test shares this one.
    A missing browser fails the test, never skips it.
    """
    import os

    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run the project's test command (./scripts/test), "
            "which installs it with `apt-get install -y chromium`."
        )
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
