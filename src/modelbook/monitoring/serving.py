"""Serving cost: one-row predict latency and batch throughput, measured while predicting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from modelbook.monitoring.report import CheckResult
from modelbook.monitoring.rules import MonitorRules

if TYPE_CHECKING:
    from modelbook.monitoring.context import RunContext

__all__ = ["checks", "serving_checks"]


def checks(ctx: RunContext) -> list[CheckResult]:
    """serving.latency_p95_ms, serving.rows_per_second; records the measures."""
    if ctx.model is None or ctx.model.predictions is None:
        return []
    serving = ctx.model.predictions.serving()
    ctx.findings.serving = serving
    return serving_checks(serving, ctx.settings)


def serving_checks(serving: Mapping[str, float], settings: MonitorRules) -> list[CheckResult]:
    out = []
    for check, key, higher_bad in (
        ("serving.latency_p95_ms", "latency_ms_p95", True),
        ("serving.rows_per_second", "rows_per_second", False),
    ):
        value = serving.get(key)
        rule = settings.rule(check)
        if value is None or rule.severity == "off":
            continue
        if rule.threshold is None:
            status = "info"
        else:
            failed = value > rule.threshold if higher_bad else value < rule.threshold
            status = ("alert" if rule.severity == "alert" else "info") if failed else "ok"
        label = "p95 latency of a one-row predict" if higher_bad else "batch throughput"
        unit = "ms" if higher_bad else "rows/s"
        out.append(
            CheckResult(
                check,
                status,
                f"{label}: {value:,.3g} {unit}",
                statistic=value,
                threshold=rule.threshold,
            )
        )
    return out
