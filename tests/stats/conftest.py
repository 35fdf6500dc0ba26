"""Statistical tests on millions of rows are marked ``slow`` and run only when asked for."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow statistical test: run with -m slow")
    for item in items:
        if "slow" in item.keywords and item.path.parent.name == "stats":
            item.add_marker(skip)
