"""Fixtures for the headless engine: a registry with a trained model, batches, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from headless_helpers import Churn, CliRunner, build_template


@pytest.fixture(scope="session")
def churn_template(tmp_path_factory: pytest.TempPathFactory) -> Churn:
    """Built once per session; tests get a copy (registering costs ~1 s)."""
    return build_template(tmp_path_factory.mktemp("churn-template"))


@pytest.fixture
def churn(churn_template: Churn, registry: Path, tmp_path: Path) -> Churn:
    """A private copy of the template registry at the ``registry`` fixture's path."""
    shutil.copytree(churn_template.home, registry)
    for name in ("ok.parquet", "drift.parquet"):
        shutil.copyfile(churn_template.home.parent / name, tmp_path / name)
    return Churn(registry, tmp_path / "ok.parquet", tmp_path / "drift.parquet")


@pytest.fixture
def cli() -> CliRunner:
    """Run ``python -m modelbook ARGS`` in a real subprocess."""

    def run(
        *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelbook", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            timeout=300,
        )

    return run


@pytest.fixture
def clean_ipython_history(ip: Any) -> Iterator[Any]:
    """Drop cells a test ran from ``In``: run_context() scans it for papermill's cell."""
    history = ip.user_ns["In"]
    size = len(history)
    yield ip
    del history[size:]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "codes(*status): HTTP status codes the local webhook server answers with"
    )
