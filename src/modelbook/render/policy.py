"""Text and HTML for the policy results (``modelbook policy check``, a policy's action).

Everything is said in words (streak "2 of 3", "acts now", "cooldown 5.0 h left"), so the
table reads the same after a sanitizer strips styles; status words carry inline styles only.
"""

from __future__ import annotations

from typing import Any

from modelbook.policies import PolicyAction, PolicyState, PolicyStatus
from modelbook.render.format import fmt_value, plural
from modelbook.render.html import badge, esc, register_html, table_html
from modelbook.render.text import register_text, table_text

__all__: list[str] = []

_COLUMNS = ("policy", "alias", "holder", "on", "action", "streak", "state", "last action")


def _seconds(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _state(p: PolicyState) -> str:
    if p.holder is None:
        return "alias removed: idle"
    if p.cooldown_remaining > 0:
        return f"cooldown {_seconds(p.cooldown_remaining)} left"
    if p.streak >= p.consecutive:
        return "acts on the next failing run" if not p.dry_run else "would act (dry run)"
    return "watching" + (" (dry run)" if p.dry_run else "")


def _last(last: Any) -> str:
    if not last:
        return "none yet"
    code = f", exit {last['exit_code']}" if last.get("exit_code") is not None else ""
    return f"{last['action']} {last['status']}{code} at {fmt_value(last['at'])}"


def _row(p: PolicyState) -> list[str]:
    holder = f"version {p.holder}" if p.holder is not None else "(none)"
    return [
        p.name,
        p.alias,
        holder,
        ", ".join(p.on),
        p.action + (" (dry run)" if p.dry_run else ""),
        f"{p.streak} of {p.consecutive}",
        _state(p),
        _last(p.last_action),
    ]


def _headline(result: PolicyStatus) -> str:
    if not result.policies:
        return (
            f"no policies configured for {result.registry}: add [tool.modelbook.policy.<name>] "
            "to pyproject.toml or [policy.<name>] to policy.toml in the registry"
        )
    return f"{plural(len(result.policies), 'policy', 'policies')} for {result.registry}"


@register_text(PolicyStatus)
def _status_text(result: PolicyStatus) -> str:
    if not result.policies:
        return _headline(result)
    return f"{_headline(result)}\n{table_text(_COLUMNS, [_row(p) for p in result.policies])}"


@register_html(PolicyStatus)
def _status_html(result: PolicyStatus) -> str:
    if not result.policies:
        return f"<p>{esc(_headline(result))}</p>"
    return f"<h3>{esc(_headline(result))}</h3>" + table_html(
        _COLUMNS, [_row(p) for p in result.policies]
    )


def _action_line(result: PolicyAction) -> str:
    return (
        f"policy {result.policy} on {result.alias}: {result.action} {result.status}: "
        f"{result.message}"
    )


@register_text(PolicyAction)
def _action_text(result: PolicyAction) -> str:
    """One line: feedback and monitor reports list actions as notes."""
    output = f"; output {result.output}" if result.output else ""
    return f"{_action_line(result)} ({result.reason}{output})"


@register_html(PolicyAction)
def _action_html(result: PolicyAction) -> str:
    word = {"done": "ok", "failed": "error", "refused": "error"}.get(result.status, "info")
    return (
        f"<p>{badge(word)} {esc(_action_line(result))}</p>"
        f"<p>reason: {esc(result.reason)}; runs: {esc(', '.join(result.trigger_runs))}"
        + (f"; output: {esc(result.output)}" if result.output else "")
        + "</p>"
    )
