"""Text, self-contained HTML and charts for :class:`~modelbook.monitoring.timeline.MonitorTimeline`.

The static view, in order: the verdict, notes on the cut, the performance chart (estimated
performance per chunk with its ±3 SE band and the threshold band, realized performance where
labels exist, the registered value as a line, alerting chunks ringed), the drift strip (columns
× chunks, worst columns first, with a row of chunk statuses on top), and one table row per
chunk. Both charts are ``<img>`` data URIs with an ``alt`` that says what they show.

The drift strip is drawn here as compact SVG rather than by Vega-Lite: 100 chunks × 30 columns
are 3,000 cells, which vl-convert writes as ~80 bytes each (~330 KB once base64-encoded); here
cells of one colour share one ``<path>`` (~16 bytes a cell), so the whole page of 100 chunks ×
30 columns stays well under 300 KB (tested).
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Sequence
from typing import Any

from modelbook.monitoring.report import MonitorReport
from modelbook.monitoring.timeline import MonitorTimeline
from modelbook.render.format import plural
from modelbook.render.html import badge, chart_img, esc, register_html, table_html
from modelbook.render.text import register_text, table_text

__all__ = [
    "MAX_HEATMAP_COLUMNS",
    "MAX_TABLE_CHUNKS",
    "heatmap_alt",
    "heatmap_svg",
    "lead_metric",
    "metric_names",
    "performance_alt",
    "performance_spec",
    "period_label",
]

MAX_TABLE_CHUNKS = 200
MAX_TEXT_CHUNKS = 60
MAX_HEATMAP_COLUMNS = 30
_PREFERRED = ("roc_auc", "roc_auc_ovr", "accuracy", "f1", "f1_macro", "mae", "rmse")
_LOWER_IS_BETTER = ("mae", "rmse")

# Heatmap classes: (key, colour, words), by effect ÷ threshold and the drift decision.
_CELLS: tuple[tuple[str, str, str], ...] = (
    ("none", "#eaeef2", "not tested"),
    ("low", "#e3eee0", "effect < ½ threshold"),
    ("mid", "#f3ecd0", "effect ½–1× threshold"),
    ("loud", "#e6cf95", "effect ≥ threshold, not significant"),
    ("drift", "#e5534b", "drifted"),
    ("strong", "#a40e26", "drifted, effect ≥ 3× threshold"),
)
_STATUS_FILL = {"ok": "#6fbf73", "alert": "#cf222e", "error": "#9a6700"}


# --------------------------------------------------------------------------- words


def _unit(result: MonitorTimeline) -> str:
    words = result.chunk.split()
    return "rows" if words[-1] == "rows" else words[-1].rstrip("s")


def period_label(result: MonitorTimeline, report: MonitorReport) -> str:
    """How a chunk is named: 2026-03 (month), 2026-Q1, 2026-03-02 (week / day), 13:00 (hour),
    first–last time (row chunks with a time), or rows a–b."""
    start, end = report.period_start, report.period_end
    unit = _unit(result)
    if start is None:
        first = sum(r.n_rows for r in result.reports[: report.chunk_index or 0])
        return f"rows {first + 1:,}–{first + report.n_rows:,}"
    if unit == "rows":
        same = end is not None and start.date() == end.date()
        fmt = "%Y-%m-%d %H:%M" if same else "%Y-%m-%d"
        return f"{start:{fmt}} – {end:{fmt}}" if end else f"{start:{fmt}}"
    if unit == "year":
        return f"{start:%Y}"
    if unit == "quarter":
        return f"{start:%Y}-Q{(start.month - 1) // 3 + 1}"
    if unit == "month":
        return f"{start:%Y-%m}"
    if unit == "hour":
        return f"{start:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d}"


def timeline_title(result: MonitorTimeline) -> str:
    by = f"{result.chunk} of {result.time}" if result.time else result.chunk
    return f"timeline of {result.target_kind} {result.target} by {by}"


def _headline(result: MonitorTimeline) -> str:
    bad = len(result.alerting_chunks)
    rows = plural(result.n_rows, "row")
    return f"{plural(len(result), 'chunk')}, {rows}: " + (
        "every chunk ok" if not bad else f"{bad} with alerts or errors"
    )


def metric_names(result: MonitorTimeline) -> tuple[str, ...]:
    """Metrics some chunk estimated or measured, the preferred first."""
    seen: dict[str, None] = {}
    for r in result.reports:
        for name in (*r.estimated, *r.metrics):
            seen.setdefault(name, None)
    return tuple(sorted(seen, key=lambda n: _PREFERRED.index(n) if n in _PREFERRED else 99))


def lead_metric(result: MonitorTimeline) -> str | None:
    """The metric the chart and table lead with: estimated if any chunk estimated one."""
    estimated = [n for n in metric_names(result) if any(n in r.estimated for r in result)]
    names = estimated or list(metric_names(result))
    return names[0] if names else None


def _estimate(report: MonitorReport, metric: str) -> dict[str, Any]:
    value = report.estimated.get(metric)
    return dict(value) if value else {}


def _num(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _value(metric: str, value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if metric in _LOWER_IS_BETTER else f"{value:.3f}"


def _estimate_words(report: MonitorReport, metric: str) -> str:
    e = _estimate(report, metric)
    value = _num(e.get("value"))
    if value is None:
        return str(e.get("status", "")) if e else ""
    lo, hi = _num(e.get("lower")), _num(e.get("upper"))
    band = (
        f" ({_value(metric, lo)}–{_value(metric, hi)})" if lo is not None and hi is not None else ""
    )
    return f"{_value(metric, value)}{band}"


def _top_alerts(report: MonitorReport, n: int = 2) -> str:
    alerts = report.alerts
    shown = "; ".join(f"{c.check}{f' [{c.column}]' if c.column else ''}" for c in alerts[:n])
    more = f" +{len(alerts) - n}" if len(alerts) > n else ""
    return shown + more


def _registered(result: MonitorTimeline, metric: str) -> float | None:
    for r in result.reports:
        value = _num(_estimate(r, metric).get("registered"))
        if value is not None:
            return value
    return result.reports[0].registered_metric(metric) if result.reports else None


# --------------------------------------------------------------------------- text


@register_text(MonitorTimeline)
def _timeline_text(result: MonitorTimeline) -> str:
    lines = [f"{timeline_title(result)}: {result.status}, {_headline(result)}"]
    lines += [f"  note: {n}" for n in result.notes]
    metric = lead_metric(result)
    columns = ["chunk", "period", "rows", "status", "drift", "alerts"]
    estimated = metric is not None and any(metric in r.estimated for r in result)
    realized = metric is not None and any(metric in r.metrics for r in result)
    if estimated:
        columns.append(f"est. {metric}")
    if realized:
        columns.append(f"{metric}")
    columns.append("first alerts")
    rows = []
    for r in result.reports[:MAX_TEXT_CHUNKS]:
        row = [
            str(r.chunk_index),
            period_label(result, r),
            f"{r.n_rows:,}",
            r.status.upper() if r.status != "ok" else "ok",
            "" if r.drift_share is None else f"{r.drift_share:.0%}",
            str(len(r.alerts)),
        ]
        if estimated:
            assert metric is not None
            row.append(_estimate_words(r, metric))
        if realized:
            assert metric is not None
            row.append(_value(metric, _num(r.metrics.get(metric))))
        row.append(_top_alerts(r))
        rows.append(row)
    lines.append(table_text(columns, rows))
    if len(result) > MAX_TEXT_CHUNKS:
        lines.append(f"… {plural(len(result) - MAX_TEXT_CHUNKS, 'more chunk')}: use .to_frame()")
    return "\n".join(lines)


# --------------------------------------------------------------------------- performance chart


#: Time-axis labels in the chunk's own unit (Vega-Lite's default mixes "2026" and "February").
_AXIS_FORMAT = {"year": "%Y", "quarter": "%Y-%m", "month": "%Y-%m", "hour": "%m-%d %H:%M"}


def _x(result: MonitorTimeline) -> tuple[dict[str, Any], str]:
    """The x encoding: the chunk's start on a time axis, or its position without a time."""
    if result.time is not None and all(r.period_start is not None for r in result):
        return (
            {"field": "x", "type": "temporal", "title": f"chunk start ({result.time}, UTC)",
             "scale": {"type": "utc"},
             "axis": {"labelOverlap": True,
                      "format": _AXIS_FORMAT.get(_unit(result), "%Y-%m-%d")}},
            "time",
        )  # fmt: skip
    return (
        {"field": "x", "type": "quantitative", "title": "chunk",
         "axis": {"tickMinStep": 1, "format": "~d"}},
        "index",
    )  # fmt: skip


