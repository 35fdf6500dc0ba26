"""Vega-Lite specs as pure functions of results, their SVG, and what each chart shows in words.

Specs are plain dicts (no altair at run time: importing it costs seconds, and a dict is what
golden tests compare); :func:`to_svg` renders one with vl-convert, offline, minified, with
element ids unique per chart. Numbers are rounded (six significant digits, shares four) so specs
are stable byte for byte and stay small. Every chart has an ``*_alt`` function that says what
it shows, for the ``alt`` text of the ``<img>`` the static HTML embeds it as.

Numeric distributions
---------------------
Drawn from the profile histogram (bins on the reference's quantiles; a bin ``[v, v⁺)`` one float
wide holds exactly the value ``v``; see :mod:`modelbook.stats.profile`) as **shares of rows** in
equal-width display slots, never as a density: a share divided by a bin width blows up for the
point bins of tied values (integer-valued floats, ratings, counts, pixels, a capped score).

* Integer-valued columns (integer types, or edges that are whole numbers) are drawn as bars at
  their values: one slot per integer when there are at most :data:`MAX_BARS`, else slots of a
  whole number of integers; each bin's mass is spread over the integers it can hold.
* Other columns get :data:`MAX_BARS` equal-width slots over the reference range; a point bin's
  mass goes to the slot holding its value, a wide bin's mass is spread by overlap (a display
  approximation; the statistics never use it).
* Values outside the reference range are not drawn past an edge: they are labelled bars
  ("< 11" / "> 15.3") in a panel of their own, on the same y scale.
* The x axis spans the data (no forced zero); the y axis (a share) starts at zero.
"""

from __future__ import annotations

import hashlib
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from modelbook.render.format import fmt_num, fmt_p, plural
from modelbook.render.verdicts import category, decision_key, effect_ratio, status, verdict

if TYPE_CHECKING:
    from modelbook.run_history import HistoryReport
    from modelbook.stats.drift import ColumnDrift, DatasetDrift

__all__ = [
    "COLORS",
    "MAX_BARS",
    "MAX_CATEGORIES",
    "OVERVIEW_CAP",
    "SCHEMA",
    "distribution_alt",
    "distribution_spec",
    "distributions_spec",
    "drift_overview_alt",
    "drift_overview_spec",
    "drift_score",
    "history_alt",
    "history_chart_html",
    "history_spec",
    "metrics_spec",
    "to_svg",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
VL_VERSION = "6.4"
MAX_BARS = 30
MAX_CATEGORIES = 15
#: The overview draws effect ÷ threshold up to this; longer bars are cut and labelled.
OVERVIEW_CAP = 3.0
COLORS = {
    "reference": "#4c78a8",
    "current": "#f58518",
    "drifted": "#cf222e",
    "not significant": "#d4a72c",
    "ok": "#8c959f",
    "error": "#9a6700",
}
#: One colour per metric in the history chart (Tableau 10 without the status colours).
METRIC_COLORS = ("#4c78a8", "#54a24b", "#b279a2", "#f58518", "#72b7b2", "#9d755d")
_CONFIG: dict[str, Any] = {
    "aria": False,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 10, "titleFontSize": 10, "tickCount": 5},
    "axisX": {"grid": False},
    "legend": {"labelFontSize": 10, "titleFontSize": 10, "orient": "top"},
    "title": {"fontSize": 11, "anchor": "start", "subtitleFontSize": 10},
}
_SUBTITLE_CHARS = 64


def _r(value: float | None, digits: int = 6) -> float | None:
    """``digits`` significant digits; None for missing, NaN and infinities (JSON has none)."""
    if value is None or not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return float(f"{value:.{digits}g}")


def _spec(body: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "config": _CONFIG, **body}


def drift_score(column: ColumnDrift) -> float | None:
    """The statistic relative to its threshold: ≥ 1 means the effect size alone would drift.

    For p-value tests (``ks``, ``chisquare``) it is −log10(p) ÷ −log10(threshold), so the same
    "≥ 1" reading holds; None for untested columns. Not a ranking: see
    :func:`modelbook.render.verdicts.decision_key`.
    """
    return effect_ratio(column)


