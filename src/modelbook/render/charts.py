"""Vega-Lite specs as pure functions of results, and their SVG for self-contained HTML.

Specs are plain dicts (no altair at run time: importing it costs seconds, and a dict is what
golden tests compare); :func:`to_svg` renders one with vl-convert, offline, and makes the SVG's
element ids unique so several charts can share one HTML page. Numbers are rounded to six
significant digits so specs are stable byte for byte and stay small.

Numeric distributions are drawn from the profile histogram (reference-quantile bins): adjacent
fine bins are merged into at most :data:`MAX_BARS` display bins (merging contiguous bins is
exact) and plotted as density (share ÷ bin width), so equal-mass bins do not look flat. The
open-ended bins below the first and above the last edge are drawn one bin-width wide (one unit
for integer columns, whose top bin holds the largest value).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelbook.run_history import HistoryReport
    from modelbook.stats.drift import ColumnDrift, DatasetDrift

__all__ = [
    "COLORS",
    "MAX_BARS",
    "MAX_CATEGORIES",
    "SCHEMA",
    "distribution_spec",
    "distributions_spec",
    "drift_overview_spec",
    "drift_score",
    "history_chart_html",
    "history_spec",
    "metrics_spec",
    "to_svg",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
VL_VERSION = "6.4"
MAX_BARS = 30
MAX_CATEGORIES = 15
COLORS = {"reference": "#4c78a8", "current": "#f58518", "drifted": "#cf222e", "ok": "#8c959f"}
_CONFIG: dict[str, Any] = {
    "aria": False,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 10, "titleFontSize": 10, "tickCount": 5},
    "legend": {"labelFontSize": 10, "titleFontSize": 10, "orient": "top"},
    "title": {"fontSize": 11, "anchor": "start"},
}


def _r(value: float | None) -> float | None:
    """Six significant digits; None for missing, NaN and infinities (JSON has none)."""
    if value is None or not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return float(f"{value:.6g}")


def _spec(body: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "config": _CONFIG, **body}


def drift_score(column: ColumnDrift) -> float | None:
    """The statistic relative to its threshold: ≥ 1 means the effect size alone would drift.

    For p-value tests (``ks``, ``chisquare``) it is −log10(p) ÷ −log10(threshold), so the same
    "≥ 1" reading holds; None for untested columns.
    """
    if not column.tested or not math.isfinite(column.threshold) or column.threshold <= 0:
        return None
    if column.test in ("ks", "chisquare"):
        p = column.p_value if column.p_value is not None else 1.0
        denominator = -math.log10(column.threshold)
        return min(-math.log10(max(p, 1e-300)) / denominator, 1e3) if denominator > 0 else None
    if not math.isfinite(column.statistic):
        return None
    return column.statistic / column.threshold


# --------------------------------------------------------------------------- distributions


def _display_bins(
    edges: Sequence[float], ref: Sequence[int], cur: Sequence[int]
) -> list[tuple[float, float, float, float]]:
    """Interior bins as (lo, hi, reference count, current count), at most MAX_BARS of them.

    With more fine bins than that, their counts are spread uniformly over equal-width display
    bins by overlap (a display approximation; the statistics never use it).
    """
    n = len(edges) - 1
    if n <= MAX_BARS:
        return [(edges[j], edges[j + 1], ref[j + 1], cur[j + 1]) for j in range(n)]
    lo, hi = edges[0], edges[-1]
    step = (hi - lo) / MAX_BARS
    r_out, c_out = [0.0] * MAX_BARS, [0.0] * MAX_BARS
    for j in range(n):
        a, b = edges[j], edges[j + 1]
        first = min(int((a - lo) / step), MAX_BARS - 1)
        last = min(int((b - lo) / step), MAX_BARS - 1)
        for k in range(first, last + 1):
            overlap = min(b, lo + (k + 1) * step) - max(a, lo + k * step)
            if overlap > 0:
                share = overlap / (b - a)
                r_out[k] += ref[j + 1] * share
                c_out[k] += cur[j + 1] * share
    return [(lo + k * step, lo + (k + 1) * step, r_out[k], c_out[k]) for k in range(MAX_BARS)]


def _numeric_rows(column: ColumnDrift) -> list[dict[str, Any]]:
    edges = list(column.bin_edges)
    ref, cur = column.reference_counts, column.current_counts
    n_ref, n_cur = sum(ref) or 1, sum(cur) or 1
    if not edges or len(ref) != len(edges) + 1 or len(cur) != len(ref):
        return []
    integer = all(float(e).is_integer() for e in edges)
    span = edges[-1] - edges[0]
    step = 1.0 if integer or span <= 0 else span / min(MAX_BARS, len(edges) - 1)
    bins: list[tuple[float, float, float, float]] = []
    if ref[0] or cur[0]:
        bins.append((edges[0] - step, edges[0], ref[0], cur[0]))
    bins.extend(_display_bins(edges, ref, cur))
    if ref[-1] or cur[-1]:
        bins.append((edges[-1], edges[-1] + step, ref[-1], cur[-1]))
    rows = []
    for lo, hi, r, c in bins:
        width = hi - lo if hi > lo else 1.0
        for label, count, total in (("reference", r, n_ref), ("current", c, n_cur)):
            rows.append(
                {
                    "set": label,
                    "start": _r(lo),
                    "end": _r(hi),
                    "density": _r(count / total / width),
                }
            )
    return rows


def _categorical_rows(column: ColumnDrift) -> list[dict[str, Any]]:
    labels = list(column.bin_labels)
    ref, cur = list(column.reference_counts), list(column.current_counts)
    if not labels or len(labels) != len(ref) or len(ref) != len(cur):
        return []
    n_ref, n_cur = sum(ref) or 1, sum(cur) or 1
    order = sorted(range(len(labels)), key=lambda i: (-(ref[i] / n_ref + cur[i] / n_cur), i))
    keep, rest = order[:MAX_CATEGORIES], order[MAX_CATEGORIES:]
    items = [(labels[i], ref[i], cur[i]) for i in keep]
    if rest:
        items.append((f"({len(rest)} more)", sum(ref[i] for i in rest), sum(cur[i] for i in rest)))
    rows = []
    for rank, (label, r, c) in enumerate(items):
        rows.append({"set": "reference", "value": label, "rank": rank, "share": _r(r / n_ref)})
        rows.append({"set": "current", "value": label, "rank": rank, "share": _r(c / n_cur)})
    return rows


def _color() -> dict[str, Any]:
    return {
        "field": "set",
        "type": "nominal",
        "title": None,
        "scale": {
            "domain": ["reference", "current"],
            "range": [COLORS["reference"], COLORS["current"]],
        },
    }


def _subtitle(column: ColumnDrift) -> str:
    status = "drifted" if column.drifted else ("not tested" if not column.tested else "ok")
    if not column.tested:
        return status
    return f"{column.test} = {_r(column.statistic)} (threshold {_r(column.threshold)}): {status}"


def _distribution_layer(column: ColumnDrift, width: int, height: int) -> dict[str, Any]:
    title = {"text": column.column, "subtitle": _subtitle(column)}
    if column.kind in ("numeric", "datetime"):
        return {
            "title": title,
            "width": width,
            "height": height,
            "data": {"values": _numeric_rows(column)},
            "mark": {"type": "rect", "opacity": 0.55},
            "encoding": {
                "x": {"field": "start", "type": "quantitative", "title": None},
                "x2": {"field": "end"},
                "y": {"field": "density", "type": "quantitative", "title": "density"},
                "color": _color(),
            },
        }
    rows = _categorical_rows(column)
    n_values = len({r["value"] for r in rows})
    return {
        "title": title,
        "width": width,
        "height": max(height, 14 * n_values),
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {
                "field": "value",
                "type": "nominal",
                "title": None,
                "sort": {"field": "rank", "order": "ascending"},
            },
            "yOffset": {"field": "set", "sort": ["reference", "current"]},
            "x": {
                "field": "share",
                "type": "quantitative",
                "title": "share",
                "axis": {"format": "%"},
            },
            "color": _color(),
        },
    }


def distribution_spec(
    column: ColumnDrift, *, width: int = 320, height: int = 140
) -> dict[str, Any]:
    """Reference and current distributions of one column, overlaid."""
    return _spec(_distribution_layer(column, width, height))


def distributions_spec(
    columns: Sequence[ColumnDrift], *, width: int = 220, height: int = 100, per_row: int = 3
) -> dict[str, Any]:
    """Several columns' distributions in one chart (one SVG render instead of one per column)."""
    return _spec(
        {
            "concat": [_distribution_layer(c, width, height) for c in columns],
            "columns": per_row,
            "resolve": {"scale": {"x": "independent", "y": "independent"}},
        }
    )


