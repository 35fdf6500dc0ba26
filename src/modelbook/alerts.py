"""Alert delivery: the JSON-lines log in the registry, a webhook and a command.

The monitor engine calls :func:`deliver` after a run is stored, so nothing here can lose a run:
a sink that fails is retried a bounded number of times with exponential backoff, then reported
(a ``delivery_failed`` line in the log and a warning on the ``modelbook.alerts`` logger) and
left. Settings come from ``[tool.modelbook.alerts]`` (or ``[alerts]`` in the registry's
``monitor.toml``)::

    [tool.modelbook.alerts]
    on = ["alert", "error"]          # run statuses that are delivered (default)
    webhook = "https://hooks.example.com/services/${HOOK_TOKEN}"   # HTTP POST of the payload
    headers = { Authorization = "Bearer ${HOOK_SECRET}" }          # ${VAR}s come from the env
    command = ["/usr/local/bin/page-oncall", "--team", "ml"]       # payload JSON on stdin
    attempts = 3                     # tries per sink, first one included
    backoff = 1.0                    # seconds before the 2nd try; doubles after each failure
    timeout = 10.0                   # seconds per try
    log = true                       # append to <registry>/alerts.jsonl

The payload (schema ``modelbook.alert/1``) is documented in ``docs/headless.md``; its ``text``
field makes it display as-is in Slack/Mattermost/Teams incoming webhooks.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelbook.errors import ConfigError
from modelbook.registry import find_home, find_location
from modelbook.registry.store import now
from modelbook.results import Renderable, to_jsonable

if TYPE_CHECKING:
    from modelbook.monitoring.report import MonitorReport

__all__ = [
    "ALERT_LOG",
    "PAYLOAD_SCHEMA",
    "AlertSettings",
    "Delivery",
    "SinkResult",
    "alert_settings",
    "deliver",
    "deliver_payload",
    "payload_for",
    "read_alert_log",
]

ALERT_LOG = "alerts.jsonl"
PAYLOAD_SCHEMA = "modelbook.alert/1"
STATUSES = ("ok", "alert", "error")
#: Payload kinds: a monitor run, or what a policy did (modelbook.policies).
KINDS = ("run", "rollback", "command", "notebook")

logger = logging.getLogger("modelbook.alerts")

PathLike = str | os.PathLike[str]

_KEYS = ("on", "webhook", "headers", "command", "attempts", "backoff", "timeout", "log")


def parse_command(value: object, where: str, example: str) -> tuple[str, ...] | None:
    """A ``command`` setting (a command line, split like a shell would, or a list of strings)
    as an argv tuple; None when absent. Shared by alert sinks and policies."""
    if value is None:
        return None
    command = shlex.split(value) if isinstance(value, str) else value
    if (
        not isinstance(command, Sequence)
        or not command
        or not all(isinstance(c, str) for c in command)
    ):
        raise ConfigError(
            f"command in {where} must be a command line or a list of strings, e.g. {example}."
        )
    return tuple(command)


@dataclass(frozen=True)
class AlertSettings:
    """Validated ``[tool.modelbook.alerts]``."""

    on: tuple[str, ...] = ("alert", "error")
    webhook: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    attempts: int = 3
    backoff: float = 1.0
    timeout: float = 10.0
    log: bool = True

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], *, where: str = "[alerts]") -> AlertSettings:
        """Check every key; a misspelt or mistyped setting is a ConfigError naming it."""
        for key in table:
            if key not in _KEYS:
                raise ConfigError(
                    f"unknown setting {key!r} in {where}; allowed: {', '.join(_KEYS)}."
                )
        on = table.get("on", cls.on)
        if isinstance(on, str):
            on = (on,)
        if not isinstance(on, Sequence) or any(s not in STATUSES for s in on):
            raise ConfigError(
                f"on = {on!r} in {where} must list run statuses from: {', '.join(STATUSES)}."
            )
        webhook = table.get("webhook")
        if webhook is not None:
            if not isinstance(webhook, str):
                raise ConfigError(f"webhook in {where} must be a URL string.")
            scheme = urllib.parse.urlsplit(os.path.expandvars(webhook)).scheme
            if scheme not in {"http", "https"}:
                raise ConfigError(
                    f"webhook {_redact(webhook)!r} in {where} must be an http:// or https:// URL."
                )
        headers = table.get("headers", {})
        if not isinstance(headers, Mapping) or not all(
            isinstance(v, str) for v in headers.values()
        ):
            raise ConfigError(f"headers in {where} must be a table of strings.")
        command = parse_command(table.get("command"), where, '["notify", "--team", "ml"]')
        attempts = table.get("attempts", cls.attempts)
        if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 10:
            raise ConfigError(f"attempts = {attempts!r} in {where} must be a whole number 1-10.")
        numbers = {}
        for key, limit in (("backoff", 60.0), ("timeout", 300.0)):
            value = table.get(key, getattr(cls, key))
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= limit
            ):
                raise ConfigError(f"{key} = {value!r} in {where} must be 0-{limit:g} seconds.")
            numbers[key] = float(value)
        log = table.get("log", True)
        if not isinstance(log, bool):
            raise ConfigError(f"log = {log!r} in {where} must be true or false.")
        return cls(
            on=tuple(on),
            webhook=webhook,
            headers=dict(headers),
            command=command,
            attempts=attempts,
            backoff=numbers["backoff"],
            timeout=max(numbers["timeout"], 0.1),
            log=log,
        )


def alert_settings(registry: PathLike | None = None) -> AlertSettings:
    """The alert settings in effect for the registry (``monitor.toml`` over pyproject)."""
    from modelbook.config import load_config

    table = load_config(find_home(registry)).get("alerts", {})
    return AlertSettings.from_mapping(table, where="[tool.modelbook.alerts]")


@dataclass(frozen=True)
class SinkResult:
    """What happened to one sink: delivered, or the last error after ``attempts`` tries."""

    sink: str  # 'log' | 'webhook' | 'command'
    target: str  # log path, redacted URL, or the command's program
    ok: bool
    attempts: int
    error: str | None = None


@dataclass(frozen=True, repr=False)
class Delivery(Renderable):
    """The outcome of delivering one monitor run's status."""

    run_id: str | None
    status: str
    delivered: bool  # False: the status is not in ``on``, nothing was sent
    results: tuple[SinkResult, ...] = ()
    kind = "alert_delivery"

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> tuple[SinkResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    def __repr__(self) -> str:
        sinks = ", ".join(f"{r.sink} {'ok' if r.ok else 'failed'}" for r in self.results)
        return f"<Delivery {self.status} run {self.run_id}: {sinks or 'nothing sent'}>"


# -- payload ------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become null, so every consumer can parse the payload."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def payload_for(report: MonitorReport, *, registry: PathLike | None = None) -> dict[str, Any]:
    """The documented alert payload of a stored monitor run (schema ``modelbook.alert/1``)."""
    from modelbook.capture.context import ENV_REPORT, run_context

    alerts = [
        {
            "check": c.check,
            "status": c.status,
            "column": c.column,
            "test": c.test,
            "statistic": c.statistic,
            "threshold": c.threshold,
            "message": c.message,
        }
        for c in report.alerts
    ]
    payload: dict[str, Any] = _clean(
        {
            "schema": PAYLOAD_SCHEMA,
            "kind": "run",
            "text": _summary(report.target, report.status, alerts),
            "status": report.status,
            "run_id": report.run_id,
            "target": report.target,
            "target_kind": report.target_kind,
            "reference": report.reference,
            "source": report.source,
            "notebook": report.notebook,
            "parameters": to_jsonable(run_context().parameters),
            "started_at": to_jsonable(report.started_at),
            "finished_at": to_jsonable(report.finished_at),
            "n_rows": report.n_rows,
            "drift_share": report.drift_share,
            "metrics": to_jsonable(dict(report.metrics)),
            "n_alerts": len(alerts),
            "alerts": alerts,
            "registry": str(find_location(registry)),  # never a password
            "report": os.environ.get(ENV_REPORT) or None,
            "host": socket.gethostname(),
        }
    )
    if payload.get("parameters"):  # papermill parameters may quote a registry URL
        from modelbook.registry.location import scrub

        payload["parameters"] = json.loads(scrub(json.dumps(payload["parameters"])))
    return payload


def _summary(target: str, status: str, alerts: Sequence[Mapping[str, Any]]) -> str:
    if status == "ok":
        return f"modelbook: {target} ok"
    if status == "error":
        detail = alerts[0]["message"] if alerts and alerts[0].get("message") else "see the run"
        return f"modelbook: monitoring {target} failed: {detail}"
    shown = "; ".join(str(a.get("message") or a.get("check")) for a in alerts[:5])
    more = f" (+{len(alerts) - 5} more)" if len(alerts) > 5 else ""
    noun = "alert" if len(alerts) == 1 else "alerts"
    return f"modelbook: {target}: {len(alerts)} {noun}: {shown}{more}"


# -- sinks --------------------------------------------------------------------------------------


class _SinkFailed(Exception):
    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


def _redact(url: str) -> str:
    """Webhook URLs often carry their secret in the path: show scheme and host only."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path.strip("/") else url


def _post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "modelbook-alerts/1",
            **{k: os.path.expandvars(v) for k, v in headers.items()},
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # http(s) only
            response.read()
    except urllib.error.HTTPError as exc:
        # 4xx means the request itself is wrong (URL, auth): retrying cannot help, except for
        # 408 (timeout) and 429 (rate limited).
        retry = exc.code >= 500 or exc.code in {408, 429}
        raise _SinkFailed(f"HTTP {exc.code} {exc.reason}", retry=retry) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _SinkFailed(f"cannot connect ({reason})") from None


def _run_command(
    argv: Sequence[str], body: bytes, payload: Mapping[str, Any], timeout: float
) -> None:
    env = dict(
        os.environ,
        MODELBOOK_ALERT_STATUS=str(payload.get("status")),
        MODELBOOK_ALERT_RUN_ID=str(payload.get("run_id")),
        MODELBOOK_ALERT_TARGET=str(payload.get("target")),
    )
    try:
        done = subprocess.run(
            list(argv), input=body, capture_output=True, timeout=timeout, env=env, check=False
        )
    except FileNotFoundError:
        raise _SinkFailed(f"command not found: {argv[0]}", retry=False) from None
    except subprocess.TimeoutExpired:
        raise _SinkFailed(f"timed out after {timeout:g} s") from None
    except OSError as exc:
        raise _SinkFailed(f"cannot run it ({exc.strerror or exc})", retry=False) from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise _SinkFailed(f"exit status {done.returncode}{': ' + tail[0] if tail[0] else ''}")


def _with_retries(
    sink: str, target: str, attempt: Callable[[], None], settings: AlertSettings
) -> SinkResult:
    delay = settings.backoff
    for number in range(1, settings.attempts + 1):
        try:
            attempt()
        except _SinkFailed as exc:
            if not exc.retry or number == settings.attempts:
                return SinkResult(sink, target, False, number, str(exc))
            time.sleep(delay)
            delay *= 2
        else:
            return SinkResult(sink, target, True, number)
    raise AssertionError("unreachable")  # pragma: no cover


def _append_log(path: Path, entry: Mapping[str, Any]) -> None:
    """One JSON object per line, appended under a lock so concurrent runs never interleave."""
    from filelock import FileLock

    line = json.dumps(entry, default=str, separators=(",", ":")) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=30), path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def deliver_payload(payload: Mapping[str, Any], settings: AlertSettings, *, home: Path) -> Delivery:
    """Log and send one payload; never raises for a failing sink (see :class:`Delivery`)."""
    status = str(payload.get("status"))
    run_id = payload.get("run_id")
    run_id = None if run_id is None else str(run_id)
    # A policy's action (kind 'rollback', 'command', 'notebook') always goes to every sink;
    # ``on`` filters only monitor runs' statuses.
    if payload.get("kind", "run") == "run" and status not in settings.on:
        return Delivery(run_id, status, delivered=False)
    results: list[SinkResult] = []
    log_path = home / ALERT_LOG
    if settings.log:
        try:
            _append_log(log_path, {"type": "alert", "logged_at": now().isoformat(), **payload})
            results.append(SinkResult("log", str(log_path), True, 1))
        except Exception as exc:  # the log is a sink too: report, never raise
            results.append(SinkResult("log", str(log_path), False, 1, str(exc)))
    body = json.dumps(payload, default=str).encode()
    if settings.webhook:
        url = os.path.expandvars(settings.webhook)
        results.append(
            _with_retries(
                "webhook",
                _redact(settings.webhook),
                lambda: _post(url, body, settings.headers, settings.timeout),
                settings,
            )
        )
    if settings.command:
        argv = settings.command
        results.append(
            _with_retries(
                "command",
                argv[0],
                lambda: _run_command(argv, body, payload, settings.timeout),
                settings,
            )
        )
    delivery = Delivery(run_id, status, delivered=True, results=tuple(results))
    for failure in delivery.failures:
        _report_failure(failure, run_id, log_path if settings.log else None)
    return delivery


def _report_failure(failure: SinkResult, run_id: str | None, log_path: Path | None) -> None:
    tries = "try" if failure.attempts == 1 else "tries"
    logger.warning(
        "modelbook: alert %s %s failed after %d %s (%s); the monitor run %s is stored.",
        failure.sink,
        failure.target,
        failure.attempts,
        tries,
        failure.error,
        run_id,
    )
    if log_path is not None and failure.sink != "log":
        try:
            _append_log(
                log_path,
                {
                    "type": "delivery_failed",
                    "logged_at": now().isoformat(),
                    "run_id": run_id,
                    **to_jsonable(failure),
                },
            )
        except Exception as exc:  # already reporting a failure; do not mask it
            logger.warning("modelbook: cannot write %s (%s).", log_path, exc)


def deliver(
    report: MonitorReport,
    *,
    registry: PathLike | None = None,
    settings: AlertSettings | None = None,
) -> Delivery:
    """Deliver a stored monitor run's alerts to the log and the configured sinks.

    Called by the monitor engine after the run is stored. Returns what happened; a failing
    sink is reported, never raised. Invalid settings raise :class:`ConfigError` (a setup
    mistake that should stop a scheduled run rather than silently drop its alerts).
    """
    home = find_home(registry)
    settings = settings if settings is not None else alert_settings(home)
    return deliver_payload(payload_for(report, registry=registry), settings, home=home)


def read_alert_log(registry: PathLike | None = None) -> list[dict[str, Any]]:
    """Every line of the registry's alert log (empty when nothing was logged yet)."""
    path = find_home(registry) / ALERT_LOG
    if not path.exists():
        return []
    entries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                entries.append(json.loads(line))
    return entries