def _xvalue(report: MonitorReport, mode: str) -> Any:
    if mode == "time" and report.period_start is not None:
        return report.period_start.isoformat(timespec="seconds") + "Z"
    return report.chunk_index


def _r(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.5g}")


def performance_spec(
    result: MonitorTimeline, *, metric: str | None = None, width: int = 560
) -> dict[str, Any] | None:
    """Estimated performance of ``metric`` per chunk (±3 SE band, threshold band), realized
    performance, the registered value, alerting chunks ringed; the drift share per chunk when
    no metric was estimated or measured. None with nothing to draw."""
    from modelbook.render.charts import _CONFIG, COLORS, SCHEMA

    metric = metric or lead_metric(result)
    x, mode = _x(result)
    rows: list[dict[str, Any]] = []
    bands: list[dict[str, Any]] = []
    flagged: list[dict[str, Any]] = []
    for r in result.reports:
        xv = _xvalue(r, mode)
        if metric is None:
            share = _r(r.drift_share)
            if share is not None:
                rows.append({"x": xv, "series": "drift share", "value": share})
                if not r.ok:
                    flagged.append({"x": xv, "value": share})
            continue
        e = _estimate(r, metric)
        value = _r(_num(e.get("value")))
        if value is not None:
            rows.append({"x": xv, "series": "estimated", "value": value})
            bands.append(
                {"x": xv, "lower": _r(_num(e.get("lower"))), "upper": _r(_num(e.get("upper"))),
                 "band_lower": _r(_num(e.get("band_lower"))),
                 "band_upper": _r(_num(e.get("band_upper")))}
            )  # fmt: skip
        realized = _r(_num(r.metrics.get(metric)))
        if realized is None:
            realized = _r(_num(e.get("realized")))
        if realized is not None:
            rows.append({"x": xv, "series": "realized", "value": realized})
        alerted = e.get("status") == "alert" or any(
            c.status == "alert" and c.check in (f"quality.{metric}",) for c in r.checks
        )
        if alerted and (value is not None or realized is not None):
            flagged.append({"x": xv, "value": value if value is not None else realized})
    if not rows:
        return None
    values = [v for v in (row["value"] for row in rows) if v is not None]
    values += [v for b in bands for v in b.values() if isinstance(v, float)]
    registered = _r(_registered(result, metric)) if metric else None
    if registered is not None:
        values.append(registered)
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.08, abs(hi) * 0.01, 1e-6)
    y_scale = {"domain": [_r(lo - pad), _r(hi + pad)], "zero": False, "nice": False}
    title = metric if metric else "share of drifted columns"
    y = {"field": "value", "type": "quantitative", "title": title, "scale": y_scale}
    if metric is None:
        y["axis"] = {"format": "~%"}
    palette = {"estimated": COLORS["reference"], "realized": COLORS["current"],
               "drift share": COLORS["reference"]}  # fmt: skip
    series = [s for s in ("estimated", "realized", "drift share") if any(
        row["series"] == s for row in rows)]  # fmt: skip
    color = {
        "field": "series", "type": "nominal", "title": None,
        "scale": {"domain": series, "range": [palette[s] for s in series]},
    }  # fmt: skip
    layers: list[dict[str, Any]] = []
    if any(b["band_lower"] is not None for b in bands):
        layers.append(
            {"data": {"values": [b for b in bands if b["band_lower"] is not None]},
             "mark": {"type": "area", "color": "#8c959f", "opacity": 0.18,
                      "interpolate": "step-after"},
             "encoding": {"x": x, "y": {"field": "band_lower", "type": "quantitative",
                                        "scale": y_scale, "title": title},
                          "y2": {"field": "band_upper"}}}
        )  # fmt: skip
    if any(b["lower"] is not None for b in bands):
        layers.append(
            {"data": {"values": [b for b in bands if b["lower"] is not None]},
             "mark": {"type": "area", "color": COLORS["reference"], "opacity": 0.22},
             "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative",
                                        "scale": y_scale, "title": title},
                          "y2": {"field": "upper"}}}
        )  # fmt: skip
    layers += [
        {"data": {"values": rows}, "mark": {"type": "line", "strokeWidth": 1.6},
         "encoding": {"x": x, "y": y, "color": color}},
        {"data": {"values": rows}, "mark": {"type": "point", "filled": True, "size": 22},
         "encoding": {"x": x, "y": y, "color": color}},
    ]  # fmt: skip
    if registered is not None:
        layers.append(
            {"data": {"values": [{"value": registered}]},
             "mark": {"type": "rule", "strokeDash": [5, 3], "color": "#333"},
             "encoding": {"y": {"field": "value", "type": "quantitative", "scale": y_scale}}}
        )  # fmt: skip
    ring = 140 if len(result) <= 30 else 60
    if flagged:
        layers.append(
            {"data": {"values": flagged},
             "mark": {"type": "point", "filled": False, "size": ring, "strokeWidth": 1.6,
                      "color": COLORS["drifted"]},
             "encoding": {"x": x, "y": {"field": "value", "type": "quantitative",
                                        "scale": y_scale}}}
        )  # fmt: skip
    subtitle = []
    if metric and bands:
        subtitle.append("line: estimate; blue band: ±3 SE; grey band: expected range (threshold)")
    if registered is not None:
        subtitle.append(f"dashed: registered {_value(metric or '', registered)}")
    if flagged:
        subtitle.append("red rings: alerts")
    return {
        "$schema": SCHEMA,
        "config": _CONFIG,
        "title": {"text": f"{title} per chunk", "subtitle": "; ".join(subtitle)[:120] or None},
        "width": width,
        "height": 170,
        "layer": layers,
    }


