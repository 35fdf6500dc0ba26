"""Rollback and retraining policies: act on a streak of bad runs of an alias's model.

A policy watches one alias (``churn@production``). After each stored run of that model, and
after each feedback that adds realized quality to its runs, :func:`evaluate` looks at the runs
of the version holding the alias since it took the alias (and since the policy last acted),
oldest first, and counts the consecutive latest runs that *failed*: a check whose name starts
with one of the policy's ``on`` prefixes alerted, in the run itself or in its latest feedback.
Some runs say nothing either way and are skipped, neither counting nor resetting the streak
(Argo Rollouts' "inconclusive"): runs with status ``error``, runs whose matching quality was
``insufficient`` (too few labels), runs with no matching check at all, and challenger runs.

When the streak reaches ``consecutive`` the policy acts, at most once per ``cooldown``:

- ``rollback`` moves the alias back to the version that held it before (from the alias
  trail), recorded as ``policy:<name>`` with the reason and the triggering runs, and sends an
  alert of kind ``rollback`` to every sink;
- ``command`` runs a command with the alert payload as JSON on stdin;
- ``notebook`` runs a notebook with ``modelbook run`` (the payload is its ``alert`` parameter).

Every action is recorded in ``policy_events`` (status ``done``, ``failed``, ``dry_run`` or
``refused``) with its exit code and output path. A failing action never undoes the run that
triggered it. Promoting whatever a retraining produces stays a separate, deliberate step.

Settings, in ``[tool.modelbook.policy.<name>]`` (or ``[policy.<name>]`` in the registry's
``monitor.toml`` or ``policy.toml``)::

    [tool.modelbook.policy.rollback-churn]
    alias = "churn@production"
    on = ["quality", "drift.prediction"]      # check-name prefixes (default: ["quality"])
    consecutive = 3
    action = "rollback"                       # or "command" / "notebook"
    command = "python retrain.py"             # action = "command"
    notebook = "retrain.ipynb"                # action = "notebook" (path from the working dir)
    parameters = { epochs = 5 }               # notebook parameters
    cooldown = "24h"
    dry_run = false
    timeout = 3600                            # seconds for a command or notebook
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from modelbook.alerts import parse_command
from modelbook.errors import ConfigError, InvalidNameError
from modelbook.registry import Registry, parse_ref
from modelbook.registry.store import now
from modelbook.results import Renderable

__all__ = [
    "POLICY_TOML",
    "Policy",
    "PolicyAction",
    "PolicyState",
    "PolicyStatus",
    "evaluate",
    "load_policies",
    "policy_status",
    "rollback",
]

POLICY_TOML = "policy.toml"
logger = logging.getLogger("modelbook.policies")
ACTIONS = ("rollback", "command", "notebook")
_KEYS = (
    "alias", "on", "consecutive", "action", "command", "notebook", "parameters", "cooldown",
    "dry_run", "timeout",
)  # fmt: skip
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: Statuses of a check that carry no verdict (too few labels to judge).
_INCONCLUSIVE = ("insufficient",)


@dataclass(frozen=True)
class Policy:
    """One validated ``[policy.<name>]`` table."""

    name: str
    model: str
    alias: str
    on: tuple[str, ...] = ("quality",)
    consecutive: int = 3
    action: str = "rollback"
    command: tuple[str, ...] | None = None
    notebook: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    cooldown: timedelta = timedelta(hours=24)
    dry_run: bool = False
    timeout: float = 3600.0

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.alias}"

    @classmethod
    def from_mapping(cls, name: str, table: Any) -> Policy:
        """Check every key; any bad setting is a one-line ConfigError naming the policy."""
        where = f"[policy.{name}]"
        if not isinstance(table, Mapping):
            raise ConfigError(f'{where} must be a table, e.g. alias = "churn@production".')
        for key in table:
            if key not in _KEYS:
                raise ConfigError(
                    f"unknown setting {key!r} in {where}; allowed: {', '.join(_KEYS)}."
                )
        alias_text = table.get("alias")
        try:
            ref = parse_ref(alias_text)
        except InvalidNameError:
            ref = None
        if ref is None or ref.alias is None:
            raise ConfigError(
                f'alias = {alias_text!r} in {where} must name an alias, e.g. "churn@production".'
            )
        on = table.get("on", ["quality"])
        if isinstance(on, str):
            on = [on]
        if (
            not isinstance(on, Sequence)
            or not on
            or not all(isinstance(p, str) and p.strip(".") for p in on)
        ):
            raise ConfigError(
                f"on = {on!r} in {where} must list check-name prefixes, e.g. "
                '["quality", "drift.prediction"].'
            )
        consecutive = table.get("consecutive", 3)
        if (
            not isinstance(consecutive, int)
            or isinstance(consecutive, bool)
            or not 1 <= consecutive <= 1000
        ):
            raise ConfigError(
                f"consecutive = {consecutive!r} in {where} must be a whole number 1-1000."
            )
        action = table.get("action", "rollback")
        if action not in ACTIONS:
            raise ConfigError(
                f"action = {action!r} in {where} is not one of: {', '.join(ACTIONS)}."
            )
        command = parse_command(table.get("command"), where, '"python retrain.py"')
        if action == "command" and command is None:
            raise ConfigError(
                f'{where} has action = "command" but no command; add command = "python retrain.py".'
            )
        notebook = table.get("notebook")
        if notebook is not None and (
            not isinstance(notebook, str) or not notebook.endswith(".ipynb")
        ):
            raise ConfigError(f"notebook = {notebook!r} in {where} must be an .ipynb path.")
        if action == "notebook" and notebook is None:
            raise ConfigError(
                f'{where} has action = "notebook" but no notebook; add notebook = "retrain.ipynb".'
            )
        parameters = table.get("parameters", {})
        if not isinstance(parameters, Mapping) or not all(
            isinstance(k, str) and k.isidentifier() for k in parameters
        ):
            raise ConfigError(
                f"parameters in {where} must be a table of notebook parameters, e.g. {{ epochs = 5 }}."
            )
        dry_run = table.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise ConfigError(f"dry_run = {dry_run!r} in {where} must be true or false.")
        timeout = table.get("timeout", 3600.0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigError(f"timeout = {timeout!r} in {where} must be a number of seconds > 0.")
        return cls(
            name=name,
            model=ref.name,
            alias=ref.alias,
            on=tuple(p.strip(".") for p in on),
            consecutive=consecutive,
            action=action,
            command=command,
            notebook=notebook,
            parameters=dict(parameters),
            cooldown=parse_cooldown(table.get("cooldown", "24h"), where=where),
            dry_run=dry_run,
            timeout=float(timeout),
        )

    def matches(self, check: str) -> bool:
        return any(check == p or check.startswith(p + ".") for p in self.on)


def parse_cooldown(value: Any, *, where: str) -> timedelta:
    """``"24h"``, ``"30m"``, ``"2d"``, ``"1w"``, ``"0s"`` or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=float(value))
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            f'cooldown = {value!r} in {where} must be a duration like "24h", "30m" or "2d".'
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def load_policies(reg: Registry, *, check_aliases: bool = True) -> list[Policy]:
    """Every configured policy, validated; ``check_aliases``: each alias must exist.

    ``policy.toml`` in the registry (tables ``[policy.<name>]``) overrides the same names from
    ``[tool.modelbook.policy]`` and ``monitor.toml``.
    """
    from modelbook.config import load_config, read_toml

    tables: dict[str, Any] = dict(load_config(reg.home).get("policy", {}))
    local = reg.home / POLICY_TOML
    if local.is_file():
        data = read_toml(local)
        unknown = [k for k in data if k != "policy"]
        if unknown:
            raise ConfigError(
                f"unknown table {unknown[0]!r} in {local}; write policies as [policy.<name>]."
            )
        section = data.get("policy", {})
        if not isinstance(section, Mapping):
            raise ConfigError(f"[policy] in {local} must hold tables [policy.<name>].")
        tables.update(section)
    policies = [Policy.from_mapping(name, table) for name, table in sorted(tables.items())]
    if check_aliases:
        _check_aliases(reg, policies)
    return policies