def _lines(text: str, width: int = _SUBTITLE_CHARS) -> list[str]:
    """Subtitle lines; a last line of a word or two stays on the line before."""
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > 1 and len(lines[-1]) < 16:
        lines = textwrap.wrap(text, width + 16)
    return lines


# --------------------------------------------------------------------------- numeric layout


@dataclass(frozen=True)
class _Layout:
    """Display slots of a numeric column and each side's share of rows in them."""

    mode: str  # "integers" (one slot per value or per run of values) or "histogram"
    slots: tuple[tuple[float, float], ...]  # [lo, hi) in data units
    ref: tuple[float, ...]
    cur: tuple[float, ...]
    lo: float  # reference minimum
    hi: float  # reference maximum
    below: tuple[float, float]  # (reference, current) share below the reference range
    above: tuple[float, float]
    below_label: str
    above_label: str


def _label_number(value: float) -> str:
    """11, 15.28, 84,970, 1.2e-05: short, never in e-notation between 0.001 and 10¹⁵."""
    if abs(value) >= 1e15 or (value and abs(value) < 1e-3):
        return f"{value:.3g}"
    if value.is_integer() or abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _numeric_layout(column: ColumnDrift) -> _Layout | None:
    edges = [float(e) for e in column.bin_edges]
    ref, cur = list(column.reference_counts), list(column.current_counts)
    if not edges or len(ref) != len(edges) + 1 or len(cur) != len(ref):
        return None
    n_ref, n_cur = sum(ref) or 1, sum(cur) or 1
    bins = [(edges[j], edges[j + 1], ref[j + 1], cur[j + 1]) for j in range(len(edges) - 1)]
    tiny = max(abs(edges[0]), abs(edges[-1]), 1.0) * 1e-9
    point = [b - a <= tiny for a, b, _, _ in bins]
    # Edges that are values (not the "just above v" end of a point bin).
    value_edges = [edges[0]] + [b for (_, b, _, _), p in zip(bins, point, strict=True) if not p]
    lo = edges[0]
    whole = [e.is_integer() for e in value_edges]
    integer = (
        column.kind == "numeric"
        and lo.is_integer()
        and sum(whole) >= 0.5 * len(whole)
        and (not bins or bins[-1][0].is_integer())
    )
    if bins and point[-1]:
        hi = bins[-1][0]
    elif integer and bins:
        hi = float(math.ceil(edges[-1]) - 1)
    else:
        hi = edges[-1]
    hi = max(hi, lo)
    above_label = (
        f"> {_label_number(hi)}"
        if (bins and point[-1]) or integer
        else (f"≥ {_label_number(edges[-1])}")
    )
    # Supports: (start, end, ref, cur); start == end is a point mass.
    supports: list[tuple[float, float, int, int]] = []
    for (a, b, r, c), p in zip(bins, point, strict=True):
        if not (r or c):
            continue
        if p:
            supports.append((a, a, r, c))
        elif integer:
            first, last = math.ceil(a), math.ceil(b) - 1
            if last >= first:
                supports.append((first - 0.5, last + 0.5, r, c))
            else:  # a gap between two reference values: current values that are not integers
                v = float(math.floor((a + b) / 2 + 0.5))
                supports.append((v, v, r, c))
        else:
            supports.append((a, b, r, c))
    if integer:
        count = int(hi - lo) + 1
        width = 1.0 if count <= MAX_BARS else float(math.ceil(count / MAX_BARS))
        start = lo - 0.5
        n = math.ceil(count / width)
        mode = "integers"
    elif hi > lo:
        width, start, n, mode = (hi - lo) / MAX_BARS, lo, MAX_BARS, "histogram"
    else:  # a constant reference: one slot around the value
        half = abs(lo) * 0.05 if lo else 0.5
        width, start, n, mode = 2 * half, lo - half, 1, "histogram"
    end = start + n * width
    r_out, c_out = [0.0] * n, [0.0] * n

    def slot(x: float) -> int:
        return min(max(int((x - start) // width), 0), n - 1)

    for s, e, r, c in supports:
        s, e = max(s, start), min(e, end)
        if e <= s:
            k = slot(s)
            r_out[k] += r
            c_out[k] += c
            continue
        for k in range(slot(s), slot(e) + 1):
            overlap = min(e, start + (k + 1) * width) - max(s, start + k * width)
            if overlap > 0:
                share = overlap / (e - s)
                r_out[k] += r * share
                c_out[k] += c * share
    return _Layout(
        mode=mode,
        slots=tuple((start + k * width, start + (k + 1) * width) for k in range(n)),
        ref=tuple(v / n_ref for v in r_out),
        cur=tuple(v / n_cur for v in c_out),
        lo=lo,
        hi=hi,
        below=(ref[0] / n_ref, cur[0] / n_cur),
        above=(ref[-1] / n_ref, cur[-1] / n_cur),
        below_label=f"< {_label_number(lo)}",
        above_label=above_label,
    )


# --------------------------------------------------------------------------- distributions


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
        rows.append({"set": "reference", "value": label, "rank": rank, "share": _r(r / n_ref, 4)})
        rows.append({"set": "current", "value": label, "rank": rank, "share": _r(c / n_cur, 4)})
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


def _title(column: ColumnDrift) -> dict[str, Any]:
    word = status(column).upper() if column.drifted else status(column)
    return {"text": column.column, "subtitle": _lines(f"{word}: {verdict(column)}")}


def _share_axis(title: str | None = "share of rows") -> dict[str, Any]:
    return {"format": "~%", "title": title}


def _numeric_layer(column: ColumnDrift, width: int, height: int) -> dict[str, Any]:
    layout = _numeric_layout(column)
    temporal = column.kind == "datetime"
    scale = 1000.0 if temporal else 1.0  # datetimes are profiled as seconds since the epoch
    rows: list[dict[str, Any]] = []
    top = 0.0
    if layout is not None:
        for (a, b), r, c in zip(layout.slots, layout.ref, layout.cur, strict=True):
            if not (r or c):
                continue
            pad = 0.1 * (b - a) if layout.mode == "integers" else 0.0
            mid = (a + b) / 2
            for label, share, x0, x1 in (
                ("reference", r, a + pad, mid),
                ("current", c, mid, b - pad),
            ):
                rows.append(
                    {
                        "set": label,
                        "start": _r(x0 * scale),
                        "end": _r(x1 * scale),
                        "share": _r(share, 4),
                    }
                )
            top = max(top, r, c)
        outside = [*layout.below, *layout.above]
        top = max(top, *outside)
        domain = [_r(layout.slots[0][0] * scale), _r(layout.slots[-1][1] * scale)]
    else:
        domain = None
    y_scale = {"domain": [0, _r(top * 1.05 or 1.0, 4)], "nice": False}
    x: dict[str, Any] = {
        "field": "start",
        "type": "temporal" if temporal else "quantitative",
        "title": None,
        "scale": {"zero": False, "nice": False, **({"domain": domain} if domain else {})},
    }
    if temporal:
        x["scale"]["type"] = "utc"
    elif layout is not None and layout.mode == "integers":
        x["axis"] = {"tickMinStep": 1, "format": "~d"}
    main: dict[str, Any] = {
        "width": width,
        "height": height,
        "data": {"values": rows},
        "mark": {"type": "rect"},
        "encoding": {
            "x": x,
            "x2": {"field": "end"},
            "y": {"field": "share", "type": "quantitative", "axis": _share_axis(),
                  "scale": y_scale},
            "color": _color(),
        },
    }  # fmt: skip
    if layout is None or not any((*layout.below, *layout.above)):
        return {"title": _title(column), **main}
    outside_rows = []
    for order, (label, (r, c)) in enumerate(
        ((layout.below_label, layout.below), (layout.above_label, layout.above))
    ):
        if r or c:
            for name, share in (("reference", r), ("current", c)):
                outside_rows.append(
                    {"set": name, "range": label, "order": order, "share": _r(share, 4)}
                )
    side = {
        "title": {"text": "outside range", "fontSize": 10, "fontWeight": "normal"},
        "width": {"step": 16},
        "height": height,
        "data": {"values": outside_rows},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "range", "type": "nominal", "title": None,
                  "sort": {"field": "order"}, "axis": {"labelAngle": 0}},
            "xOffset": {"field": "set", "sort": ["reference", "current"]},
            "y": {"field": "share", "type": "quantitative", "axis": None, "scale": y_scale},
            "color": _color(),
        },
    }  # fmt: skip
    return {
        "title": _title(column),
        "hconcat": [main, side],
        "spacing": 6,
        "resolve": {"scale": {"color": "shared"}},
    }


def _distribution_layer(column: ColumnDrift, width: int, height: int) -> dict[str, Any]:
    if column.kind in ("numeric", "datetime"):
        return _numeric_layer(column, width, height)
    rows = _categorical_rows(column)
    n_values = len({r["value"] for r in rows})
    return {
        "title": _title(column),
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
            "x": {"field": "share", "type": "quantitative", "axis": _share_axis()},
            "color": _color(),
        },
    }