def performance_alt(result: MonitorTimeline, *, metric: str | None = None) -> str:
    metric = metric or lead_metric(result)
    n = plural(len(result), "chunk")
    if metric is None:
        shares = [r.drift_share for r in result if r.drift_share is not None]
        if not shares:
            return ""
        return (
            f"share of drifted columns over {n} by {result.chunk}: from {shares[0]:.0%} to "
            f"{shares[-1]:.0%}, highest {max(shares):.0%}"
        )
    parts = []
    series: dict[str, list[tuple[int | None, float | None]]] = {
        "estimated": [(r.chunk_index, _num(_estimate(r, metric).get("value"))) for r in result],
        "realized": [(r.chunk_index, _num(r.metrics.get(metric))) for r in result],
    }
    for label, pairs in series.items():
        values = [(i, v) for i, v in pairs if v is not None]
        if values:
            low = min(values, key=lambda p: p[1])
            parts.append(
                f"{label} {metric} from {_value(metric, values[0][1])} to "
                f"{_value(metric, values[-1][1])} (lowest {_value(metric, low[1])} in chunk "
                f"{low[0]})"
            )
    registered = _registered(result, metric)
    if registered is not None:
        parts.append(f"registered {_value(metric, registered)}")
    alerts = [r.chunk_index for r in result if _estimate(r, metric).get("status") == "alert"]
    if alerts:
        parts.append(f"estimate outside its expected range in chunks {_listed(alerts)}")
    return f"{metric} per chunk over {n} by {result.chunk}: " + "; ".join(parts)


