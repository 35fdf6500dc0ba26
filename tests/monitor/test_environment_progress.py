"""Changes since registration, and the progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import modelbook
from modelbook.capture.environment import capture_environment


def _rewrite_environment(home: Path, change: dict[str, str]) -> None:
    """Make churn@1 look registered under other package versions (as an older install did)."""
    con = duckdb.connect(str(home / "registry.duckdb"))
    try:
        env = json.loads(con.execute("SELECT environment FROM model_versions").fetchall()[0][0])
        for name, version in change.items():
            if name == "python":
                env["python"] = version
            else:
                env["packages"][name] = version
        con.execute("UPDATE model_versions SET environment = ?", [json.dumps(env)])
    finally:
        con.close()


def test_changed_library_is_an_alert(trained: Any, batch: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=batch, store="none")
    assert [c.status for c in report.checks if c.check == "environment"] == ["ok"]
    _rewrite_environment(
        trained.home, {"scikit-learn": "0.24.2", "numpy": "1.0.0", "python": "3.8.0", "zzz": "1"}
    )
    report = modelbook.monitor("churn", data=batch, store="none")
    current = capture_environment()
    found = {(c.check, c.column): (c.status, c.message) for c in report.checks}
    assert found[("environment.model_library", "scikit-learn")] == (
        "alert",
        f"scikit-learn 0.24.2 at registration, {current['packages']['scikit-learn']} now",
    )
    assert found[("environment.packages", "numpy")][0] == "info"
    assert found[("environment.packages", "python")][0] == "info"
    assert not any(c.column == "zzz" for c in report.checks)  # not a package that matters
    assert report.status == "alert"
    assert (
        "scikit-learn",
        "0.24.2",
        current["packages"]["scikit-learn"],
    ) in report.environment_changes
    relaxed = modelbook.monitor(
        "churn", data=batch, store="none", rules={"checks": {"environment.model_library": "info"}}
    )
    assert relaxed.status == "ok"


def test_no_progress_bar_for_small_data(
    trained: Any, batch: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    modelbook.monitor("churn", data=batch, store="none")
    assert "monitor" not in capsys.readouterr().err


def test_progress_bar_when_asked(
    trained: Any,
    batch: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODELBOOK_PROGRESS", "always")
    modelbook.monitor("churn", data=batch, store="none")
    err = capsys.readouterr().err
    assert "monitor: profiled batch" in err and "/5 [" in err
