"""run_context(): how monitor runs learn they are scheduled, and from which notebook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelbook.capture.context import RunContext, run_context


@pytest.fixture(autouse=True)
def _no_context_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (
        "MODELBOOK_SOURCE",
        "MODELBOOK_NOTEBOOK",
        "MODELBOOK_PARAMETERS",
        "JPY_SESSION_NAME",
    ):
        monkeypatch.delenv(key, raising=False)


def test_plain_python_is_api_and_headless() -> None:
    context = run_context()
    assert context == RunContext("api", None, {})
    assert context.headless


def test_modelbook_run_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELBOOK_SOURCE", "scheduled")
    monkeypatch.setenv("MODELBOOK_NOTEBOOK", "/jobs/daily.ipynb")
    monkeypatch.setenv("MODELBOOK_PARAMETERS", json.dumps({"batch": "b.parquet", "n": 3}))
    assert run_context() == RunContext(
        "scheduled", "/jobs/daily.ipynb", {"batch": "b.parquet", "n": 3}
    )


@pytest.mark.parametrize("text", ["not json", "[1, 2]", ""])
def test_unreadable_parameters_are_ignored(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("MODELBOOK_SOURCE", "scheduled")
    monkeypatch.setenv("MODELBOOK_PARAMETERS", text)
    assert run_context().parameters == {}


def test_interactive_shell(clean_ipython_history: Any) -> None:
    ip = clean_ipython_history
    ip.run_cell("x = 1", store_history=True)
    context = run_context()
    assert context.source == "interactive"
    assert not context.headless


def test_papermill_injected_cell_means_scheduled(clean_ipython_history: Any) -> None:
    ip = clean_ipython_history
    ip.run_cell(
        '# Parameters\nmodel = "churn@production"\nlimit = 3\nwhen = dict(a=1)\n',
        store_history=True,
    )
    ip.run_cell("y = 2", store_history=True)
    context = run_context()
    assert context.source == "scheduled"
    assert context.parameters == {"model": "churn@production", "limit": 3, "when": "dict(a=1)"}


def test_papermill_without_parameters_is_scheduled(tmp_path: Path) -> None:
    """No injected cell: the kernel still knows no frontend sent the cell."""
    import nbformat
    import papermill
    from nbformat.v4 import new_code_cell, new_notebook

    source = tmp_path / "probe.ipynb"
    code = "from modelbook.capture.context import run_context\nprint(run_context().source)"
    nbformat.write(
        new_notebook(
            cells=[new_code_cell(code)],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}},
        ),
        source,
    )  # fmt: skip
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(source), str(out), progress_bar=False)
    [cell] = nbformat.read(str(out), as_version=4).cells
    assert cell.outputs[0]["text"] == "scheduled\n"
