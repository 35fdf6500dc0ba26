"""``modelbook run``: papermill execution, static HTML, exit codes, and concurrent writers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from headless_helpers import NOTEBOOKS, Churn, CliRunner
from nbformat.v4 import new_code_cell, new_notebook

import modelbook
from modelbook.cli import EXIT_ALERT, EXIT_ERROR, EXIT_OK

SCHEDULED = NOTEBOOKS / "scheduled_monitoring.ipynb"
KERNEL_CODE = """
import pathlib, time
%load_ext modelbook
live_runs = 0
deadline = time.time() + 180
while not pathlib.Path({marker!r}).exists() and time.time() < deadline:
    %monitor churn --data {batch}
    live_runs += 1
print("LIVE_RUNS", live_runs)
"""


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelbook", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("MODELBOOK_")},
    )


def _execute_as_frontend(kc: Any, code: str) -> str:
    """An execute_request as JupyterLab sends it: with cell metadata (a person is watching)."""
    content = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }
    metadata = {"cellId": "live-cell", "deletedCells": [], "recordTiming": False}
    msg = kc.session.msg("execute_request", content, metadata=metadata)
    kc.shell_channel.send(msg)
    return str(msg["header"]["msg_id"])


def test_scheduled_runs_alongside_a_live_kernel(churn: Churn, tmp_path: Path) -> None:
    """Two `modelbook run` processes and a live kernel write at once: every run is stored.

    Run A fails on alert (exit 1) and writes HTML; run B, same drifting data under another
    name, exits 0 without --fail-on-alert. The kernel monitors in a loop until both are done,
    so its writes overlap theirs.
    """
    from jupyter_client.manager import start_new_kernel

    batch_b = tmp_path / "drift-copy.parquet"
    shutil.copyfile(churn.drift, batch_b)
    marker = tmp_path / "scheduled-done"
    kernel_env = {k: v for k, v in os.environ.items() if not k.startswith("MODELBOOK_")}
    kernel_env["MODELBOOK_HOME"] = str(churn.home)
    km, kc = start_new_kernel(kernel_name="python3", env=kernel_env, cwd=str(tmp_path))
    try:
        msg_id = _execute_as_frontend(
            kc, KERNEL_CODE.format(marker=str(marker), batch=str(churn.drift))
        )
        html = tmp_path / "a.html"
        common = ["-p", "registry", str(churn.home), "-p", "model", "churn"]
        run_a = _run(str(SCHEDULED), *common, "-p", "batch", str(churn.drift),
                     "--html", str(html), "--fail-on-alert", "--json")  # fmt: skip
        run_b = _run(str(SCHEDULED), *common, "-p", "batch", str(batch_b),
                     "--output", str(tmp_path / "b.ipynb"))  # fmt: skip
        out_a, err_a = run_a.communicate(timeout=240)
        _, err_b = run_b.communicate(timeout=240)
        marker.touch()
        output: list[str] = []
        while True:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                output.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                pytest.fail("kernel cell failed: " + "\n".join(msg["content"]["traceback"]))
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    assert run_a.returncode == EXIT_ALERT, err_a
    assert run_b.returncode == EXIT_OK, err_b
    live_runs = int("".join(output).split("LIVE_RUNS")[1])
    assert live_runs >= 1

    result = json.loads(out_a)
    assert result["status"] == "alert" and result["error"] is None
    [mine] = result["monitors"]  # run B's monitor is not A's, though both ran the same notebook
    assert mine["status"] == "alert" and mine["target"] == "churn@1"
    report = html.read_text()
    assert mine["run_id"][:8] in report  # the run's own card, rendered statically
    assert "drift.column" in report and "2 of 3 columns drifted" in report
    assert '<span class="n">modelbook</span>' in report  # the code is in the report by default
    assert (tmp_path / "b.ipynb").exists()

    runs = modelbook.history("churn").runs
    assert len({r.run_id for r in runs}) == len(runs) == 2 + live_runs
    scheduled = [r for r in runs if r.source == "scheduled"]
    assert sorted(r.parameters["batch"] for r in scheduled) == sorted(
        [str(churn.drift), str(batch_b)]
    )
    assert {r.notebook for r in scheduled} == {str(SCHEDULED)}
    assert all(r.parameters["model"] == "churn" for r in scheduled)
    assert all(r.started_at < r.finished_at for r in runs)
    assert mine["run_id"] in {r.run_id for r in scheduled}
    assert sum(r.source == "interactive" for r in runs) == live_runs

    # every run alerted: each is in the alert log once, whole lines despite three writers
    from modelbook.alerts import read_alert_log

    logged = {e["run_id"]: e for e in read_alert_log(churn.home) if e["type"] == "alert"}
    assert set(logged) == {r.run_id for r in runs}
    assert logged[mine["run_id"]]["report"] == str(html)  # where on-call finds the report
    assert logged[mine["run_id"]]["source"] == "scheduled"


def test_failing_cell_exits_3_and_still_writes_the_report(
    churn: Churn, tmp_path: Path, cli: CliRunner
) -> None:
    notebook = tmp_path / "broken.ipynb"
    nb = new_notebook(
        cells=[
            new_code_cell("code_only_marker = 1"),
            new_code_cell("raise ValueError('the batch is empty')"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, notebook)
    html = tmp_path / "broken.html"
    started = time.perf_counter()
    done = cli("run", str(notebook), "--html", str(html), "--no-input", "--fail-on-alert")
    assert time.perf_counter() - started < 120
    assert done.returncode == EXIT_ERROR
    assert f"modelbook: {notebook}: cell 2 raised ValueError: the batch is empty" in done.stderr
    assert "failed: cell 2 raised ValueError: the batch is empty" in done.stdout
    report = html.read_text()
    assert "the batch is empty" in report  # the failure shows in the report
    assert "code_only_marker" not in report  # --no-input: code left out


def test_notebook_that_stops_on_an_alert_exits_1(
    churn: Churn, tmp_path: Path, cli: CliRunner
) -> None:
    """raise_for_alerts() in a notebook is the notebook's own --fail-on-alert: exit 1, not 3."""
    notebook = tmp_path / "strict.ipynb"
    code = (
        "import modelbook\n"
        f"modelbook.monitor('churn', data={str(churn.drift)!r}, target='churned')"
        ".raise_for_alerts()"
    )
    nb = new_notebook(
        cells=[new_code_cell(code), new_code_cell("print('not reached')")],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, notebook)
    done = cli("run", str(notebook), "--json")
    assert done.returncode == EXIT_ALERT, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "alert" and result["stopped_by_alert"] is True
    assert result["error"].startswith("cell 1 raised AlertError: monitor run of churn@1: alert")
    [monitor] = result["monitors"]
    assert monitor["status"] == "alert"
    assert "stopped on an alert: cell 1 raised AlertError" in done.stderr


