"""Text and self-contained HTML for :class:`~modelbook.monitoring.report.MonitorReport`.

One function per section (header, findings, drift, prediction drift, quality, serving,
environment), so charts can be added to a section without touching the others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.render.format import fmt_p, fmt_value, plural
from modelbook.render.html import badge, esc, register_html, table_html
from modelbook.render.multivariate import multivariate_section_html, multivariate_text_lines
from modelbook.render.segments import (
    fairness_headline,
    fairness_section_html,
    fairness_text_lines,
    segments_section_html,
    segments_text_lines,
    worst_segment,
)
from modelbook.render.text import register_text, table_text
from modelbook.render.verdicts import status as drift_status
from modelbook.render.verdicts import verdict

__all__ = [
    "drift_section_html",
    "environment_section_html",
    "estimate_line",
    "estimated_alt",
    "estimated_rows",
    "estimated_section_html",
    "estimated_spec",
    "fairness_section_html",
    "findings_section_html",
    "header_html",
    "multivariate_section_html",
    "prediction_drift_section_html",
    "quality_section_html",
    "segments_section_html",
    "serving_rows",
    "serving_section_html",
]

MAX_TEXT_FINDINGS = 20


#: How metrics are named in sentences (report.estimated keys are modelbook's metric names).
METRIC_LABELS = {
    "roc_auc": "ROC AUC",
    "roc_auc_ovr": "ROC AUC (one-vs-rest)",
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "precision_macro": "precision (macro)",
    "recall_macro": "recall (macro)",
    "f1_macro": "F1 (macro)",
    "mae": "MAE",
    "rmse": "RMSE",
}
_LEAD = ("roc_auc", "roc_auc_ovr", "mae")  # the metric the summary leads with, when estimated


def _metric_value(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}" if name in ("mae", "rmse") else f"{value:.3f}"


def _alerted(e: Mapping[str, Any]) -> str:
    return "beyond its allowed drop" if e.get("rule") == "drop" else "outside its band"


def estimate_line(report: MonitorReport) -> str | None:
    """The summary's lead: "estimated ROC AUC 0.912 (0.905–0.919), registered 0.970"."""
    if not report.estimated:
        return None
    name = next((m for m in _LEAD if m in report.estimated), next(iter(report.estimated)))
    e = report.estimated[name]
    label = METRIC_LABELS.get(name, name)
    if e.get("value") is None:
        return f"estimated {label}: insufficient ({e.get('reason') or 'too few rows'})"
    text = f"estimated {label} {_metric_value(name, e['value'])}"
    if e.get("lower") is not None and e.get("upper") is not None:
        text += f" ({_metric_value(name, e['lower'])}–{_metric_value(name, e['upper'])})"
    if e.get("registered") is not None:
        text += f", {e.get('registered_kind') or 'registered'} "
        text += _metric_value(name, e["registered"])
    if e.get("status") == "alert":
        text += f", {_alerted(e)}"
    others = [m for m, o in report.estimated.items() if m != name and o.get("status") == "alert"]
    for other in others[:2]:
        o = report.estimated[other]
        label = METRIC_LABELS.get(other, other)
        text += f"; {label} {_metric_value(other, o.get('value'))} {_alerted(o)}"
    if len(others) > 2:
        text += f" (and {len(others) - 2} more)"
    return text


