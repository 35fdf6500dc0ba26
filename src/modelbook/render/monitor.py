"""Text and self-contained HTML for :class:`~modelbook.monitoring.report.MonitorReport`.

One function per section (header, findings, drift, prediction drift, quality, serving,
environment), so charts can be added to a section without touching the others.
"""

from __future__ import annotations

from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.render.format import fmt_value
from modelbook.render.html import esc, register_html, table_html
from modelbook.render.text import register_text, table_text

__all__ = [
    "drift_section_html",
    "environment_section_html",
    "findings_section_html",
    "header_html",
    "prediction_drift_section_html",
    "quality_section_html",
    "serving_section_html",
]

MAX_TEXT_FINDINGS = 20


def _headline(report: MonitorReport) -> str:
    parts = [f"{report.n_rows:,} rows", f"reference {report.reference}"]
    if report.drift is not None and report.drift.columns:
        n = len(report.drift.drifted_columns)
        tested = sum(c.tested for c in report.drift.columns)
        parts.append(f"{n} of {tested} columns drifted")
    alerts = len(report.alerts)
    parts.append(f"{alerts} alert{'s' if alerts != 1 else ''}")
    return ", ".join(parts)


def _findings(report: MonitorReport) -> list[CheckResult]:
    """Checks worth a look: alerts and errors first, then information."""
    order = {"error": 0, "alert": 1, "info": 2}
    sections = ("drift.column", "quality.", "serving.")  # shown in their own sections
    found = [
        c
        for c in report.checks
        if c.status in order
        and (c.status != "info" or not c.check.startswith(sections))
        and c.check != "drift.column"
    ]
    found += [c for c in report.checks if c.check == "drift.column" and c.status == "alert"]
    return sorted(found, key=lambda c: order[c.status])


# -- text -----------------------------------------------------------------------------------------


@register_text(MonitorReport)
def _text(report: MonitorReport) -> str:
    lines = [f"monitor {report.target}: {report.status.upper()} ({_headline(report)})"]
    findings = _findings(report)
    for c in findings[:MAX_TEXT_FINDINGS]:
        lines.append(f"  {c.status:<5} {c}")
    if len(findings) > MAX_TEXT_FINDINGS:
        lines.append(f"  … {len(findings) - MAX_TEXT_FINDINGS} more: see .to_frame()")
    if report.metrics:
        lines.append(
            "quality: " + ", ".join(f"{k}={fmt_value(v)}" for k, v in report.metrics.items())
        )
    if report.drift is not None and report.drift.columns:
        rows = [
            [
                d.column,
                d.test,
                fmt_value(d.statistic) if d.tested else "",
                fmt_value(d.threshold) if d.tested else "",
                "drifted" if d.drifted else ("not tested" if not d.tested else "ok"),
            ]
            for d in sorted(report.drift.columns, key=lambda d: (not d.drifted, d.column))
        ]
        lines.append(table_text(("column", "test", "statistic", "threshold", "drift"), rows))
    if report.run_id:
        lines.append(f"run {report.run_id} stored ({report.store})")
    return "\n".join(lines)


# -- HTML -------------------------------------------------------------------------------------------


def _badge(status: str) -> str:
    return f'<span class="badge {esc(status)}">{esc(status)}</span>'


def header_html(report: MonitorReport) -> str:
    stored = (
        f" · run <code>{esc(report.run_id[:8])}</code> stored ({esc(report.store)})"
        if report.run_id
        else " · not stored"
    )
    batch = (
        f" · batch stored as <code>{esc(report.batch_dataset)}</code>"
        if report.batch_dataset
        else ""
    )
    return (
        f"<h3>monitor <code>{esc(report.target)}</code> {_badge(report.status)}</h3>"
        f"<p>{esc(_headline(report))}{stored}{batch} · "
        f"{esc(fmt_value(report.started_at))} UTC, {report.seconds:.2f} s</p>"
    )


def findings_section_html(report: MonitorReport) -> str:
    findings = _findings(report)
    if not findings:
        return "<p class='ok'>All checks passed.</p>"
    rows = [
        (_badge(c.status), c.check, c.column or "", c.message, c.statistic, c.threshold)
        for c in findings
    ]
    return "<h4>Findings</h4>" + table_html(
        ("status", "check", "column", "finding", "statistic", "threshold"),
        rows,
        numeric=("statistic", "threshold"),
        raw=("status",),
    )


def drift_section_html(report: MonitorReport) -> str:
    drift = report.drift
    if drift is None or not drift.columns:
        return ""
    rows = [
        (
            _badge("alert" if d.drifted else ("info" if not d.tested else "ok")),
            d.column,
            d.kind,
            d.test,
            d.statistic if d.tested else None,
            d.threshold if d.tested else None,
            d.p_value,
            d.reason,
        )
        for d in sorted(drift.columns, key=lambda d: (not d.drifted, d.column))
    ]
    title = (
        f"<h4>Data drift: {len(drift.drifted_columns)} of {len(drift.columns)} columns "
        f"({drift.drifted_share:.0%}; dataset drifts at {drift.share_threshold:.0%})</h4>"
    )
    from modelbook.render.drift import drift_charts_html  # inline SVG charts (issue 4)

    head = title + drift_charts_html(drift)
    return head + table_html(
        ("drift", "column", "kind", "test", "statistic", "threshold", "p-value", "why this test"),
        rows,
        numeric=("statistic", "threshold", "p-value"),
        raw=("drift",),
    )


def prediction_drift_section_html(report: MonitorReport) -> str:
    d = report.prediction_drift
    if d is None:
        return ""
    verdict = "drifted" if d.drifted else "no drift"
    return f"<h4>Prediction drift: {esc(verdict)}</h4>" + table_html(
        ("test", "statistic", "threshold", "p-value", "why this test"),
        [(d.test, d.statistic, d.threshold, d.p_value, d.reason)],
        numeric=("statistic", "threshold", "p-value"),
    )


def quality_section_html(report: MonitorReport) -> str:
    if not report.metrics:
        return ""
    rows = []
    for name, value in report.metrics.items():
        registered = next(
            (v for k, v in report.reference_metrics.items() if k.lower() == name), None
        )
        delta = value - registered if registered is not None else None
        rows.append((name, value, registered, delta))
    return "<h4>Quality</h4>" + table_html(
        ("metric", "batch", "registered", "change"),
        rows,
        numeric=("batch", "registered", "change"),
    )


def serving_section_html(report: MonitorReport) -> str:
    s = report.serving
    if not s:
        return ""
    labels = {
        "latency_ms_p50": "one-row predict latency p50 (ms)",
        "latency_ms_p95": "one-row predict latency p95 (ms)",
        "batch_us_per_row_p50": "batch cost per row p50 (µs)",
        "batch_us_per_row_p95": "batch cost per row p95 (µs)",
        "rows_per_second": "batch throughput (rows/s)",
    }
    rows = [(labels.get(k, k), v) for k, v in s.items()]
    return "<h4>Serving cost</h4>" + table_html(("measure", "value"), rows, numeric=("value",))


def environment_section_html(report: MonitorReport) -> str:
    if not report.environment_changes:
        return ""
    rows = [(p, old or "absent", new or "absent") for p, old, new in report.environment_changes]
    return "<h4>Changed since registration</h4>" + table_html(
        ("package", "at registration", "now"), rows
    )


@register_html(MonitorReport)
def _html(report: MonitorReport) -> str:
    return "".join(
        (
            header_html(report),
            findings_section_html(report),
            drift_section_html(report),
            prediction_drift_section_html(report),
            quality_section_html(report),
            serving_section_html(report),
            environment_section_html(report),
        )
    )