# --------------------------------------------------------------------------- overview


def drift_overview_spec(
    drift: DatasetDrift, *, limit: int = 25, width: int = 360
) -> dict[str, Any]:
    """Columns with the highest drift score (statistic ÷ threshold), drifted ones in red."""
    scored = [(c, s) for c in drift.columns if (s := drift_score(c)) is not None]
    scored.sort(key=lambda cs: (-cs[1], cs[0].column))
    shown = scored[:limit]
    values = [
        {
            "column": c.column,
            "score": _r(s),
            "status": "drifted" if c.drifted else "ok",
            "test": c.test,
        }
        for c, s in shown
    ]
    hidden = len(scored) - len(shown)
    subtitle = f"top {len(shown)} of {len(scored)} tested columns" if hidden else None
    title: dict[str, Any] = {"text": "drift score (statistic ÷ threshold)"}
    if subtitle:
        title["subtitle"] = subtitle
    return _spec(
        {
            "title": title,
            "width": width,
            "height": {"step": 14},
            "data": {"values": values},
            "layer": [
                {
                    "mark": {"type": "bar"},
                    "encoding": {
                        "y": {
                            "field": "column",
                            "type": "nominal",
                            "title": None,
                            "sort": {"field": "score", "order": "descending"},
                        },
                        "x": {"field": "score", "type": "quantitative", "title": None},
                        "color": {
                            "field": "status",
                            "type": "nominal",
                            "title": None,
                            "scale": {
                                "domain": ["drifted", "ok"],
                                "range": [COLORS["drifted"], COLORS["ok"]],
                            },
                        },
                    },
                },
                {
                    "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#333"},
                    "encoding": {"x": {"datum": 1}},
                },
            ],
        }
    )


