"""Rollback and retraining policies on a real registry: streaks, actions, cooldown, dry runs.

Monitor runs are real where the flow matters (three bad batches roll the alias back; a missing
command keeps the run); streak rules are checked on runs stored as the engine stores them (a
run row plus its check rows), which is fast and lets each test say exactly which runs alerted.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from headless_helpers import Churn, CliRunner, seed_runs

import modelbook
from modelbook.alerts import read_alert_log
from modelbook.errors import ConfigError, NotFoundError
from modelbook.policies import evaluate, load_policies, policy_status
from modelbook.registry import Registry
from modelbook.registry.store import now


@pytest.fixture
def prod(churn: Churn, tmp_path: Path) -> Churn:
    """churn@production moved from version 1 to version 2 (registered with its accuracy)."""
    from sklearn.linear_model import LogisticRegression

    ok = pd.read_parquet(churn.ok)
    X, y = ok.drop(columns="churned"), ok["churned"]
    modelbook.alias("churn@1", "production")
    model = LogisticRegression(C=0.5, max_iter=500).fit(X, y)
    accuracy = float(model.score(X, y))
    modelbook.register(
        model, name="churn", data=X, target=y, metrics={"accuracy": accuracy}, alias="production"
    )
    bad = ok.copy()
    bad["churned"] = 1 - bad["churned"]  # every label flipped: realized accuracy collapses
    bad.to_parquet(tmp_path / "bad.parquet")
    return churn


def _policy(tmp_path: Path, name: str = "guard", **settings: Any) -> None:
    table = {"alias": "churn@production", "on": ["quality"], "consecutive": 3, **settings}
    lines = [f"[tool.modelbook.policy.{name}]"]
    lines += [f"{k} = {_toml(v)}" for k, v in table.items()]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def _runs(home: Path, verdicts: Sequence[str], *, version: int = 2) -> list[str]:
    """Store runs of churn@version with one quality check each: 'alert', 'ok', 'error' (the
    run errored), 'insufficient' (too few labels), 'none' (no quality check at all) or
    'challenger' (an alerting run of a challenger, scored beside the champion)."""
    stored = Registry(home).monitor_runs("churn", limit=1)
    start = max([now(), *(r["started_at"] for r in stored)]) + timedelta(seconds=1)
    specs = [
        {
            "started_at": start + timedelta(seconds=i),
            "version": version,
            "status": {"alert": "alert", "error": "error", "challenger": "alert"}.get(v, "ok"),
        }
        for i, v in enumerate(verdicts)
    ]
    ids = seed_runs(home, specs)
    checks = [
        [run_id, 0, "quality.accuracy", None, "alert" if v == "challenger" else v, None, 0.5,
         0.05, f"accuracy {v}"]
        for run_id, v in zip(ids, verdicts, strict=True)
        if v in ("alert", "ok", "insufficient", "challenger")
    ]  # fmt: skip
    checks += [
        [run_id, 1, "drift.column", "age", "alert", None, 0.9, 0.1, "drifted"] for run_id in ids
    ]
    with Registry(home).write() as con:
        con.executemany("INSERT INTO check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", checks)
        for run_id, v in zip(ids, verdicts, strict=True):
            if v == "challenger":
                con.execute("UPDATE monitor_runs SET role = 'challenger' WHERE id = ?", [run_id])
    return ids


def _holder(home: Path) -> int:
    [row] = [a for a in Registry(home).aliases("churn") if a["alias"] == "production"]
    return int(row["version"])


def _act(home: Path) -> list[Any]:
    return evaluate(Registry(home), model="churn", trigger="monitor")


def test_three_alerting_runs_roll_the_alias_back(
    prod: Churn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _policy(tmp_path)
    with caplog.at_level(logging.WARNING, logger="modelbook.policies"):
        reports = [
            modelbook.monitor("churn@production", data=tmp_path / "bad.parquet", target="churned")
            for _ in range(3)
        ]
    assert caplog.messages == [
        "modelbook: policy guard on churn@production: rollback done: moved churn@production "
        "from version 2 back to 1 (3 consecutive runs of churn@2 alerted on quality)"
    ]
    assert [r.status for r in reports] == ["alert"] * 3
    assert _holder(prod.home) == 1
    last = Registry(prod.home).alias_events("churn")[-1]
    assert (last["from_version"], last["to_version"]) == (2, 1)
    assert last["changed_by"] == "policy:guard"
    assert last["reason"] == "rollback: 3 consecutive runs of churn@2 alerted on quality"
    assert json.loads(last["trigger_runs"]) == [r.run_id for r in reports]
    [event] = Registry(prod.home).policy_events("guard")
    assert (event["action"], event["status"]) == ("rollback", "done")
    alerts = [a for a in read_alert_log() if a.get("kind") == "rollback"]
    assert len(alerts) == 1 and alerts[0]["to_version"] == 1
    assert alerts[0]["trigger_runs"] == [r.run_id for r in reports]
    # The runs of version 1 start a new streak: the next bad batch does nothing.
    modelbook.monitor("churn@production", data=tmp_path / "bad.parquet", target="churned")
    assert _holder(prod.home) == 1 and len(Registry(prod.home).policy_events()) == 1


def test_an_ok_run_resets_the_streak(prod: Churn, tmp_path: Path) -> None:
    _policy(tmp_path)
    _runs(prod.home, ["alert", "ok", "alert"])
    assert _act(prod.home) == [] and _holder(prod.home) == 2
    assert policy_status(Registry(prod.home)).policies[0].streak == 1


@pytest.mark.parametrize("neutral", ["error", "insufficient", "none", "challenger"])
def test_runs_without_a_verdict_neither_count_nor_reset(
    prod: Churn, tmp_path: Path, neutral: str
) -> None:
    _policy(tmp_path)
    ids = _runs(prod.home, ["alert", neutral, "alert"])
    assert _act(prod.home) == []  # two failing runs, not three
    ids += _runs(prod.home, ["alert"])
    [action] = _act(prod.home)
    assert action.status == "done" and action.to_version == 1
    assert action.trigger_runs == (ids[0], ids[2], ids[3])


def test_drift_alerts_do_not_count_for_a_quality_policy(prod: Churn, tmp_path: Path) -> None:
    _policy(tmp_path)
    _runs(prod.home, ["none"] * 4)  # every run has a drift alert, no quality check
    assert _act(prod.home) == []
    _policy(tmp_path, on=["drift"])
    assert [a.status for a in _act(prod.home)] == ["done"]


def test_a_failing_feedback_result_counts_for_its_run(prod: Churn, tmp_path: Path) -> None:
    _policy(tmp_path)
    ids = _runs(prod.home, ["none", "none", "alert"])
    report = {"checks": [{"check": "quality.accuracy", "status": "alert", "message": "dropped"}]}
    with Registry(prod.home).write() as con:
        for run_id in ids[:2]:
            con.execute(
                "INSERT INTO feedback_results VALUES (?, ?, 's', 100, 100, '{}', ?, 'alert', ?)",
                [str(uuid.uuid4()), run_id, json.dumps(report), now()],
            )
    [action] = evaluate(Registry(prod.home), model="churn", trigger="feedback")
    assert (action.status, action.trigger) == ("done", "feedback") and _holder(prod.home) == 1


def test_cooldown_allows_one_action(prod: Churn, tmp_path: Path) -> None:
    _policy(tmp_path, action="command", command=[sys.executable, "-c", "pass"], cooldown="24h")
    _runs(prod.home, ["alert"] * 3)
    assert [a.status for a in _act(prod.home)] == ["done"]
    _runs(prod.home, ["alert"] * 3)
    [waiting] = _act(prod.home)
    assert waiting.status == "cooldown" and "in cooldown for 24.0 h more" in waiting.message
    assert [e["status"] for e in Registry(prod.home).policy_events()] == ["done"]
    state = policy_status(Registry(prod.home)).policies[0]
    assert 23 * 3600 < state.cooldown_remaining <= 24 * 3600
    _policy(tmp_path, action="command", command=[sys.executable, "-c", "pass"], cooldown="0s")
    assert [a.status for a in _act(prod.home)] == ["done"]


def test_dry_run_only_reports(prod: Churn, tmp_path: Path) -> None:
    _policy(tmp_path, dry_run=True)
    _runs(prod.home, ["alert"] * 3)
    [action] = _act(prod.home)
    assert action.status == "dry_run" and action.to_version == 1
    assert action.message == "dry run: would move churn@production from version 2 to 1"
    assert _holder(prod.home) == 2
    assert [e["status"] for e in Registry(prod.home).policy_events()] == ["dry_run"]
    assert not [a for a in read_alert_log() if a.get("kind") == "rollback"]


def test_command_gets_the_payload_on_stdin_and_its_exit_code_is_recorded(
    prod: Churn, tmp_path: Path
) -> None:
    script = tmp_path / "retrain.py"
    script.write_text(
        "import sys, pathlib\n"
        "pathlib.Path(sys.argv[1]).write_text(sys.stdin.read())\n"
        "print('retraining failed: no GPU')\n"
        "sys.exit(3)\n"
    )
    got = tmp_path / "payload.json"
    _policy(tmp_path, action="command", command=[sys.executable, str(script), str(got)])
    ids = _runs(prod.home, ["alert"] * 3)
    [action] = _act(prod.home)
    payload = json.loads(got.read_text())
    assert payload["schema"] == "modelbook.alert/1" and payload["kind"] == "command"
    assert payload["policy"] == "guard" and payload["trigger_runs"] == ids
    assert (action.status, action.exit_code) == ("failed", 3)
    assert action.message.endswith("failed: exit status 3: retraining failed: no GPU")
    assert Path(action.output or "").read_text().strip() == "retraining failed: no GPU"
    [event] = Registry(prod.home).policy_events()
    assert (event["status"], event["exit_code"], event["output"]) == ("failed", 3, action.output)
    [alert] = [a for a in read_alert_log() if a.get("kind") == "command"]
    assert alert["exit_code"] == 3 and alert["output"] == action.output


def test_a_missing_command_is_a_failed_action_and_the_run_is_kept(
    prod: Churn, tmp_path: Path
) -> None:
    _policy(tmp_path, action="command", command="no-such-retrainer --now", consecutive=1)
    report = modelbook.monitor("churn@production", data=tmp_path / "bad.parquet", target="churned")
    assert report.status == "alert"
    [event] = Registry(prod.home).policy_events()
    assert event["status"] == "failed" and event["exit_code"] is None
    assert event["output"].endswith(".log")
    assert json.loads(event["trigger_runs"]) == [report.run_id]
    assert Registry(prod.home).monitor_runs("churn")[0]["id"] == report.run_id
    [alert] = [a for a in read_alert_log() if a.get("kind") == "command"]
    assert alert["message"] == "command not found: no-such-retrainer"


def test_notebook_action_runs_with_modelbook_run(prod: Churn, tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("alert = {}\nepochs = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import json, pathlib\n"
            "pathlib.Path('seen.json').write_text(json.dumps({'alert': alert, 'epochs': epochs}))"
        ),
    ]
    nbformat.write(nb, tmp_path / "retrain.ipynb")
    _policy(tmp_path, action="notebook", notebook="retrain.ipynb", parameters={"epochs": 7})
    ids = _runs(prod.home, ["alert"] * 3)
    [action] = _act(prod.home)
    assert (action.status, action.exit_code) == ("done", 0), action.message
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["epochs"] == 7 and seen["alert"]["trigger_runs"] == ids
    assert (action.output or "").endswith(".ipynb") and Path(action.output or "").is_file()
    assert _holder(prod.home) == 2  # promoting what it trained stays a separate step


def test_rollback_by_hand_and_with_no_previous_holder(prod: Churn) -> None:
    change = modelbook.rollback("churn@production", reason="bad deploy")
    assert (change.previous, change.version) == (2, 1)
    last = Registry(prod.home).alias_events("churn")[-1]
    assert last["reason"] == "rollback: bad deploy" and not last["changed_by"].startswith("policy")
    with pytest.raises(NotFoundError) as info:
        modelbook.rollback("churn@production")
    assert str(info.value) == (
        "cannot roll back churn@production: no earlier version held it before version 1 "
        "(see `modelbook alias --history churn`); point it by hand with "
        "`%modelbook alias churn@N production`."
    )
    assert _holder(prod.home) == 1


def test_a_rollback_judged_on_a_stale_holder_moves_nothing(prod: Churn) -> None:
    reg = Registry(prod.home)
    moved = reg.rollback_alias("churn", "production", by="policy:x", reason="r", expected=1)
    assert moved == (2, 2) and _holder(prod.home) == 2
    assert reg.alias_events("churn")[-1]["changed_by"] != "policy:x"


def test_rolling_back_twice_never_returns_to_the_version_left(prod: Churn) -> None:
    from sklearn.dummy import DummyClassifier

    ok = pd.read_parquet(prod.ok)
    X, y = ok.drop(columns="churned"), ok["churned"]
    modelbook.register(DummyClassifier().fit(X, y), name="churn", alias="production")
    assert modelbook.rollback("churn@production").version == 2
    assert modelbook.rollback("churn@production").version == 1  # not back to 3


def test_a_rollback_policy_with_no_previous_holder_refuses(churn: Churn, tmp_path: Path) -> None:
    modelbook.alias("churn@1", "production")
    _policy(tmp_path)
    _runs(churn.home, ["alert"] * 3, version=1)
    [action] = _act(churn.home)
    assert action.status == "refused" and action.message.startswith("cannot roll back")
    assert [e["status"] for e in Registry(churn.home).policy_events()] == ["refused"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"alias": "churn@staging"},
            'alias = "churn@staging" in [policy.guard] names an unknown alias; set it first '
            "(`modelbook alias churn@N staging`) or fix it.",
        ),
        (
            {"alias": "churn"},
            "alias = 'churn' in [policy.guard] must name an alias, e.g. \"churn@production\".",
        ),
        (
            {"action": "retrain"},
            "action = 'retrain' in [policy.guard] is not one of: rollback, command, notebook.",
        ),
        (
            {"cooldown": "soon"},
            'cooldown = \'soon\' in [policy.guard] must be a duration like "24h", "30m" or "2d".',
        ),
        (
            {"action": "command"},
            '[policy.guard] has action = "command" but no command; add '
            'command = "python retrain.py".',
        ),
        ({"consecutive": 0}, "consecutive = 0 in [policy.guard] must be a whole number 1-1000."),
        (
            {"when": "always"},
            "unknown setting 'when' in [policy.guard]; allowed: alias, on, "
            "consecutive, action, command, notebook, parameters, cooldown, dry_run, timeout.",
        ),
    ],
)
def test_bad_policy_settings_are_one_line_config_errors(
    prod: Churn, tmp_path: Path, settings: dict[str, Any], message: str
) -> None:
    _policy(tmp_path, **settings)
    with pytest.raises(ConfigError) as info:
        load_policies(Registry(prod.home))
    assert str(info.value) == message and "\n" not in message
    with pytest.raises(ConfigError):
        modelbook.policy_status()


def test_a_policy_on_an_unknown_alias_stops_the_monitor_after_storing_the_run(
    prod: Churn, tmp_path: Path
) -> None:
    _policy(tmp_path, alias="churn@staging")
    with pytest.raises(ConfigError) as info:
        modelbook.monitor("churn@production", data=tmp_path / "bad.parquet", target="churned")
    assert str(info.value).startswith('alias = "churn@staging" in [policy.guard] names an unknown')
    assert len(Registry(prod.home).monitor_runs("churn")) == 1  # the run is kept
    assert Registry(prod.home).policy_events() == []


def test_policy_toml_in_the_registry(prod: Churn) -> None:
    (prod.home / "policy.toml").write_text(
        '[policy.local]\nalias = "churn@production"\nconsecutive = 2\ndry_run = true\n'
    )
    [policy] = load_policies(Registry(prod.home))
    assert (policy.name, policy.consecutive, policy.dry_run) == ("local", 2, True)


def test_policy_status_renders(prod: Churn, tmp_path: Path) -> None:
    _policy(tmp_path)
    _runs(prod.home, ["alert", "alert"])
    status = modelbook.policy_status()
    bundle = status._repr_mimebundle_()
    assert "guard" in bundle["text/plain"] and "2 of 3" in bundle["text/plain"]
    html = bundle["text/html"]
    assert "2 of 3" in html and "<svg" not in html and "<script" not in html
    data = bundle["application/vnd.modelbook.v1+json"]
    assert data["type"] == "policy_status"
    assert data["data"]["policies"][0]["streak"] == 2


def test_magics(prod: Churn, tmp_path: Path, ip: Any) -> None:
    from IPython.core.error import UsageError

    _policy(tmp_path)
    status = ip.run_line_magic("modelbook", "policy")
    assert status.policies[0].name == "guard"
    change = ip.run_line_magic("modelbook", "rollback churn@production --reason 'bad deploy'")
    assert (change.previous, change.version) == (2, 1)
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("modelbook", "rollback churn@production")
    assert str(info.value).startswith("cannot roll back churn@production") and "\n" not in str(
        info.value
    )


def test_every_rollback_flag_is_an_api_keyword() -> None:
    import inspect

    from modelbook import magics

    parser = next(
        p
        for action in magics.MODELBOOK._actions
        if action.dest == "command"
        for name, p in action.choices.items()
        if name == "rollback"
    )
    flags = {a.dest for a in parser._actions if a.option_strings and a.dest != "help"}
    assert flags == {"reason"} <= set(inspect.signature(modelbook.rollback).parameters)


def test_cli(prod: Churn, tmp_path: Path, cli: CliRunner) -> None:
    _policy(tmp_path)
    _runs(prod.home, ["alert"])
    done = cli("policy", "check", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [state] = json.loads(done.stdout)["policies"]
    assert (state["name"], state["streak"], state["holder"]) == ("guard", 1, 2)
    done = cli("rollback", "churn@production", "--reason", "pager", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "churn@production → version 1 (was 2)"
    done = cli("rollback", "churn@production", "--json", cwd=tmp_path)
    assert done.returncode == 3
    assert json.loads(done.stdout)["error"]["type"] == "NotFoundError"


def test_a_timeline_counts_its_chunks_oldest_first(prod: Churn, tmp_path: Path) -> None:
    _policy(tmp_path)
    bad = pd.read_parquet(tmp_path / "bad.parquet").head(1500)
    bad["ts"] = pd.date_range("2026-01-01", periods=len(bad), freq="90min")  # ~3 months
    timeline = modelbook.monitor("churn@production", data=bad, target="churned", time="ts",
                                 chunk="month")  # fmt: skip
    assert [r.status for r in timeline] == ["alert"] * 4
    assert _holder(prod.home) == 1
    trail = Registry(prod.home).alias_events("churn")[-1]
    assert json.loads(trail["trigger_runs"]) == [r.run_id for r in timeline][1:]
