"""Text and self-contained HTML for :class:`~modelbook.monitoring.report.MonitorReport`.

One function per section (header, findings, drift, prediction drift, quality, serving,
environment), so charts can be added to a section without touching the others.
"""

from __future__ import annotations

from collections.abc import Mapping

from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.render.format import fmt_p, fmt_value, plural
from modelbook.render.html import badge, esc, register_html, table_html
from modelbook.render.text import register_text, table_text
from modelbook.render.verdicts import status as drift_status
from modelbook.render.verdicts import verdict

__all__ = [
    "drift_section_html",
    "environment_section_html",
    "findings_section_html",
    "header_html",
    "prediction_drift_section_html",
    "quality_section_html",
    "serving_rows",
    "serving_section_html",
]

MAX_TEXT_FINDINGS = 20


def _headline(report: MonitorReport) -> str:
    parts = [plural(report.n_rows, "row"), f"reference {report.reference}"]
    if report.drift is not None and report.drift.columns:
        n = len(report.drift.drifted_columns)
        tested = sum(c.tested for c in report.drift.columns)
        parts.append(f"{n} of {plural(tested, 'column')} drifted")
    parts.append(plural(len(report.alerts), "alert"))
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
    from modelbook.render.drift import TEXT_COLUMNS, drift_text_rows, ordered, why_notes

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
        columns = ordered(report.drift)
        lines.append(table_text(TEXT_COLUMNS, drift_text_rows(columns)))
        lines.extend(
            f"  {test} ({plural(n, 'column')}): {why}" for test, n, why in why_notes(columns)
        )
    d = report.prediction_drift
    if d is not None:
        lines.append(
            f"prediction drift: {drift_status(d)}, {d.test} p-value {fmt_p(d.p_value) or '—'}: "
            f"{verdict(d)}"
        )
    if report.serving:
        lines.append("serving: " + "; ".join(f"{k} {v}" for k, v in serving_rows(report.serving)))
    if report.run_id:
        lines.append(f"run {report.run_id} stored ({report.store})")
    return "\n".join(lines)


# -- HTML -------------------------------------------------------------------------------------------


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
        f"<h3>monitor <code>{esc(report.target)}</code> {badge(report.status)}</h3>"
        f"<p>{esc(_headline(report))}{stored}{batch} · "
        f"{esc(fmt_value(report.started_at))} UTC, {report.seconds:.2f} s</p>"
    )


def findings_section_html(report: MonitorReport) -> str:
    findings = _findings(report)
    if not findings:
        return f"<p>{badge('ok')} All checks passed.</p>"
    rows = [
        (badge(c.status), c.check, c.column or "", c.message, c.statistic, c.threshold)
        for c in findings
    ]
    return "<h4>Findings</h4>" + table_html(
        ("status", "check", "column", "finding", "statistic", "threshold"),
        rows,
        numeric=("statistic", "threshold"),
        raw=("status",),
    )


def drift_section_html(report: MonitorReport) -> str:
    """Summary, charts (images), and every column with its p-value and verdict."""
    from modelbook.render.drift import drift_html

    drift = report.drift
    if drift is None or not drift.columns:
        return ""
    tested = sum(c.tested for c in drift.columns)
    heading = (
        f"Data drift: {len(drift.drifted_columns)} of {plural(tested, 'column')} "
        f"({drift.drifted_share:.0%}; dataset drifts at {drift.share_threshold:.0%})"
    )
    return drift_html(drift, heading=heading, open_=True)


def prediction_drift_section_html(report: MonitorReport) -> str:
    d = report.prediction_drift
    if d is None:
        return ""
    word = "drifted" if d.drifted else "no drift"
    table = table_html(
        ("drift", "test", "statistic", "threshold", "p-value", "verdict"),
        [(badge(drift_status(d)), d.test, d.statistic, d.threshold, fmt_p(d.p_value), verdict(d))],
        numeric=("statistic", "threshold", "p-value"),
        raw=("drift",),
    )
    why = f"<p>Why this test: {esc(d.reason)}</p>" if d.reason else ""
    return f"<h4>Prediction drift: {esc(word)}</h4>{table}{why}"


def quality_section_html(report: MonitorReport) -> str:
    if not report.metrics:
        return ""
    rows = []
    for name, value in report.metrics.items():
        registered = report.registered_metric(name)
        delta = value - registered if registered is not None else None
        rows.append((name, value, registered, delta))
    return "<h4>Quality</h4>" + table_html(
        ("metric", "batch", "registered", "change"),
        rows,
        numeric=("batch", "registered", "change"),
    )


_SERVING_LABELS = {
    "latency_ms": "one-row predict latency (ms)",
    "batch_us_per_row": "batch cost per row (µs)",
    "rows_per_second": "batch throughput (rows/s)",
}
#: Keys the engine may give with the number of timed samples behind a pair of percentiles.
_SAMPLE_KEYS = {
    "latency_ms": ("latency_samples", "latency_ms_samples"),
    "batch_us_per_row": ("batch_chunks", "batch_samples", "batch_us_per_row_samples"),
}


def serving_rows(serving: Mapping[str, float]) -> list[tuple[str, str]]:
    """(measure, value) rows; a p50/p95 pair from one timed sample is one value, "one sample",
    not two identical percentiles."""
    rows: list[tuple[str, str]] = []
    used: set[str] = set()
    for prefix, label in _SERVING_LABELS.items():
        p50, p95 = serving.get(f"{prefix}_p50"), serving.get(f"{prefix}_p95")
        samples = next((serving[k] for k in _SAMPLE_KEYS.get(prefix, ()) if k in serving), None)
        used.update({f"{prefix}_p50", f"{prefix}_p95", *_SAMPLE_KEYS.get(prefix, ())})
        if prefix in serving:
            rows.append((label, fmt_value(serving[prefix])))
            used.add(prefix)
        elif p50 is not None and p95 is not None and (samples == 1 or p50 == p95):
            rows.append((label, f"{fmt_value(p50)} (one sample)"))
        else:
            n = f" of {plural(int(samples), 'sample')}" if samples else ""
            if p50 is not None:
                rows.append((f"{label}, median{n}", fmt_value(p50)))
            if p95 is not None:
                rows.append((f"{label}, p95{n}", fmt_value(p95)))
    rows += [(k, fmt_value(v)) for k, v in serving.items() if k not in used]
    return rows


def serving_section_html(report: MonitorReport) -> str:
    if not report.serving:
        return ""
    return "<h4>Serving cost</h4>" + table_html(
        ("measure", "value"), serving_rows(report.serving), numeric=("value",)
    )


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
