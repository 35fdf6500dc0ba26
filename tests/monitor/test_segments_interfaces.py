"""Segments from every door: the ``%monitor`` magic, the ``modelbook monitor`` command (a real
subprocess), ``[tool.modelbook.monitor]`` in pyproject.toml, and a scheduled ``modelbook run``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from segments_data import column, groups, labels, region_frame, register_model

from modelbook.cli import EXIT_ALERT
from modelbook.monitoring import MonitorReport


@pytest.fixture
def home(registry: Path) -> Path:
    register_model(registry, region_frame(10_000, seed=1))
    return registry


@pytest.fixture
def batch_file(tmp_path: Path) -> Path:
    batch = region_frame(5_000, seed=2, shift={"east": 0.5})
    path = tmp_path / "batch.parquet"
    batch.assign(y=labels(batch, seed=3)).to_parquet(path)
    return path


def _cli(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELBOOK_")}
    return subprocess.run(
        [sys.executable, "-m", "modelbook", *args],
        capture_output=True, text=True, timeout=600, cwd=cwd,
        env={**env, "MODELBOOK_HOME": str(home)},
    )  # fmt: skip


def test_monitor_magic_segments_and_intersection(ip: Any, home: Path) -> None:
    batch = region_frame(5_000, seed=2, shift={"east": 0.5})
    ip.user_ns["batch"] = batch
    ip.user_ns["y"] = labels(batch, seed=3)
    report = ip.run_line_magic(
        "monitor", "m --data batch --target y --segments region region*plan --store none"
    )
    assert isinstance(report, MonitorReport)
    assert [c["key"] for c in report.segments["columns"]] == ["region", "region*plan"]
    assert column(report, "region*plan")["by"] == ["region", "plan"]
    assert groups(report, "region")["east"]["status"] == "alert"
    assert groups(report, "region")["south"]["quality"]["accuracy"]["n"] > 0
    commas = ip.run_line_magic("monitor", "m --data batch --segments region,plan --store none")
    assert [c["key"] for c in commas.segments["columns"]] == ["region", "plan"]
    none = ip.run_line_magic("monitor", "m --data batch --store none")
    assert none.segments is None


def test_cli_monitor_segments(home: Path, batch_file: Path, tmp_path: Path) -> None:
    done = _cli(
        "monitor", "m", "--data", str(batch_file), "--target", "y",
        "--segments", "region", "region*plan", "--json", cwd=tmp_path, home=home,
    )  # fmt: skip
    assert done.returncode == EXIT_ALERT, done.stderr
    report = json.loads(done.stdout)
    keys = [c["key"] for c in report["segments"]["columns"]]
    assert keys == ["region", "region*plan"]
    assert report["segments"]["worst"]["segment"].startswith(("region=east", "region*plan=east"))
    checks = {c["check"]: c["status"] for c in report["checks"]}
    assert checks["segments.region"] == "alert" and checks["segment.region=east.drift.column"]
    missing = _cli(
        "monitor", "m", "--data", str(batch_file), "--segments", "regio", cwd=tmp_path, home=home
    )
    assert missing.returncode != 0
    assert "segment column 'regio' is not in the batch; its columns: x1, x2, plan, region, y." in (
        missing.stderr
    )


def test_segments_from_pyproject_and_a_scheduled_run(
    home: Path, batch_file: Path, tmp_path: Path
) -> None:
    """``segments`` in [tool.modelbook.monitor] applies to every run: the CLI's and the
    ``%monitor`` cells of a notebook that ``modelbook run`` executes."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.modelbook.monitor]\nsegments = ["region", ["region", "plan"]]\nmin_group = 40\n'
    )
    done = _cli(
        "monitor", "m", "--data", str(batch_file), "--store", "none", "--json",
        cwd=project, home=home,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert [c["key"] for c in report["segments"]["columns"]] == ["region", "region*plan"]
    assert report["segments"]["settings"]["min_group"] == 40

    notebook = project / "scheduled.ipynb"
    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext modelbook"),
            new_code_cell(f"report = %monitor m --data {batch_file} --target y"),
            new_code_cell(f"plan = %monitor m --data {batch_file} --segments plan"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, notebook)
    ran = _cli("run", str(notebook), "--fail-on-alert", cwd=project, home=home)
    assert ran.returncode == EXIT_ALERT, ran.stderr[-2000:]
    from modelbook.registry import Registry

    stored = [
        MonitorReport.from_dict(json.loads(Registry(home).monitor_report_json(r["id"])))
        for r in Registry(home).monitor_runs("m")
    ]
    keys = sorted(tuple(c["key"] for c in r.segments["columns"]) for r in stored if r.segments)
    assert keys == [("plan",), ("region", "region*plan")]
    scheduled = [r for r in stored if r.segments and len(r.segments["columns"]) == 2]
    assert groups(scheduled[0], "region")["east"]["status"] == "alert"