def _listed(values: Sequence[Any], cap: int = 12) -> str:
    shown = ", ".join(str(v) for v in values[:cap])
    return shown + (f" and {len(values) - cap} more" if len(values) > cap else "")


# --------------------------------------------------------------------------- drift strip


def _cell(column: Any) -> str:
    from modelbook.render.verdicts import effect_ratio

    if column is None or not column.tested:
        return "none"
    ratio = effect_ratio(column) or 0.0
    if column.drifted:
        return "strong" if ratio >= 3 else "drift"
    if ratio >= 1:
        return "loud"
    return "mid" if ratio >= 0.5 else "low"


def _esc(text: str) -> str:
    return _html.escape(text, quote=True)


def heatmap_svg(
    result: MonitorTimeline, *, max_columns: int = MAX_HEATMAP_COLUMNS, ink: str = "#1f2328"
) -> str:
    """Columns × chunks, worst columns first, one cell per column and chunk coloured by its
    drift decision and effect ÷ threshold, a row of chunk statuses on top. "" without drift."""
    names = list(result.drift_columns)[:max_columns]
    if not names or not result.reports:
        return ""
    n = len(result.reports)
    label_w = min(160, 12 + 6 * max(len(s) for s in [*names, "chunk status"]))
    width = 640
    cell_w = max(2.0, min(48.0, (width - label_w - 8) / n))
    cell_h = 12 if len(names) <= 30 else 9
    top = 18
    grid_top = top + cell_h + 4
    height = grid_top + cell_h * len(names) + 56
    paths: dict[str, list[str]] = {}

    def rect(key: str, x: float, y: float, w: float, h: float) -> None:
        paths.setdefault(key, []).append(f"M{x:.1f} {y:.0f}h{w:.1f}v{h:.0f}h-{w:.1f}z")

    gap = 1.0 if cell_w >= 4 else 0.0
    for j, r in enumerate(result.reports):
        x = label_w + j * cell_w
        rect(f"status:{r.status}", x, top, cell_w - gap, cell_h)
        by_name = {c.column: c for c in r.drift.columns} if r.drift is not None else {}
        for i, name in enumerate(names):
            rect(_cell(by_name.get(name)), x, grid_top + i * cell_h, cell_w - gap, cell_h - 1)
    colours = {key: colour for key, colour, _ in _CELLS}
    colours.update({f"status:{k}": v for k, v in _STATUS_FILL.items()})
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10" fill="{ink}">',
        f'<text x="0" y="11" font-weight="bold">drift per column and chunk '
        f"(worst first{', top ' + str(max_columns) if len(result.drift_columns) > max_columns else ''})</text>",
    ]
    for key, d in paths.items():
        parts.append(f'<path fill="{colours.get(key, "#cccccc")}" d="{"".join(d)}"/>')
    parts.append(
        f'<text x="{label_w - 4}" y="{top + cell_h - 2}" text-anchor="end">chunk status</text>'
    )
    for i, name in enumerate(names):
        y = grid_top + i * cell_h + cell_h - 3
        shown = name if len(name) <= 24 else name[:23] + "…"
        parts.append(f'<text x="{label_w - 4}" y="{y}" text-anchor="end">{_esc(shown)}</text>')
    # x labels at chunk starts: as many as fit without touching (≈ 5.5 px a character)
    labels = [
        (period_label(result, r) if result.time else str(j)).split(" – ")[0]
        for j, r in enumerate(result.reports)
    ]
    widest = 5.5 * max(len(label) for label in labels) + 6
    step = max(1, math.ceil(n / 8), math.ceil(widest / cell_w))
    base_y = grid_top + cell_h * len(names) + 11
    for j in range(0, n, step):
        x = label_w + j * cell_w
        label = labels[j]
        if x + 5.5 * len(label) <= width:
            parts.append(f'<text x="{x:.1f}" y="{base_y}">{_esc(label)}</text>')
    # legend, wrapped to the width
    x, y = 0.0, base_y + 16
    for _, colour, words in _CELLS:
        size = 16 + 5.3 * len(words)
        if x + size > width:
            x, y = 0.0, y + 13
        parts.append(f'<rect x="{x:.0f}" y="{y - 8}" width="9" height="9" fill="{colour}"/>')
        parts.append(f'<text x="{x + 12:.0f}" y="{y}">{_esc(words)}</text>')
        x += size
    parts.append("</svg>")
    return "".join(parts)