def estimated_rows(report: MonitorReport) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of the estimates as words: realized beside estimated when labels came."""
    realized = any(e.get("realized") is not None for e in report.estimated.values())
    kinds = {e.get("registered_kind") for e in report.estimated.values()} - {None}
    base = "measured" if kinds == {"measured"} else "registered / measured"
    base = "registered" if kinds == {"registered"} else base
    columns = ["status", "metric", "estimated", "±3 SE", "band"]
    columns += ["realized"] if realized else []
    columns += [base]
    rows = []
    for name, e in report.estimated.items():

        def v(key: str, name: str = name, e: Mapping[str, Any] = e) -> str:
            return _metric_value(name, e.get(key))

        status = str(e.get("status") or "info")
        row = [
            status,
            METRIC_LABELS.get(name, name),
            v("value") if e.get("value") is not None else f"insufficient: {e.get('reason')}",
            f"{v('lower')}–{v('upper')}" if e.get("lower") is not None else "—",
            f"{v('band_lower')}–{v('band_upper')}" if e.get("band_lower") is not None else "—",
        ]
        row += [v("realized")] if realized else []
        row += [v("registered")]
        rows.append(row)
    return columns, rows


def _when(moment: Any) -> str:
    """A period edge: the date alone at midnight (month/week/day chunks), else to the second."""
    text = str(moment.isoformat(sep=" ", timespec="seconds"))
    return text[:10] if text.endswith("00:00:00") else text


def _headline(report: MonitorReport) -> str:
    lead = estimate_line(report)
    parts = [lead] if lead else []
    parts += [plural(report.n_rows, "row"), f"reference {report.reference}"]
    log = report.prediction_log
    if log:  # issue 12: each row's id, prediction and score kept (monitoring/predlog.py)
        parts.append(f"prediction log: {plural(int(log['rows']), 'row')} by {log['id_column']}")
    if report.period_start is not None and report.period_end is not None:
        chunk = f"chunk {report.chunk_index}: " if report.chunk_index is not None else ""
        parts.append(f"{chunk}{_when(report.period_start)} – {_when(report.period_end)}")
    if report.drift is not None and report.drift.columns:
        n = len(report.drift.drifted_columns)
        tested = sum(c.tested for c in report.drift.columns)
        parts.append(f"{n} of {plural(tested, 'column')} drifted")
    worst = worst_segment(report)  # issue 13: the worst segment and the first fairness gap
    if worst:
        parts.append(f"worst segment {worst}")
    gap = fairness_headline(report)
    if gap:
        parts.append(f"fairness: {gap}")
    parts.append(plural(len(report.alerts), "alert"))
    return ", ".join(parts)


def _findings(report: MonitorReport) -> list[CheckResult]:
    """Checks worth a look: alerts and errors first, then information."""
    order = {"error": 0, "alert": 1, "info": 2}
    # Shown in their own sections.
    sections = ("drift.column", "quality.", "serving.", "performance.estimated.")
    # A segment's own checks are in the segments section; its slice's `segments.<key>` check
    # (one per slice) stands for them here, so 100 segments do not flood the findings.
    found = [
        c
        for c in report.checks
        if c.status in order
        and (c.status != "info" or not c.check.startswith(sections))
        and c.check != "drift.column"
        and not c.check.startswith("segment.")
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
    if report.estimated:
        est_columns, est_rows = estimated_rows(report)
        lines.append("estimated performance (without labels):")
        lines.append(table_text(est_columns, est_rows))
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
    lines.extend(multivariate_text_lines(report))
    lines.extend(segments_text_lines(report))
    lines.extend(fairness_text_lines(report))
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


def estimated_spec(report: MonitorReport) -> dict[str, Any]:
    """Per metric: the threshold band (grey bar), the estimate with ±3 SE (dot and line; red
    when outside its band), the realized value (orange diamond) and the measured one (tick)."""
    from modelbook.render.charts import COLORS, SCHEMA

    rows = []
    for name, e in report.estimated.items():
        if e.get("value") is None:
            continue
        rows.append(
            {
                "metric": METRIC_LABELS.get(name, name),
                "value": e["value"],
                "lower": e.get("lower", e["value"]),
                "upper": e.get("upper", e["value"]),
                "band_lower": e.get("band_lower"),
                "band_upper": e.get("band_upper"),
                "realized": e.get("realized"),
                "registered": e.get("registered"),
                "outside": e.get("status") == "alert",
            }
        )
    order = [r["metric"] for r in rows]
    y = {"field": "metric", "type": "nominal", "title": None, "sort": order}
    regression = all(m in ("mae", "rmse") for m in report.estimated)
    x_scale: dict[str, Any] = {"zero": False}
    if not regression:  # from a tenth below the lowest value drawn to 1
        keys = ("lower", "band_lower", "realized", "registered")
        low = min([r[k] for r in rows for k in keys if r[k] is not None] or [0.0])
        x_scale = {"domain": [max(0.0, math.floor(low * 10 - 0.5) / 10), 1.0]}
    x = {"field": "value", "type": "quantitative", "title": None, "scale": x_scale}
    color = {
        "condition": {"test": "datum.outside", "value": COLORS["drifted"]},
        "value": COLORS["reference"],
    }
    layers: list[dict[str, Any]] = [
        {
            "transform": [{"filter": "isValid(datum.band_lower)"}],
            "mark": {"type": "bar", "color": "#8c959f", "opacity": 0.3, "height": 14},
            "encoding": {
                "y": y, "x": {**x, "field": "band_lower"}, "x2": {"field": "band_upper"}
            },
        },
        {
            "mark": {"type": "rule", "strokeWidth": 2},
            "encoding": {
                "y": y, "x": {**x, "field": "lower"}, "x2": {"field": "upper"}, "color": color
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 50},
            "encoding": {"y": y, "x": x, "color": color},
        },
        {
            "transform": [{"filter": "isValid(datum.realized)"}],
            "mark": {"type": "point", "shape": "diamond", "filled": True, "size": 60,
                     "color": COLORS["current"]},
            "encoding": {"y": y, "x": {**x, "field": "realized"}},
        },
        {
            "transform": [{"filter": "isValid(datum.registered)"}],
            "mark": {"type": "tick", "color": "#24292f", "thickness": 2, "size": 14},
            "encoding": {"y": y, "x": {**x, "field": "registered"}},
        },
    ]  # fmt: skip
    return {
        "$schema": SCHEMA,
        "config": {"aria": False, "view": {"stroke": None}, "axis": {"labelFontSize": 10}},
        "title": {
            "text": "estimated ± 3 SE (red: outside its band)",
            "subtitle": "grey: threshold band · tick: measured/registered · diamond: realized",
            "fontSize": 11,
            "subtitleFontSize": 10,
            "anchor": "start",
        },
        "width": 320,
        "height": {"step": 20},
        "data": {"values": rows},
        "layer": layers,
    }


def estimated_alt(report: MonitorReport) -> str:
    """What the estimates chart shows, in words (the ``alt`` of its image)."""
    parts = []
    for name, e in report.estimated.items():
        if e.get("value") is None:
            continue
        label = METRIC_LABELS.get(name, name)
        text = f"{label} {_metric_value(name, e['value'])}"
        if e.get("band_lower") is not None and e.get("band_upper") is not None:
            where = "outside" if e.get("status") == "alert" else "inside"
            text += (
                f" {where} band {_metric_value(name, e['band_lower'])}–"
                f"{_metric_value(name, e['band_upper'])}"
            )
        if e.get("realized") is not None:
            text += f", realized {_metric_value(name, e['realized'])}"
        parts.append(text)
    return "estimated performance with ±3 SE and threshold band: " + "; ".join(parts)


def _estimated_chart_html(report: MonitorReport) -> str:
    from modelbook.render.charts import to_svg
    from modelbook.render.html import chart_img

    if not any(e.get("value") is not None for e in report.estimated.values()):
        return ""
    return chart_img(to_svg(estimated_spec(report)), estimated_alt(report))


def estimated_section_html(report: MonitorReport) -> str:
    """Estimated performance: value, ±3 SE, threshold band, realized (with labels), measured."""
    if not report.estimated:
        return ""
    columns, rows = estimated_rows(report)
    realized = "realized" in columns
    cells = [[badge("info" if r[0] == "insufficient" else r[0]), *r[1:]] for r in rows]
    heading = "Estimated and realized performance" if realized else "Estimated performance"
    first = next(iter(report.estimated.values()))
    evaluation = first.get("evaluation")
    how = first.get("band_how")
    note = (
        "Estimated without labels from the model's outputs, with what was fitted on the "
        f"evaluation set{f' {evaluation}' if evaluation else ''} at registration; ±3 SE is the "
        "estimate's sampling error at this batch size, the band the spread of the realized "
        f"metric on evaluation chunks of this size{f' ({how})' if how else ''}. An estimate "
        "outside its band alerts. It assumes no concept drift (labels that depend on the "
        "inputs as they did): compare with realized performance when labels arrive."
    )
    return (
        f"<h4>{esc(heading)}</h4>"
        + table_html(columns, cells, numeric=columns[2:], raw=("status",))
        + _estimated_chart_html(report)
        + f"<p>{esc(note)}</p>"
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
            estimated_section_html(report),
            findings_section_html(report),
            drift_section_html(report),
            multivariate_section_html(report),
            prediction_drift_section_html(report),
            quality_section_html(report),
            segments_section_html(report),
            fairness_section_html(report),
            serving_section_html(report),
            environment_section_html(report),
        )
    )
