"""What the server extension answers, called directly (no server, no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelbook.server import queries


def test_registry_home_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / ".modelbook").mkdir(parents=True)
    (project / "notebooks").mkdir()
    monkeypatch.delenv("MODELBOOK_HOME", raising=False)
    assert queries.registry_home(None, project / "notebooks") == project / ".modelbook"
    assert queries.registry_home(None, tmp_path) == tmp_path / ".modelbook"
    monkeypatch.setenv("MODELBOOK_HOME", str(tmp_path / "elsewhere"))
    assert queries.registry_home(None, project) == tmp_path / "elsewhere"
    assert queries.registry_home(str(project), tmp_path) == project / ".modelbook"


def test_empty_registry_lists_nothing_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / ".modelbook"
    assert queries.entries(home) == {"registry": str(home), "exists": False, "entries": []}
    assert queries.latest_status(home) == {"runs": []}
    assert not home.exists()
