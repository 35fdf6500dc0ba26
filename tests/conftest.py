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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A real PostgreSQL server for this test session (tests/team_server.py); skipped, with
    the reason, only when the PostgreSQL binaries are not installed."""
    import team_server

    if team_server.find_bin() is None:
        pytest.skip(
            "PostgreSQL binaries missing (/usr/lib/postgresql/*/bin/initdb): run ./scripts/test, "
            "which installs Debian's postgresql package."
        )
    yield from team_server.start_server()


@pytest.fixture
def team_registry(
    pg_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A fresh team registry (a new PostgreSQL database, files in a shared folder) used by
    every API call in the test; yields the local folder whose ``objects/`` holds the files."""
    home = tmp_path / ".modelbook"
    monkeypatch.setenv("MODELBOOK_HOME", pg_server.url(pg_server.fresh_database()))
    monkeypatch.setenv("MODELBOOK_OBJECTS", str(home / "objects"))
    monkeypatch.setenv("MODELBOOK_CACHE", str(tmp_path / "cache"))
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


# -- an S3-compatible object store (moto in server mode), for team registries ---------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1, one per test session (tests/s3_server.py)."""
    from s3_server import start_moto

    endpoint, stop = start_moto()
    yield endpoint
    stop()


@pytest.fixture
def s3_objects(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket: ``s3://<bucket>/registry?endpoint=...``, with test credentials in the
    environment (as a team member's shell would have them)."""
    from s3_server import CREDENTIALS, make_bucket

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "MODELBOOK_S3_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    return f"s3://{make_bucket(s3_endpoint)}/registry?endpoint={s3_endpoint}"