def heatmap_alt(result: MonitorTimeline, *, max_columns: int = MAX_HEATMAP_COLUMNS) -> str:
    names = list(result.drift_columns)
    if not names:
        return ""
    counts = []
    for name in names[:5]:
        k = sum(
            1
            for r in result
            for c in (r.drift.columns if r.drift is not None else ())
            if c.column == name and c.drifted
        )
        counts.append(f"{name} drifted in {k} of {len(result)}")
    more = (
        f"; {len(names) - max_columns} more columns not drawn" if len(names) > max_columns else ""
    )
    return (
        f"drift of {plural(min(len(names), max_columns), 'column')} × {plural(len(result), 'chunk')}"
        f", worst first: {', '.join(counts)}{more}"
    )


# --------------------------------------------------------------------------- HTML


def charts_html(result: MonitorTimeline, *, metric: str | None = None) -> str:
    """Both charts as ``<img>`` data URIs."""
    from modelbook.render.charts import to_svg

    out = []
    spec = performance_spec(result, metric=metric)
    if spec is not None:
        out.append(f"<div>{chart_img(to_svg(spec), performance_alt(result, metric=metric))}</div>")
    strip = heatmap_svg(result)
    if strip:
        out.append(f"<div>{chart_img(strip, heatmap_alt(result))}</div>")
    return "".join(out)