def _check_aliases(reg: Registry, policies: Sequence[Policy]) -> None:
    if not policies:
        return
    known = {(str(a["name"]), str(a["alias"])) for a in reg.aliases()}
    for policy in policies:
        if (policy.model, policy.alias) not in known:
            raise ConfigError(
                f'alias = "{policy.ref}" in [policy.{policy.name}] names an unknown alias; '
                f"set it first (`modelbook alias {policy.model}@N {policy.alias}`) or fix it."
            )


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class PolicyAction(Renderable):
    """What one policy did (or would do) after an evaluation."""

    policy: str
    alias: str  # name@alias
    action: str  # 'rollback' | 'command' | 'notebook'
    status: str  # 'done' | 'failed' | 'dry_run' | 'refused' | 'cooldown'
    reason: str
    trigger_runs: tuple[str, ...]
    trigger: str  # 'monitor' | 'feedback' | ...
    from_version: int | None = None
    to_version: int | None = None
    exit_code: int | None = None
    output: str | None = None
    message: str = ""
    kind = "policy_action"

    def __repr__(self) -> str:
        return f"<PolicyAction {self.policy} {self.action} {self.status}: {self.message}>"


@dataclass(frozen=True)
class PolicyState:
    """One policy in ``policy check``: its streak now, its last action, its cooldown."""

    name: str
    alias: str
    holder: int | None  # the version holding the alias now
    action: str
    on: tuple[str, ...]
    consecutive: int
    streak: int
    streak_runs: tuple[str, ...]
    dry_run: bool
    cooldown: str
    cooldown_remaining: float  # seconds; 0 when it may act
    last_action: Mapping[str, Any] | None