def test_parameters_file_and_a_notebook_without_kernelspec(tmp_path: Path, cli: CliRunner) -> None:
    params_cell = new_code_cell("batch = 'default.parquet'\nlimit = 0\nstrict = False")
    params_cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params_cell, new_code_cell("print(repr((batch, limit, strict)))")])
    notebook = tmp_path / "plain.ipynb"  # no kernelspec: modelbook run uses python3
    nbformat.write(nb, notebook)
    (tmp_path / "params.yaml").write_text("batch: from-file.parquet\nlimit: 5\n")
    out = tmp_path / "out.ipynb"
    done = cli(
        "run", str(notebook), "-f", str(tmp_path / "params.yaml"), "-p", "limit", "7",
        "-p", "strict", "True", "--output", str(out), "--json",
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["parameters"] == {
        "batch": "from-file.parquet",
        "limit": 7,
        "strict": True,
    }
    printed = nbformat.read(str(out), as_version=4).cells[-1].outputs[0]["text"]
    assert printed == "('from-file.parquet', 7, True)\n"
    (tmp_path / "bad.yaml").write_text("- a list\n")
    done = cli("run", str(notebook), "-f", str(tmp_path / "bad.yaml"))
    assert done.returncode == 2
    assert done.stderr == (
        f"modelbook: the parameters file {tmp_path / 'bad.yaml'} must hold a mapping of names to "
        "values.\n"
    )


def test_run_usage_errors(cli: CliRunner, tmp_path: Path) -> None:
    done = cli("run", str(tmp_path / "missing.ipynb"))
    assert done.returncode == 2
    assert done.stderr == f"modelbook: notebook {tmp_path / 'missing.ipynb'} does not exist.\n"
    done = cli("run", str(SCHEDULED), "-p", "not-a-name", "1")
    assert done.returncode == 2
    assert done.stderr == "modelbook: parameter name 'not-a-name' is not a valid Python name.\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("True", True), ("False", False), ("None", None), ("3", 3), ("0.5", 0.5), ("a b", "a b")],
)
def test_parameter_types(value: str, expected: object) -> None:
    from modelbook.scheduled import parse_parameter

    assert parse_parameter(value) == expected