def header_html(result: MonitorTimeline) -> str:
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    return (
        f"<h3>{esc(timeline_title(result))} {badge(result.status)}</h3>"
        f"<p>{esc(_headline(result))}; reference {esc(result.reference or '—')}</p>"
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def table_section_html(result: MonitorTimeline) -> str:
    metric = lead_metric(result)
    estimated = metric is not None and any(metric in r.estimated for r in result)
    realized = metric is not None and any(metric in r.metrics for r in result)
    columns = ["chunk", "period", "rows", "status", "drift share", "alerts"]
    if estimated:
        columns.append(f"estimated {metric}")
    if realized:
        columns.append(f"realized {metric}")
    columns.append("first alerts")
    rows = []
    for r in result.reports[:MAX_TABLE_CHUNKS]:
        row: list[Any] = [
            r.chunk_index, period_label(result, r), r.n_rows, badge(r.status),
            "" if r.drift_share is None else f"{r.drift_share:.0%}", len(r.alerts),
        ]  # fmt: skip
        if estimated:
            assert metric is not None
            row.append(_estimate_words(r, metric))
        if realized:
            assert metric is not None
            row.append(_value(metric, _num(r.metrics.get(metric))))
        row.append(_top_alerts(r))
        rows.append(row)
    more = (
        f"<p>… {plural(len(result) - MAX_TABLE_CHUNKS, 'more chunk')}: use .to_frame()</p>"
        if len(result) > MAX_TABLE_CHUNKS
        else ""
    )
    numeric = ["chunk", "rows", "drift share", "alerts"]
    return "<h4>Chunks</h4>" + table_html(columns, rows, numeric=numeric, raw=("status",)) + more


@register_html(MonitorTimeline)
def _timeline_html(result: MonitorTimeline) -> str:
    return header_html(result) + charts_html(result) + table_section_html(result)