@dataclass(frozen=True, repr=False)
class PolicyStatus(Renderable):
    """Every configured policy with its state (``modelbook policy check``)."""

    policies: tuple[PolicyState, ...]
    registry: str
    kind = "policy_status"

    def __repr__(self) -> str:
        return f"<PolicyStatus {len(self.policies)} policies>"


# -- evaluation ---------------------------------------------------------------------------------


def _verdict(policy: Policy, run: Mapping[str, Any]) -> str:
    """'fail', 'ok' or 'skip' (neither counts nor resets) for one run."""
    if run.get("role") == "challenger" or run.get("status") == "error":
        return "skip"
    statuses = [s for check, s in run.get("checks", ()) if policy.matches(check)]
    statuses += [s for check, s in _feedback_checks(run.get("feedback")) if policy.matches(check)]
    if "alert" in statuses:
        return "fail"
    if any(s in _INCONCLUSIVE for s in statuses):
        return "skip"
    return "ok" if statuses else "skip"


def _feedback_checks(report: str | None) -> list[tuple[str, str]]:
    """The (check, status) pairs of a feedback result's report JSON (F2's ``checks`` list)."""
    if not report:
        return []
    try:
        data = json.loads(report)
    except ValueError:
        return []
    checks = data.get("checks", []) if isinstance(data, Mapping) else []
    found = []
    for c in checks if isinstance(checks, list) else []:
        if isinstance(c, Mapping):
            name = c.get("check", c.get("name", c.get("check_name")))
            if isinstance(name, str) and isinstance(c.get("status"), str):
                found.append((name, str(c["status"])))
    return found