def distribution_spec(
    column: ColumnDrift, *, width: int = 300, height: int = 120
) -> dict[str, Any]:
    """Reference and current distributions of one column, side by side per slot."""
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


def distribution_alt(column: ColumnDrift) -> str:
    """What :func:`distribution_spec` shows, e.g. "reference vs current distribution of age:
    drifted (effect 0.31 ≥ 0.05 and p = 1e-9: drifted); 2% of current values below 20"."""
    text = f"reference vs current distribution of {column.column}: {status(column)}"
    text += f" ({verdict(column)})"
    if column.kind in ("numeric", "datetime"):
        layout = _numeric_layout(column)
        if layout is not None:
            for share, where in (
                (layout.below[1], f"below the reference minimum {_label_number(layout.lo)}"),
                (layout.above[1], f"above the reference maximum {_label_number(layout.hi)}"),
            ):
                if share:
                    text += f"; {share:.0%} of current values {where}"
    return text


# --------------------------------------------------------------------------- overview


def _ranked(drift: DatasetDrift) -> list[ColumnDrift]:
    return sorted((c for c in drift.columns if effect_ratio(c) is not None), key=decision_key)


def drift_overview_spec(
    drift: DatasetDrift, *, limit: int = 25, width: int = 300
) -> dict[str, Any]:
    """Tested columns in decision order (drifted first, then by p-value, then by effect), bars
    of effect ÷ threshold cut at :data:`OVERVIEW_CAP`, coloured by the decision, each labelled
    with its ratio and p-value."""
    ranked = _ranked(drift)
    shown = ranked[:limit]
    values = []
    for c in shown:
        ratio = effect_ratio(c) or 0.0
        label = f"{fmt_num(ratio, 2)}×" + (
            f", p {fmt_p(c.p_value)}" if c.p_value is not None else ""
        )
        values.append(
            {
                "column": c.column,
                "ratio": _r(min(ratio, OVERVIEW_CAP), 4),
                "decision": category(c),
                "label": label,
            }
        )
    drifted = sum(c.drifted for c in ranked)
    subtitle = f"{drifted} of {plural(len(ranked), 'tested column')} drifted"
    if len(ranked) > len(shown):
        subtitle += f"; the first {len(shown)} shown"
    decisions = ["drifted", "not significant", "ok"]
    y = {"field": "column", "type": "nominal", "title": None,
         "sort": [v["column"] for v in values]}  # fmt: skip
    return _spec(
        {
            "title": {
                "text": "drift decision per column (drifted first, then by p-value)",
                "subtitle": subtitle,
            },
            "width": width,
            "height": {"step": 14},
            "data": {"values": values},
            "layer": [
                {
                    "mark": {"type": "bar"},
                    "encoding": {
                        "y": y,
                        "x": {
                            "field": "ratio",
                            "type": "quantitative",
                            "title": f"effect ÷ threshold (1 = threshold; cut at {OVERVIEW_CAP:g})",
                            "scale": {"domain": [0, OVERVIEW_CAP]},
                        },
                        "color": {
                            "field": "decision",
                            "type": "nominal",
                            "title": None,
                            "scale": {
                                "domain": decisions,
                                "range": [COLORS[d] for d in decisions],
                            },
                        },
                    },
                },
                {
                    "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 9},
                    "encoding": {
                        "y": y,
                        "x": {"field": "ratio", "type": "quantitative"},
                        "text": {"field": "label"},
                    },
                },
                {
                    "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#333"},
                    "encoding": {"x": {"datum": 1}},
                },
            ],
        }
    )


