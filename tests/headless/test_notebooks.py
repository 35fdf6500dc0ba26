"""The quickstart and scheduled-monitoring notebooks run with papermill on a temporary registry.

A failing cell raises PapermillExecutionError, which fails the test.
"""

from __future__ import annotations

from pathlib import Path

import papermill
from headless_helpers import NOTEBOOKS, Churn

import modelbook


def _outputs(path: Path) -> str:
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(texts)


def test_quickstart(registry: Path, tmp_path: Path) -> None:
    home = tmp_path / "quickstart-registry"
    out = tmp_path / "quickstart.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "quickstart.ipynb"),
        str(out),
        parameters={"registry": str(home)},
        progress_bar=False,
        cwd=str(tmp_path),
    )
    listing = modelbook.ls("cancer", registry=home)
    assert [row[0] for row in listing.rows] == [1, 2]
    assert modelbook.resolve("cancer@production", registry=home).version == 2
    runs = modelbook.history("cancer", registry=home).runs
    assert [r.version for r in runs] == [2, 2]
    assert runs[0].status == "alert"  # the shifted batch
    assert all(r.source == "scheduled" for r in runs)  # papermill's injected parameters
    assert not registry.exists()  # the parameter was honoured, not the default registry
    text = _outputs(out)
    assert "monitor history of model cancer (all versions): 2 runs" in text


def test_scheduled_monitoring_with_plain_papermill(churn: Churn, tmp_path: Path) -> None:
    out = tmp_path / "scheduled.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "scheduled_monitoring.ipynb"),
        str(out),
        parameters={
            "registry": str(churn.home),
            "model": "churn",
            "batch": str(churn.ok),
            "target": "churned",
        },
        progress_bar=False,
    )
    [run] = modelbook.history("churn").runs
    assert (run.status, run.source) == ("ok", "scheduled")
    assert run.parameters == {"registry": str(churn.home), "model": "churn",
                              "batch": str(churn.ok), "target": "churned"}  # fmt: skip
    assert run.metrics["accuracy"] > 0.8
    assert "monitor churn@1: OK" in _outputs(out)


def test_performance_over_time(registry: Path, tmp_path: Path) -> None:
    home = tmp_path / "timeline-registry"
    out = tmp_path / "performance_over_time.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "performance_over_time.ipynb"),
        str(out),
        parameters={"registry": str(home)},
        progress_bar=False,
        cwd=str(tmp_path),
    )
    runs = modelbook.history("churn", registry=home).runs
    assert [r.chunk_index for r in runs] == [5, 4, 3, 2, 1, 0]  # one timeline, newest first
    assert len({r.timeline for r in runs}) == 1
    assert [r.status for r in reversed(runs)] == ["ok"] * 3 + ["alert"] * 3  # April shifts
    assert [r.period_start.month for r in reversed(runs) if r.period_start] == [1, 2, 3, 4, 5, 6]
    text = _outputs(out)
    assert "timeline of model churn@1 by month of ts" in text
    assert "est. roc_auc" in text and "chunk 3: 2026-04-01 – 2026-05-01" in text


def test_feedback_and_rollback(registry: Path, tmp_path: Path) -> None:
    home = tmp_path / "loop-registry"
    out = tmp_path / "feedback_and_rollback.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "feedback_and_rollback.ipynb"),
        str(out),
        parameters={"registry": str(home)},
        progress_bar=False,
        cwd=str(tmp_path),
    )
    assert modelbook.resolve("churn@production", registry=home).version == 1
    trail = modelbook.alias_history("churn", registry=home).rows
    assert trail[-1][3:6] == (2, 1, "policy:guard-production")
    assert len(str(trail[-1][7]).split(", ")) == 3  # the three runs whose quality alerted
    runs = modelbook.history("churn", registry=home).runs
    assert [r.version for r in runs] == [2, 2, 2]
    text = _outputs(out)
    assert "prediction log: 1,000 rows by customer_id" in text
    assert "rollback: 3 consecutive runs of churn@2 alerted on quality" in text
    assert "cannot roll back churn@production: no earlier version held it" in text


def test_segments_and_fairness(registry: Path, tmp_path: Path) -> None:
    """Issue 13's notebook: the north drifts (its prices rose) and the model flags men far more
    often than women; both show in the report, the 12-row null gender group as insufficient."""
    home = tmp_path / "segments-registry"
    out = tmp_path / "segments_and_fairness.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "segments_and_fairness.ipynb"),
        str(out),
        parameters={"registry": str(home)},
        progress_bar=False,
        cwd=str(tmp_path),
    )
    [run] = modelbook.history("churn", registry=home).runs  # the API's look was store="none"
    assert run.status == "alert"
    text = _outputs(out)
    assert "worst segment region*plan=north*" in text or "worst segment region=north" in text
    assert "segments by region: 1 of 4 segments alert" in text
    assert "fairness: demographic parity ratio by gender ratio 0.5" in text
    assert "group (null): n 12, selection rate insufficient" in text
    assert "Segments by region: 1 of 4 segments alert" in text  # the static HTML
    assert "data:image/svg+xml;base64," in text and "<svg" not in text  # charts as <img>