def _streak(policy: Policy, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ids of the latest consecutive failing runs (skipped runs in between don't break it)."""
    streak: list[str] = []
    for run in runs:
        verdict = _verdict(policy, run)
        if verdict == "fail":
            streak.append(str(run["id"]))
        elif verdict == "ok":
            streak = []
    return streak


def _cooldown_left(policy: Policy, events: Sequence[Mapping[str, Any]], at: datetime) -> float:
    acted = [e for e in events if e["status"] in ("done", "failed")]
    if not acted:
        return 0.0
    left = acted[0]["created_at"] + policy.cooldown - at
    return max(0.0, float(left.total_seconds()))


def evaluate(reg: Registry, *, model: str, trigger: str) -> list[PolicyAction]:
    """Evaluate every policy whose alias belongs to ``model``, acting where a streak is due.

    Called by the monitor after a run of ``model`` is stored and by feedback after realized
    quality is stored. A failing action is recorded (status ``failed``), never raised; invalid
    policy settings (and a policy of ``model`` guarding an alias that does not exist) raise
    :class:`ConfigError`, after the run that triggered the evaluation was stored.
    """
    policies = [p for p in load_policies(reg, check_aliases=False) if p.model == model]
    _check_aliases(reg, policies)  # only this model's: another model's mistake is not ours
    actions = []
    for policy in policies:
        holder, _moved, runs, events = reg.policy_observations(
            policy.model, policy.alias, policy=policy.name
        )
        if holder is None:
            continue  # the alias was removed: nothing to guard
        streak = _streak(policy, runs)
        if len(streak) < policy.consecutive:
            continue
        triggers = tuple(streak[-policy.consecutive :])
        reason = (
            f"{len(streak)} consecutive runs of {policy.model}@{holder} alerted on "
            f"{', '.join(policy.on)}"
        )
        left = _cooldown_left(policy, events, now())
        if left > 0:
            actions.append(
                PolicyAction(
                    policy.name,
                    policy.ref,
                    policy.action,
                    "cooldown",
                    reason,
                    triggers,
                    trigger,
                    from_version=holder,
                    message=f"in cooldown for {_duration(left)} more: no action",
                )
            )
            continue
        action = _act(reg, policy, holder, reason, triggers, trigger)
        logger.warning("modelbook: %s", action)  # seen in the notebook's output and cron logs
        actions.append(action)
    return actions


def _act(
    reg: Registry,
    policy: Policy,
    holder: int,
    reason: str,
    triggers: tuple[str, ...],
    trigger: str,
) -> PolicyAction:
    from modelbook.errors import NotFoundError

    base: dict[str, Any] = dict(
        policy=policy.name, alias=policy.ref, action=policy.action, reason=reason,
        trigger_runs=triggers, trigger=trigger, from_version=holder,
    )  # fmt: skip
    if policy.action == "rollback":
        try:
            _current, target = reg.previous_holder(policy.model, policy.alias)
        except NotFoundError as exc:
            result = PolicyAction(**base, status="refused", message=str(exc))
            _record(reg, result)
            return result
        if policy.dry_run:
            result = PolicyAction(
                **base,
                status="dry_run",
                to_version=target,
                message=f"dry run: would move {policy.ref} from version {holder} to {target}",
            )
            _record(reg, result)
            return result
        moved_from, moved_to = reg.rollback_alias(
            policy.model, policy.alias, by=f"policy:{policy.name}",
            reason=f"rollback: {reason}", trigger_runs=triggers, expected=holder,
        )  # fmt: skip
        if moved_from == moved_to:  # another process moved the alias since we looked
            result = PolicyAction(
                **base,
                status="refused",
                message=f"{policy.ref} was moved to version {moved_to} meanwhile: nothing done",
            )
            _record(reg, result)
            return result
        result = PolicyAction(
            **base,
            status="done",
            to_version=moved_to,
            message=f"moved {policy.ref} from version {moved_from} back to {moved_to}",
        )
        _record(reg, result)
        _send(reg, result)
        return result
    if policy.dry_run:
        what = " ".join(policy.command or ()) if policy.action == "command" else policy.notebook
        result = PolicyAction(
            **base,
            status="dry_run",
            message=f"dry run: would run {what}",
        )
        _record(reg, result)
        return result
    payload = _payload(reg, policy, base, status="alert")
    exit_code, output, message = _run_action(reg, policy, payload)
    result = PolicyAction(
        **base,
        status="done" if exit_code == 0 else "failed",
        exit_code=exit_code,
        output=output,
        message=message,
    )
    _record(reg, result)
    _send(reg, result)
    return result


def _record(reg: Registry, action: PolicyAction) -> None:
    reg.add_policy_event(
        {
            "policy": action.policy,
            "alias": action.alias,
            "action": action.action,
            "status": action.status,
            "reason": action.reason,
            "trigger_runs": json.dumps(list(action.trigger_runs)),
            "exit_code": action.exit_code,
            "output": action.output or action.message,
            "created_at": now(),
        }
    )


def _payload(
    reg: Registry, policy: Policy, base: Mapping[str, Any], *, status: str, **more: Any
) -> dict[str, Any]:
    from modelbook.alerts import PAYLOAD_SCHEMA

    runs = list(base["trigger_runs"])
    return {
        "schema": PAYLOAD_SCHEMA,
        "kind": policy.action,
        "text": f"modelbook: policy {policy.name} on {policy.ref}: {base['reason']}",
        "status": status,
        "run_id": runs[-1] if runs else None,
        "target": policy.ref,
        "policy": policy.name,
        "alias": policy.ref,
        "action": policy.action,
        "reason": base["reason"],
        "trigger_runs": runs,
        "trigger": base["trigger"],
        "from_version": base.get("from_version"),
        "registry": str(reg.location),
        "host": socket.gethostname(),
        **more,
    }


def _send(reg: Registry, action: PolicyAction) -> None:
    """Deliver the action as an alert of its kind to every sink (never raises for a sink)."""
    from modelbook.alerts import alert_settings, deliver_payload

    text = f"modelbook: policy {action.policy} on {action.alias}: {action.message}"
    payload = {
        "schema": "modelbook.alert/1",
        "kind": action.action,
        "text": text,
        "status": "alert" if action.status == "done" else "error",
        "run_id": action.trigger_runs[-1] if action.trigger_runs else None,
        "target": action.alias,
        "policy": action.policy,
        "action": action.action,
        "action_status": action.status,
        "reason": action.reason,
        "trigger_runs": list(action.trigger_runs),
        "trigger": action.trigger,
        "from_version": action.from_version,
        "to_version": action.to_version,
        "exit_code": action.exit_code,
        "output": action.output,
        "message": action.message,
        "registry": str(reg.location),
        "host": socket.gethostname(),
    }
    deliver_payload(payload, alert_settings(reg.home), home=reg.home)


def _run_action(
    reg: Registry, policy: Policy, payload: Mapping[str, Any]
) -> tuple[int | None, str | None, str]:
    """Run the command or notebook; (exit code or None, output path, message)."""
    folder = reg.home / "policy_runs"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now().strftime("%Y%m%dT%H%M%S%f")
    body = json.dumps(payload, default=str).encode()
    if policy.action == "command":
        argv = list(policy.command or ())
        log = folder / f"{policy.name}-{stamp}.log"
        what = argv[0]
    else:
        notebook = Path(policy.notebook or "").expanduser().absolute()
        output = folder / f"{policy.name}-{stamp}.ipynb"
        params = folder / f"{policy.name}-{stamp}.json"
        params.write_text(json.dumps({**policy.parameters, "alert": payload}, default=str))
        # A team registry's URL goes by MODELBOOK_HOME: never a password in argv.
        where = ["--registry", str(reg.home)] if not reg.is_team else []
        argv = [
            sys.executable, "-m", "modelbook", "run", str(notebook), "-f", str(params),
            "--output", str(output), *where,
        ]  # fmt: skip
        log = folder / f"{policy.name}-{stamp}.log"
        what = str(notebook)
    env = dict(
        os.environ,
        MODELBOOK_HOME=reg.location.url or str(reg.home),
        MODELBOOK_POLICY=policy.name,
        MODELBOOK_ALIAS=policy.ref,
    )
    try:
        with log.open("wb") as out:
            done = subprocess.run(
                argv, input=body, stdout=out, stderr=subprocess.STDOUT, env=env,
                timeout=policy.timeout, check=False,
            )  # fmt: skip
    except FileNotFoundError:
        return None, str(log), f"command not found: {what}"
    except subprocess.TimeoutExpired:
        return None, str(log), f"{what} timed out after {policy.timeout:g} s"
    except OSError as exc:
        return None, str(log), f"cannot run {what} ({exc.strerror or exc})"
    path = str(output) if policy.action == "notebook" else str(log)
    if done.returncode == 0:
        return 0, path, f"ran {what}: exit status 0"
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
    detail = f": {tail[0][:200]}" if tail[0] else ""
    return done.returncode, path, f"{what} failed: exit status {done.returncode}{detail}"


def _duration(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


# -- by hand and status -------------------------------------------------------------------------


def rollback(reg: Registry, ref: str, *, by: str, reason: str | None = None) -> tuple[int, int]:
    """Move ``name@alias`` back to its previous holder (from the trail); (from, to)."""
    parsed = parse_ref(ref)
    if parsed.alias is None:
        raise InvalidNameError(f"{ref!r} names no alias: write NAME@ALIAS, e.g. churn@production.")
    return reg.rollback_alias(
        parsed.name, parsed.alias, by=by, reason=f"rollback: {reason or 'by hand'}"
    )


def policy_status(reg: Registry) -> PolicyStatus:
    """Every policy, its streak now, its last action and how long its cooldown still runs."""
    states = []
    at = now()
    for policy in load_policies(reg):
        holder, _moved, runs, events = reg.policy_observations(
            policy.model, policy.alias, policy=policy.name
        )
        streak = _streak(policy, runs)
        last = events[0] if events else None
        states.append(
            PolicyState(
                name=policy.name,
                alias=policy.ref,
                holder=holder,
                action=policy.action,
                on=policy.on,
                consecutive=policy.consecutive,
                streak=len(streak),
                streak_runs=tuple(streak),
                dry_run=policy.dry_run,
                cooldown=_duration(policy.cooldown.total_seconds()),
                cooldown_remaining=_cooldown_left(policy, events, at),
                last_action=(
                    {
                        "at": last["created_at"],
                        "action": last["action"],
                        "status": last["status"],
                        "exit_code": last["exit_code"],
                        "output": last["output"],
                        "trigger_runs": json.loads(last["trigger_runs"] or "[]"),
                    }
                    if last
                    else None
                ),
            )
        )
    return PolicyStatus(policies=tuple(states), registry=str(reg.location))