def drift_overview_alt(drift: DatasetDrift, *, names: int = 8) -> str:
    ranked = _ranked(drift)
    drifted = [c.column for c in ranked if c.drifted]
    text = (
        f"drift decision per column, drifted first: {len(drifted)} of "
        f"{plural(len(ranked), 'tested column')} drifted"
    )
    if drifted:
        more = f" and {len(drifted) - names} more" if len(drifted) > names else ""
        text += f" ({', '.join(drifted[:names])}{more})"
    loud = [c.column for c in ranked if category(c) == "not significant"]
    if loud:
        text += f"; {plural(len(loud), 'column')} past the effect threshold but not significant"
    return text


# --------------------------------------------------------------------------- history

# (largest span in seconds, Vega time interval, steps to choose from, label format)
_TIME_SCALES: tuple[tuple[float, str, tuple[int, ...], str], ...] = (
    (90, "second", (1, 2, 5, 10, 15, 30), "%H:%M:%S"),
    (90 * 60, "minute", (1, 2, 5, 10, 15, 30), "%H:%M"),
    (2 * 86400, "hour", (1, 2, 3, 6, 12), "%b %d %H:%M"),
    (120 * 86400, "day", (1, 2, 7, 14), "%b %d"),
    (math.inf, "month", (1, 2, 3, 6, 12), "%Y-%m"),
)
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ticks(first: datetime, last: datetime, unit: str, step: int) -> list[datetime]:
    """Tick times every ``step`` ``unit`` from the first aligned one at or after ``first``."""
    if unit == "month":
        t = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        months = t.year * 12 + t.month - 1
        months -= months % step
        found: list[datetime] = []
        while True:
            t = t.replace(year=months // 12, month=months % 12 + 1)
            if t > last:
                return found
            if t >= first:
                found.append(t)
            months += step
    size = _UNIT_SECONDS[unit] * step
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    start = math.ceil((first - epoch).total_seconds() / size) * size
    out: list[datetime] = []
    t = epoch + timedelta(seconds=start)
    while t <= last:
        out.append(t)
        t += timedelta(seconds=size)
    return out


def _time_axis(times: Sequence[datetime]) -> dict[str, Any]:
    """An x encoding whose ticks and labels suit the span of the runs (UTC): runs a second
    apart read 06:00:53, 06:00:54…, not ".800"; runs a month apart read 2026-11, 2026-12."""
    first, last = _utc(min(times)), _utc(max(times))
    span = (last - first).total_seconds()
    x: dict[str, Any] = {"field": "started", "type": "temporal", "scale": {"type": "utc"}}
    if span <= 0:
        x["axis"] = {"format": "%Y-%m-%d %H:%M:%S",
                     "values": [int(first.timestamp() * 1000)]}  # fmt: skip
        x["title"] = "run start (UTC)"
        return x
    unit, steps, fmt = next((u, s, f) for limit, u, s, f in _TIME_SCALES if span <= limit)
    want = span / 5 / _UNIT_SECONDS[unit]
    step = next((s for s in steps if s >= want), steps[-1])
    ticks = _ticks(first, last, unit, step) or [first]
    x["axis"] = {
        "format": fmt,
        "values": [int(t.timestamp() * 1000) for t in ticks],
        "labelOverlap": True,
    }
    same_day = first.date() == last.date()
    x["title"] = f"run start, {first:%Y-%m-%d} (UTC)" if same_day else "run start (UTC)"
    return x


def _iso(value: datetime, precise: bool) -> str:
    return (
        _utc(value)
        .isoformat(timespec="milliseconds" if precise else "seconds")
        .replace("+00:00", "Z")
    )


def _padded_domain(values: Sequence[float], *, share: bool = False) -> list[float]:
    """A y domain around the values no narrower than 5 % of their magnitude, so a change of
    +0.0006 on 0.8 stays a small change instead of filling the panel."""
    lo, hi = min(values), max(values)
    magnitude = max(abs(lo), abs(hi))
    floor = 0.05 * magnitude if magnitude else 1.0
    if share:
        floor = max(floor, 0.1)
    if hi - lo < floor:
        mid = (lo + hi) / 2
        lo, hi = mid - floor / 2, mid + floor / 2
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    if share:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return [_r(lo, 4) or 0.0, _r(hi, 4) or 0.0]


def history_spec(
    report: HistoryReport, *, metrics: Sequence[str] | None = None, width: int = 420
) -> dict[str, Any]:
    """Drift share and metrics over monitor runs (oldest to newest), on a time axis formatted
    for the span, alert and error runs marked; one colour per metric.

    Metrics share one y axis when their magnitudes are within 10× of each other, else each gets
    its own labelled panel; either way the axis spans at least 5 % of the values' magnitude.
    """
    names = list(report.metric_names if metrics is None else metrics)
    runs = list(reversed(report.runs))
    times = [r.started_at for r in runs] or [datetime(1970, 1, 1)]
    seconds = {_utc(t).replace(microsecond=0) for t in times}
    precise = len(seconds) < len(times)  # runs within one second: keep milliseconds
    x = _time_axis(times)
    drift_rows: list[dict[str, Any]] = [
        {"started": _iso(r.started_at, precise), "value": _r(r.drift_share, 4), "status": r.status}
        for r in runs
        if r.drift_share is not None
    ]
    metric_rows: list[dict[str, Any]] = [
        {
            "started": _iso(r.started_at, precise),
            "metric": m,
            "value": _r(float(r.metrics[m])),
            "status": r.status,
        }
        for r in runs
        for m in names
        if isinstance(r.metrics.get(m), (int, float)) and math.isfinite(float(r.metrics[m]))
    ]
    status_color = {
        "field": "status",
        "type": "nominal",
        "title": "run",
        "scale": {
            "domain": ["ok", "alert", "error"],
            "range": [COLORS["ok"], COLORS["drifted"], COLORS["error"]],
        },
    }
    share_domain = _padded_domain([r["value"] for r in drift_rows] or [0.0], share=True)
    share_y = {
        "field": "value",
        "type": "quantitative",
        "title": "drifted columns",
        "axis": {"format": "~%"},
        "scale": {"domain": share_domain, "zero": False},
    }
    panels: list[dict[str, Any]] = [
        {
            "title": "share of drifted columns",
            "width": width,
            "height": 90,
            "data": {"values": drift_rows},
            "layer": [
                {"mark": {"type": "line", "color": COLORS["reference"]},
                 "encoding": {"x": x, "y": share_y}},
                {"mark": {"type": "point", "filled": True, "size": 45},
                 "encoding": {"x": x, "y": share_y, "color": status_color}},
            ],
        }
    ]  # fmt: skip
    present = [m for m in names if any(r["metric"] == m for r in metric_rows)]
    palette = {m: METRIC_COLORS[i % len(METRIC_COLORS)] for i, m in enumerate(present)}
    magnitudes = [max(abs(r["value"]) for r in metric_rows if r["metric"] == m) for m in present]
    positive = [v for v in magnitudes if v > 0]
    shared = len(present) <= 1 or (
        len(positive) == len(magnitudes) and max(positive) <= 10 * min(positive)
    )
    groups = [present] if shared else [[m] for m in present]
    for group in groups if present else []:
        rows = [r for r in metric_rows if r["metric"] in group]
        single = len(group) == 1
        y = {
            "field": "value",
            "type": "quantitative",
            "title": group[0] if single else None,
            "scale": {"domain": _padded_domain([r["value"] for r in rows]), "zero": False},
        }
        color = {
            "field": "metric",
            "type": "nominal",
            "title": "metric",
            "scale": {"domain": group, "range": [palette[m] for m in group]},
            **({"legend": None} if single else {}),
        }
        flagged = [r for r in rows if r["status"] != "ok"]
        layers: list[dict[str, Any]] = [
            {"mark": {"type": "line"}, "encoding": {"x": x, "y": y, "color": color}},
            {
                "mark": {"type": "point", "filled": True, "size": 40},
                "encoding": {"x": x, "y": y, "color": color},
            },
        ]
        if flagged:
            layers.append(
                {
                    "data": {"values": flagged},
                    "mark": {
                        "type": "point",
                        "filled": False,
                        "size": 130,
                        "strokeWidth": 1.5,
                        "color": COLORS["drifted"],
                    },
                    "encoding": {"x": x, "y": y},
                }
            )
        title = f"metric {group[0]}" if single else "metrics"
        panels.append(
            {"title": title, "width": width, "height": 60 if single else 90,
             "data": {"values": rows}, "layer": layers}
        )  # fmt: skip
    return _spec({"vconcat": panels, "resolve": {"scale": {"color": "independent"}}})


def history_alt(report: HistoryReport, *, metrics: Sequence[str] = ()) -> str:
    runs = [r for r in report.runs if r.drift_share is not None or r.metrics]
    if not runs:
        return ""
    oldest, newest = runs[-1], runs[0]
    span = f"from {_utc(oldest.started_at):%Y-%m-%d %H:%M:%S} to {_utc(newest.started_at):%Y-%m-%d %H:%M:%S} UTC"
    text = f"share of drifted columns over {plural(len(runs), 'run')} {span}"
    if metrics:
        text += " and " + ", ".join(metrics)
    flagged = [r for r in runs if r.status != "ok"]
    if flagged:
        text += f"; {plural(len(flagged), 'run')} with alerts or errors marked"
    shares = [r.drift_share for r in runs if r.drift_share is not None]
    if shares:
        text += f"; newest drift share {newest.drift_share or 0:.0%}, highest {max(shares):.0%}"
    for m in metrics:
        values = [
            r.metrics[m] for r in reversed(runs) if isinstance(r.metrics.get(m), (int, float))
        ]
        if len(values) >= 2:
            text += f"; {m} {fmt_num(values[0], 4)} → {fmt_num(values[-1], 4)}"
    return text


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
# Attributes and elements vl-convert writes for interactivity and CSS hooks: no effect on how
# the SVG looks as an image, ~30 % of its size.
_STRIP = (
    re.compile(r' (?:class|role|aria-[a-z]+|pointer-events)="[^"]*"'),
    re.compile(r'<path d="M0,0h0v0h0Z"/>'),
    re.compile(r'<path d=""(?: display="none")?/>'),
    re.compile(r' opacity="1"'),
)
_ATTRIBUTE = re.compile(r'( (?:d|x|y|x1|x2|y1|y2|width|height|transform|points)=")([^"]*)"')
_DECIMALS = re.compile(r"(\d\.\d)\d+")


def _minify(svg: str) -> str:
    """Drop what does not draw; geometry to 0.1 px (text is never touched)."""
    for pattern in _STRIP:
        svg = pattern.sub("", svg)
    return _ATTRIBUTE.sub(lambda m: m[1] + _DECIMALS.sub(r"\1", m[2]) + '"', svg)


def to_svg(spec: dict[str, Any]) -> str:
    """The chart as SVG text, rendered offline by vl-convert, minified, with page-unique ids.

    vl-convert numbers its clip paths ``clip1``, ``clip2``…; two inline SVGs on one page would
    share those ids and clip each other's marks, so every id gets a prefix derived from the SVG.
    """
    import vl_convert as vlc

    svg: str = _minify(vlc.vegalite_to_svg(spec, vl_version=VL_VERSION))
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
    """The history chart as an ``<img>`` (SVG data URI, described in its ``alt``); "" without
    runs to draw."""
    from modelbook.render.html import chart_img

    if not any(r.drift_share is not None or r.metrics for r in report.runs):
        return ""
    metrics = report.metric_names[:max_metrics]
    spec = history_spec(report, metrics=metrics)
    return chart_img(to_svg(spec), history_alt(report, metrics=metrics))