# --------------------------------------------------------------------------- history


def history_spec(
    report: HistoryReport, *, metrics: Sequence[str] | None = None, width: int = 420
) -> dict[str, Any]:
    """Drift share and metrics over monitor runs (oldest to newest), alert runs in red."""
    names = list(report.metric_names if metrics is None else metrics)
    runs = list(reversed(report.runs))
    drift_rows = [
        {
            "started": r.started_at.isoformat(timespec="seconds"),
            "value": _r(r.drift_share),
            "status": r.status,
            "version": r.version,
        }
        for r in runs
        if r.drift_share is not None
    ]
    metric_rows = [
        {
            "started": r.started_at.isoformat(timespec="seconds"),
            "metric": m,
            "value": _r(float(r.metrics[m])),
            "status": r.status,
        }
        for r in runs
        for m in names
        if isinstance(r.metrics.get(m), (int, float))
    ]
    x = {"field": "started", "type": "temporal", "title": None}
    status_color = {
        "field": "status",
        "type": "nominal",
        "title": "run",
        "scale": {
            "domain": ["ok", "alert", "error"],
            "range": [COLORS["ok"], COLORS["drifted"], "#9a6700"],
        },
    }
    panels: list[dict[str, Any]] = [
        {
            "title": "share of drifted columns",
            "width": width,
            "height": 110,
            "data": {"values": drift_rows},
            "layer": [
                {"mark": {"type": "line", "color": COLORS["reference"]}, "encoding": {
                    "x": x, "y": {"field": "value", "type": "quantitative", "title": None,
                                  "axis": {"format": "%"}}}},
                {"mark": {"type": "point", "filled": True, "size": 45}, "encoding": {
                    "x": x, "y": {"field": "value", "type": "quantitative"},
                    "color": status_color}},
            ],
        }
    ]  # fmt: skip
    if metric_rows:
        panels.append(
            {
                "title": "metrics",
                "width": width,
                "height": 110,
                "data": {"values": metric_rows},
                "layer": [
                    {"mark": {"type": "line"}, "encoding": {
                        "x": x, "y": {"field": "value", "type": "quantitative", "title": None},
                        "strokeDash": {"field": "metric", "type": "nominal", "title": "metric"}}},
                    {"mark": {"type": "point", "filled": True, "size": 45}, "encoding": {
                        "x": x, "y": {"field": "value", "type": "quantitative"},
                        "color": status_color, "shape": {"field": "metric", "type": "nominal",
                                                         "title": "metric"}}},
                ],
            }
        )  # fmt: skip
    return _spec({"vconcat": panels, "resolve": {"scale": {"color": "shared"}}})


