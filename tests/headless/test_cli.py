"""The ``modelbook`` command: every verb with --json, and the exit codes (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from headless_helpers import Churn, CliRunner, seed_runs

from modelbook.cli import EXIT_ALERT, EXIT_ERROR, EXIT_OK, EXIT_USAGE, main


def _json(done: subprocess.CompletedProcess[str]) -> object:
    return json.loads(done.stdout)


def _inproc(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """main() in this process (fast) for the error paths; subprocesses cover each verb once."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out, err)


def test_entry_point_and_python_m() -> None:
    script = Path(sys.executable).with_name("modelbook")
    for command in ([str(script)], [sys.executable, "-m", "modelbook"]):
        done = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == EXIT_OK
        assert "exit codes:" in done.stdout
        assert "1  a monitor run raised an alert" in done.stdout
        for verb in ("ls", "show", "diff", "load", "alias", "monitor", "history", "gc", "check",
                     "where", "env", "run"):  # fmt: skip
            assert f"    {verb}" in done.stdout


def test_usage_errors_exit_2(cli: CliRunner, registry: Path) -> None:
    done = cli()
    assert done.returncode == EXIT_USAGE and "usage: modelbook" in done.stderr
    done = cli("show")
    assert done.returncode == EXIT_USAGE
    assert "modelbook show: error: the following arguments are required: ref" in done.stderr
    done = cli("frobnicate")
    assert done.returncode == EXIT_USAGE and "invalid choice: 'frobnicate'" in done.stderr


def test_invalid_name_exits_2_with_json_error(cli: CliRunner, registry: Path) -> None:
    done = cli("show", "9lives", "--json")
    assert done.returncode == EXIT_USAGE
    message = (
        "invalid name '9lives': a name must start with a letter and use only letters, digits, "
        "'_', '-' or '.' (at most 128)."
    )
    assert done.stderr == f"modelbook: {message}\n"
    assert _json(done) == {
        "error": {"type": "InvalidNameError", "message": message, "exit_code": EXIT_USAGE}
    }


def test_not_found_exits_3(cli: CliRunner, churn: Churn) -> None:
    done = cli("show", "nope")
    assert done.returncode == EXIT_ERROR
    assert done.stderr == (
        "modelbook: no model or dataset named 'nope'; registered: churn, churn-training.\n"
    )
    assert done.stdout == ""


def test_where(cli: CliRunner, registry: Path, tmp_path: Path) -> None:
    done = cli("where", "--json")
    assert _json(done) == {"registry": str(registry), "exists": False}
    other = tmp_path / "elsewhere"
    done = cli("--registry", str(other), "where")
    assert done.stdout == f"{other} (not created yet)\n"


def test_ls_and_show(cli: CliRunner, churn: Churn) -> None:
    done = cli("ls", "--json")
    assert done.returncode == EXIT_OK
    listing = _json(done)
    assert [row[:4] for row in listing["rows"]] == [
        ["churn", "model", 1, 1],
        ["churn-training", "dataset", 1, 1],
    ]
    text = cli("ls", "churn").stdout
    assert text.startswith("model churn\nversion")
    shown = _json(cli("--json", "show", "churn@1"))  # --json before the verb works too
    assert (shown["name"], shown["version"], shown["flavor"]) == ("churn", 1, "sklearn")
    assert shown["train_dataset"] == "churn-training@1"
    assert cli("show", "churn").stdout.startswith("model churn@1 stored: LogisticRegression")


