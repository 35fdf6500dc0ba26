"""Data drift: each watched column's distribution against the reference, the dataset's share
of drifted columns, and the labels' drift (a change of the class balance) when the batch has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelbook.monitoring.checks import drift_message, one_column_drift_check, pct, status_of
from modelbook.monitoring.report import CheckResult
from modelbook.monitoring.rules import MonitorRules

if TYPE_CHECKING:
    from modelbook.monitoring.context import RunContext
    from modelbook.stats.drift import ColumnDrift, DatasetDrift

__all__ = ["checks", "column_drift_checks", "label_drift_check"]


def checks(ctx: RunContext) -> list[CheckResult]:
    """drift.column for each watched input, drift.dataset, drift.label; records the drift table."""
    from modelbook.stats.drift import drift_from_profiles

    settings, label = ctx.settings, ctx.label_column
    comparable = ctx.comparable
    tested = [
        c for c in comparable if c != label and settings.rule("drift.column", c).severity != "off"
    ]
    drift = drift_from_profiles(
        ctx.reference_profile, ctx.batch, rules=settings.drift, columns=tested
    )
    ctx.findings.drift = drift
    found = column_drift_checks(drift, settings)
    if label in comparable and settings.rule("drift.label").severity != "off":
        # Label drift (prior shift) is reported on its own, outside the dataset's share.
        labels = drift_from_profiles(
            ctx.reference_profile, ctx.batch, rules=settings.drift, columns=[label]
        ).columns
        found += [label_drift_check(d, settings) for d in labels]
    return found


def column_drift_checks(drift: DatasetDrift, rules: MonitorRules) -> list[CheckResult]:
    out = []
    for d in drift.columns:
        rule = rules.rule("drift.column", d.column)
        status = "info" if not d.tested else status_of(rule, d.drifted)
        out.append(
            CheckResult(
                "drift.column",
                status,
                drift_message(d),
                column=d.column,
                test=d.test if d.tested else None,
                statistic=d.statistic if d.tested else None,
                threshold=d.threshold if d.tested else None,
            )
        )
    rule = rules.rule("drift.dataset")
    if rule.severity != "off":
        n = sum(c.drifted for c in drift.columns)
        tested = sum(c.tested for c in drift.columns)
        out.append(
            CheckResult(
                "drift.dataset",
                status_of(rule, drift.drifted),
                f"{n} of {tested} columns drifted ({pct(drift.drifted_share)}; dataset drifts "
                f"at {pct(drift.share_threshold)}"
                + (f"; {drift.correction_note})" if drift.correction_note else ")"),
                test="share of drifted columns",
                statistic=drift.drifted_share,
                threshold=drift.share_threshold,
            )
        )
    return out


def label_drift_check(drift: ColumnDrift, rules: MonitorRules) -> CheckResult:
    return one_column_drift_check(drift, rules, check="drift.label")
