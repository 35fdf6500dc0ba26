"""What the check families share: statuses, shares, drift messages, the run's status.

The families themselves are modules of their own, each ``checks(ctx) -> list[CheckResult]``
(see :mod:`~modelbook.monitoring.context` and the list in :mod:`~modelbook.monitoring.run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from modelbook.monitoring.report import CheckResult
from modelbook.monitoring.rules import MonitorRules, Rule

if TYPE_CHECKING:
    from modelbook.stats.drift import ColumnDrift
    from modelbook.stats.profile import ColumnProfile, TableProfile

__all__ = [
    "all_null",
    "comparable_columns",
    "describe",
    "drift_message",
    "one_column_drift_check",
    "pct",
    "status_of",
    "summarise",
]


def status_of(rule: Rule, failed: bool) -> str:
    """'ok' when the check passed, else the rule's severity as a status ('alert' or 'info')."""
    if not failed:
        return "ok"
    return "alert" if rule.severity == "alert" else "info"


def pct(share: float) -> str:
    return f"{share * 100:.2f}%" if share < 0.1 else f"{share * 100:.1f}%"


def all_null(col: ColumnProfile) -> bool:
    return col.count > 0 and col.nulls + col.nan >= col.count


def comparable_columns(
    expected: Sequence[str], reference: TableProfile, batch: TableProfile
) -> list[str]:
    """Columns present on both sides with the same kind and some values in the batch."""
    ref_names, have = set(reference.names), set(batch.names)
    out = []
    for name in expected:
        if name not in ref_names or name not in have:
            continue
        ref, cur = reference.column(name), batch.column(name)
        if ref.kind == cur.kind and ref.kind != "other" and not all_null(cur):
            out.append(name)
    return out


def describe(exc: BaseException) -> str:
    """An exception in one line, for a check whose code (the user's model) failed."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def drift_message(d: ColumnDrift) -> str:
    if not d.tested:
        return d.reason
    p = f", p={d.p_value:.2g}" if d.p_value is not None else ""
    if d.p_value is not None and d.p_threshold is not None and d.p_threshold < 1.0:
        # The level after the family-wise correction (stated once, in drift.dataset).
        p += f" {'<' if d.p_value < d.p_threshold else '≥'} {d.p_threshold:.2g}"
    verdict = "drifted" if d.drifted else "no drift"
    return f"{verdict}: {d.test} {d.statistic:.4g} (threshold {d.threshold:g}{p})"


def one_column_drift_check(drift: ColumnDrift, rules: MonitorRules, *, check: str) -> CheckResult:
    """A drift verdict reported on its own: the labels' or the predictions'."""
    rule = rules.rule(check)
    return CheckResult(
        check,
        "info" if not drift.tested else status_of(rule, drift.drifted),
        drift_message(drift),
        column=drift.column,
        test=drift.test if drift.tested else None,
        statistic=drift.statistic if drift.tested else None,
        threshold=drift.threshold if drift.tested else None,
    )


def summarise(checks: Sequence[CheckResult]) -> str:
    """The run's status from its checks: error > alert > ok."""
    statuses = {c.status for c in checks}
    if "error" in statuses:
        return "error"
    if "alert" in statuses:
        return "alert"
    return "ok"