# --------------------------------------------------------------------------- metrics (diffs)


def metrics_spec(
    metrics: Sequence[tuple[str, float | None, float | None]], *, labels: tuple[str, str]
) -> dict[str, Any]:
    """Grouped bars of each metric in two versions (``labels`` name the versions)."""
    values = []
    for name, a, b in metrics:
        for label, v in zip(labels, (a, b), strict=True):
            if v is not None and math.isfinite(v):
                values.append({"metric": name, "version": label, "value": _r(v)})
    return _spec(
        {
            "width": 300,
            "height": {"step": 12},
            "data": {"values": values},
            "mark": {"type": "bar"},
            "encoding": {
                "y": {"field": "metric", "type": "nominal", "title": None},
                "yOffset": {"field": "version", "sort": list(labels)},
                "x": {"field": "value", "type": "quantitative", "title": None},
                "color": {
                    "field": "version",
                    "type": "nominal",
                    "title": None,
                    "sort": list(labels),
                    "scale": {"range": [COLORS["reference"], COLORS["current"]]},
                },
            },
        }
    )


# --------------------------------------------------------------------------- SVG

_ID = re.compile(r'\bid="([^"]+)"')


def to_svg(spec: dict[str, Any]) -> str:
    """The chart as SVG text, rendered offline by vl-convert, with page-unique element ids.

    vl-convert numbers its clip paths ``clip1``, ``clip2``…; two inline SVGs on one page would
    share those ids and clip each other's marks, so every id gets a prefix derived from the SVG.
    """
    import vl_convert as vlc

    svg: str = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    ids = set(_ID.findall(svg))
    if not ids:
        return svg
    prefix = "mb" + hashlib.blake2b(svg.encode(), digest_size=4).hexdigest() + "-"
    for name in sorted(ids, key=len, reverse=True):
        svg = svg.replace(f'id="{name}"', f'id="{prefix}{name}"')
        svg = svg.replace(f"url(#{name})", f"url(#{prefix}{name})")
        svg = svg.replace(f'href="#{name}"', f'href="#{prefix}{name}"')
    return svg


def history_chart_html(report: HistoryReport, *, max_metrics: int = 4) -> str:
    """The history chart as inline SVG for static HTML; "" without runs to draw."""
    if not any(r.drift_share is not None or r.metrics for r in report.runs):
        return ""
    spec = history_spec(report, metrics=report.metric_names[:max_metrics])
    return f'<div class="mb-chart">{to_svg(spec)}</div>'