def test_registry_flag_wins_over_environment(cli: CliRunner, churn: Churn, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    message = (
        f"no registry at {empty} (the folder does not exist): check the path (--registry, "
        "MODELBOOK_HOME or `%modelbook use`); the first registration creates a registry there."
    )
    done = cli("ls", "--registry", str(empty), "--json")
    assert done.returncode == EXIT_ERROR
    assert _json(done) == {
        "error": {"type": "NotFoundError", "message": message, "exit_code": EXIT_ERROR}
    }
    done = cli("ls", env={"MODELBOOK_HOME": str(empty)}, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (EXIT_ERROR, f"modelbook: {message}\n")
    assert len(_json(cli("--registry", str(churn.home), "ls", "--json"))["rows"]) == 2


def test_alias_verbs(cli: CliRunner, churn: Churn, capsys: pytest.CaptureFixture[str]) -> None:
    done = cli("alias", "churn@1", "production", "--json")
    assert _json(done) == {"name": "churn", "alias": "production", "version": 1, "previous": None}
    done = _inproc(capsys, "alias", "churn@1", "production")
    assert done.stdout == "churn@production → version 1 (was 1)\n"
    history = _json(_inproc(capsys, "alias", "--history", "churn", "--json"))
    assert [row[2:5] for row in history["rows"]] == [["production", None, 1]]
    removed = _json(_inproc(capsys, "alias", "--remove", "churn@production", "--json"))
    assert removed == {"name": "churn", "alias": "production", "version": None, "previous": 1}
    done = _inproc(capsys, "alias", "churn@1")
    assert done.returncode == EXIT_USAGE
    assert done.stderr == (
        "modelbook: alias needs a version and an alias, e.g. modelbook alias churn@3 production.\n"
    )


def test_env(cli: CliRunner, churn: Churn) -> None:
    import sklearn

    data = _json(cli("env", "churn", "--json"))
    assert data["ref"] == "churn@1"
    assert f"scikit-learn=={sklearn.__version__}" in data["requirements"].splitlines()
    done = cli("env", "churn-training")
    assert done.returncode == EXIT_ERROR
    assert done.stderr == "modelbook: 'churn-training' is a dataset, not a model.\n"


def test_load_dataset_to_parquet_and_csv(
    cli: CliRunner, churn: Churn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import modelbook

    expected = modelbook.load("churn-training@1")
    out = tmp_path / "train.parquet"
    done = cli("load", "churn-training", "--output", str(out), "--json")
    info = _json(done)
    assert info["format"] == "parquet" and info["bytes"] == out.stat().st_size
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    csv = tmp_path / "train.csv"
    done = _inproc(capsys, "load", "churn-training@1", "-o", str(csv))
    assert done.stdout == f"dataset churn-training@1 written to {csv} (csv)\n"
    pd.testing.assert_frame_equal(pd.read_csv(csv), expected, check_dtype=False)
    done = _inproc(capsys, "load", "churn-training", "-o", str(csv))
    assert done.returncode == EXIT_USAGE
    assert done.stderr == f"modelbook: {csv} exists: choose another --output or pass --force.\n"
    assert _inproc(capsys, "load", "churn-training", "-o", str(csv), "--force").returncode == 0
    done = _inproc(capsys, "load", "churn-training", "-o", str(tmp_path / "train.xlsx"))
    assert done.returncode == EXIT_USAGE
    assert "must end in .parquet, .pq or .csv for a dataset" in done.stderr


def test_load_model_writes_its_skops_artifact(cli: CliRunner, churn: Churn, tmp_path: Path) -> None:
    import numpy as np
    import skops.io as sio

    import modelbook

    out = tmp_path / "churn.skops"
    done = cli("load", "churn@1", "--output", str(out))
    assert done.returncode == EXIT_OK
    assert done.stdout.startswith(f"model churn@1 written to {out}: a skops file")
    model = sio.load(out, trusted=sio.get_untrusted_types(file=out))
    X = pd.read_parquet(churn.ok).drop(columns="churned")
    np.testing.assert_array_equal(model.predict(X), modelbook.load("churn").predict(X))


def test_monitor_exit_codes(cli: CliRunner, churn: Churn) -> None:
    ok = cli("monitor", "churn", "--data", str(churn.ok), "--target", "churned", "--json")
    assert ok.returncode == EXIT_OK, ok.stderr
    report = _json(ok)
    assert report["status"] == "ok" and report["source"] == "cli" and report["run_id"]
    alert = cli("monitor", "churn", "--data", str(churn.drift), "--columns", "age,income")
    assert alert.returncode == EXIT_ALERT
    assert alert.stdout.startswith("monitor churn@1: ALERT")
    import modelbook

    runs = modelbook.history("churn").runs
    assert [(r.status, r.source) for r in runs] == [("alert", "cli"), ("ok", "cli")]


def test_monitor_error_status_exits_3(
    churn: Churn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "no-age.parquet"
    pd.read_parquet(churn.ok).drop(columns=["age"]).to_parquet(batch)
    done = _inproc(capsys, "monitor", "churn", "--data", str(batch), "--json")
    assert done.returncode == EXIT_ERROR
    report = json.loads(done.stdout)
    assert report["status"] == "error"
    assert {"schema.missing", "model.predict"} <= {c["check"] for c in report["checks"]}


def test_monitor_usage_errors(
    churn: Churn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _inproc(capsys, "monitor", "churn", "--data", str(tmp_path / "missing.parquet"))
    assert done.returncode == EXIT_USAGE
    assert done.stderr == f"modelbook: --data {tmp_path / 'missing.parquet'} does not exist.\n"
    done = _inproc(capsys, "monitor", "churn", "--data", "batch.xlsx")
    assert done.stderr == "modelbook: --data batch.xlsx must be a .parquet or .csv file.\n"
    done = _inproc(capsys, "monitor", "churn", "--data", str(churn.ok), "--rules", "{bad")
    assert done.returncode == EXIT_USAGE and "--rules is not JSON" in done.stderr


def test_history_verb(cli: CliRunner, churn: Churn, capsys: pytest.CaptureFixture[str]) -> None:
    seed_runs(
        churn.home,
        [
            {"started_at": datetime(2026, 1, 1), "status": "ok"},
            {"started_at": datetime(2026, 1, 2), "status": "alert", "n_alerts": 2},
        ],
    )
    data = _json(cli("history", "churn", "--json", "--limit", "1"))
    assert data["name"] == "churn" and data["limit"] == 1
    assert [(r["started_at"], r["status"]) for r in data["runs"]] == [
        ("2026-01-02T00:00:00", "alert")
    ]
    text = _inproc(capsys, "history", "churn@1", "--since", "2025-12-31").stdout
    assert text.startswith("monitor history of model churn@1 since 2025-12-31 00:00:00 UTC: 2 runs")
    done = _inproc(capsys, "history", "churn", "--since", "soon")
    assert done.returncode == EXIT_USAGE
    assert "argument --since: 'soon' is not a duration or a date" in done.stderr
    assert _inproc(capsys, "history", "churn", "--limit", "0").returncode == EXIT_USAGE


def test_gc(cli: CliRunner, churn: Churn) -> None:
    stray = churn.home / "objects" / "ff" / ("f" * 62)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"orphan")
    data = _json(cli("gc", "--grace", "0", "--json"))
    assert data == {"removed_files": 1, "freed_bytes": 6}
    assert not stray.exists()


def test_diff(cli: CliRunner, churn: Churn) -> None:
    import modelbook

    frame = pd.read_parquet(churn.drift)
    modelbook.register(frame, name="churn-training")
    done = cli("diff", "churn-training@1", "churn-training@2", "--json")
    assert done.returncode == EXIT_OK, done.stderr
    data = _json(done)
    assert (data["a"], data["b"]) == ("churn-training@1", "churn-training@2")
    assert (data["rows_a"], data["rows_b"]) == (2000, 2000) and data["columns_added"] == []
    age = next(c for c in data["column_stats"] if c["column"] == "age")
    assert age["b"]["mean"] - age["a"]["mean"] == pytest.approx(15)


def test_main_in_process_returns_codes(churn: Churn, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--registry", str(churn.home), "where", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["exists"] is True
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("modelbook 0.1.0")
    assert main(["history", "churn", "--limit", "x"]) == EXIT_USAGE


# -- issue 10: registry paths, check, load --parents, public error names --------------------------


@pytest.mark.parametrize("verb", [["ls"], ["where"], ["alias", "--history"], ["gc"], ["check"]])
def test_a_file_as_registry_exits_2(
    verb: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hostname"
    path.write_text("box\n")
    done = _inproc(capsys, "--registry", str(path), *verb)
    assert done.returncode == EXIT_USAGE
    assert done.stderr == (
        f"modelbook: the registry path {path} is a file, not a folder: pass the folder that "
        "holds registry.duckdb, or a new folder to create one.\n"
    )
    assert done.stdout == ""


@pytest.mark.parametrize("verb", [["ls"], ["alias", "--history"], ["gc"], ["check"]])
def test_reading_a_missing_registry_exits_3(
    verb: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "nonexistent" / "dir"
    done = _inproc(capsys, "--registry", str(home), *verb)
    assert done.returncode == EXIT_ERROR
    assert done.stderr == (
        f"modelbook: no registry at {home} (the folder does not exist): check the path "
        "(--registry, MODELBOOK_HOME or `%modelbook use`); the first registration creates a "
        "registry there.\n"
    )
    assert not home.exists()


def test_alias_history_of_an_unknown_name_exits_3(
    churn: Churn, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _inproc(capsys, "alias", "--history", "nosuch")
    assert done.returncode == EXIT_ERROR
    assert done.stderr == (
        "modelbook: no model or dataset named 'nosuch'; registered: churn, churn-training.\n"
    )


@pytest.mark.parametrize("grace", ["-1", "nan"])
def test_gc_refuses_a_bad_grace(
    grace: str, churn: Churn, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _inproc(capsys, "gc", "--grace", grace, "--json")
    assert done.returncode == EXIT_USAGE
    message = (
        "grace_seconds must be a number of seconds >= 0 (0 removes all garbage now), "
        f"not {float(grace)!r}."
    )
    assert json.loads(done.stdout) == {
        "error": {"type": "ConfigError", "message": message, "exit_code": EXIT_USAGE}
    }


def test_check_verb(cli: CliRunner, churn: Churn, capsys: pytest.CaptureFixture[str]) -> None:
    done = cli("check", "--json")
    assert done.returncode == EXIT_OK, done.stderr
    report = _json(done)
    assert report["ok"] is True and report["problems"] == [] and report["files_checked"] == 2
    blob = next(p for p in (churn.home / "objects").glob("??/*"))
    blob.write_bytes(b"bit rot")
    done = _inproc(capsys, "check")
    assert done.returncode == EXIT_ALERT
    assert done.stdout.startswith(
        f"registry {churn.home}: BROKEN, 1 problem\n  BROKEN blob.corrupt: "
    )


def test_damaged_metadata_exits_3_with_its_message(cli: CliRunner, churn: Churn) -> None:
    db = churn.home / "registry.duckdb"
    with open(db, "r+b") as handle:
        handle.write(bytes(64 * 1024))  # the header: no longer a DuckDB file
    done = cli("ls")
    assert done.returncode == EXIT_ERROR
    assert done.stderr.startswith(f"modelbook: the registry's metadata file {db} is damaged (")
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    done = cli("check", "--json")
    assert done.returncode == EXIT_ALERT
    report = _json(done)
    assert report["metadata"] == "damaged" and report["recovery"].startswith("Restore")


def test_load_refuses_a_missing_folder_unless_parents(
    churn: Churn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nonexistent" / "deeper" / "x.skops"
    done = _inproc(capsys, "load", "churn", "--output", str(out), "--json")
    assert done.returncode == EXIT_USAGE
    message = (
        f"--output {out}: the folder {out.parent} does not exist; create it, or pass --parents "
        "to create it."
    )
    assert json.loads(done.stdout) == {
        "error": {"type": "ConfigError", "message": message, "exit_code": EXIT_USAGE}
    }
    assert not (tmp_path / "nonexistent").exists()
    done = _inproc(capsys, "load", "churn", "--output", str(out), "--parents")
    assert done.returncode == EXIT_OK and out.is_file()
    done = _inproc(capsys, "load", "churn", "--output", str(tmp_path))
    assert (done.returncode, done.stderr) == (
        EXIT_USAGE,
        f"modelbook: --output {tmp_path} is a folder: name a file in it.\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show"], "modelbook show: the following arguments are required: ref (see modelbook show --help)"),
        (["alias", "churn@1"], "alias needs a version and an alias, e.g. modelbook alias churn@3 production."),
        (["monitor", "churn", "--data", "batch.xlsx"], "--data batch.xlsx must be a .parquet or .csv file."),
    ],
)  # fmt: skip
def test_json_errors_name_public_classes(
    args: list[str], message: str, churn: Churn, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _inproc(capsys, *args, "--json")
    assert done.returncode == EXIT_USAGE
    assert json.loads(done.stdout) == {
        "error": {"type": "ConfigError", "message": message, "exit_code": EXIT_USAGE}
    }
    import modelbook

    assert hasattr(modelbook, json.loads(done.stdout)["error"]["type"])
