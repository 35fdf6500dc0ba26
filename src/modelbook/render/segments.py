"""The monitor report's segments and fairness sections: text, HTML and their charts.

``report.segments`` and ``report.fairness`` are plain JSON (shapes documented in
:mod:`modelbook.monitoring.segments` and :mod:`modelbook.monitoring.fairness`). Segments come
worst first (alert, error, insufficient, then ok by drift score) and every face keeps that order.

Static HTML, per slice (``region``, ``region*plan``): one chart of per-segment drift bars (the
largest effect ÷ threshold of each segment's columns, worst first, insufficient groups labelled
"insufficient: 12 rows < min_group 30"), a table of segments × checks (rows, data drift,
prediction drift, quality, NaN/inf) whose first :data:`OPEN` rows show and the rest fold into a
``<details>``, then one ``<details>`` per segment with findings (the first :data:`OPEN` open),
whose columns carry inline-styled drift bars (no image each). Fairness, per sensitive column: the measures with their
thresholds in words ("ratio 0.71 < 0.8"), per-group bars of selection rate / TPR / FPR (errors
for regression) with n and a dashed line at the threshold, and the groups table where an
insufficient group says why. Charts are ``<img>`` data URIs with ``alt`` text; statuses are
words; nothing needs a ``<style>`` block. 100 segments stay well under 300 KB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelbook.render.charts import COLORS, OVERVIEW_CAP, SCHEMA, to_svg
from modelbook.render.format import fmt_num, fmt_p, plural
from modelbook.render.html import badge, chart_img, esc, table_html
from modelbook.render.verdicts import P_VALUE_TESTS

if TYPE_CHECKING:
    from modelbook.monitoring.report import CheckResult, MonitorReport

__all__ = [
    "OPEN",
    "fairness_alt",
    "fairness_headline",
    "fairness_section_html",
    "fairness_spec",
    "fairness_text_lines",
    "ordered_groups",
    "segment_label",
    "segments_alt",
    "segments_section_html",
    "segments_spec",
    "segments_text_lines",
    "worst_segment",
]

OPEN = 10  # segments shown before the fold, and segment details shown open
CHART_SEGMENTS = 20  # segments drawn in a slice's chart
DETAILS = 30  # segments with findings given a details block (the rest: counted, in the table)
TABLE_COLUMNS = 8  # drifted columns listed in one segment's details

#: A slice's or a sensitive column's heading, under its section's <h4> (one <h4> per section,
#: as every section of the report has).
_H5 = ' style="font-size:13px;margin:10px 0 4px"'
_RANK = {"alert": 0, "error": 1, "insufficient": 2, "info": 3, "ok": 4}
#: Bar colours: a segment's (or column's) decision; "not significant" is an ok segment whose
#: largest effect is past its threshold without a small enough p-value (small segments are noisy).
_STATUS_COLORS = {
    "alert": COLORS["drifted"],
    "error": COLORS["error"],
    "not significant": COLORS["not significant"],
    "ok": COLORS["ok"],
    "info": COLORS["ok"],
    "insufficient": "#d0d7de",
}
_CONFIG: dict[str, Any] = {
    "aria": False,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 10, "titleFontSize": 10, "tickCount": 5},
    "axisX": {"grid": False},
    "legend": {"labelFontSize": 10, "titleFontSize": 10, "orient": "top"},
    "title": {"fontSize": 11, "anchor": "start", "subtitleFontSize": 10},
}
#: Per-group measures drawn as bars, with their label (classification, then regression).
RATES = (("selection_rate", "selection rate"), ("tpr", "TPR"), ("fpr", "FPR"))
ERRORS = (("mae", "MAE"), ("rmse", "RMSE"))
_MEASURE_LABELS = {
    "demographic_parity_difference": "demographic parity difference",
    "demographic_parity_ratio": "demographic parity ratio",
    "equalized_odds_difference": "equalized odds difference",
    "equalized_odds_ratio": "equalized odds ratio",
    "equal_opportunity_difference": "equal opportunity difference",
    "equal_opportunity_ratio": "equal opportunity ratio",
    "mae_ratio": "MAE ratio",
    "rmse_ratio": "RMSE ratio",
}


# -- small pieces ---------------------------------------------------------------------------------


def _f(value: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else float(f"{value:.{digits}g}")


def _num(value: Any, digits: int = 3) -> str:
    v = _f(value)
    return "—" if v is None else fmt_num(v, digits)


def _rate(value: Any) -> str:
    v = _f(value)
    return "—" if v is None else f"{v:.3f}"


def _status(entry: Mapping[str, Any]) -> str:
    return str(entry.get("status") or "ok")


def segment_label(column: Mapping[str, Any], group: Mapping[str, Any]) -> str:
    """``region=north``, ``region*plan=north*gold``: as the checks name a segment."""
    return f"{column.get('key')}={group.get('value')}"


def ordered_groups(column: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The slice's groups worst first: alert, error, insufficient, then the rest; within a
    status, the engine's order (by drift score)."""
    groups = [g for g in column.get("groups") or () if isinstance(g, Mapping)]
    return sorted(groups, key=lambda g: _RANK.get(_status(g), 5))


def _drift_ratio(d: Mapping[str, Any]) -> float | None:
    """Effect ÷ threshold (1 = at the threshold); −log10(p) ÷ −log10(threshold) for p-value
    tests, as :func:`modelbook.render.verdicts.effect_ratio` reads a column."""
    threshold = _f(d.get("threshold"))
    if threshold is None or threshold <= 0:
        return None
    if d.get("test") in P_VALUE_TESTS:
        p = _f(d.get("p_value"))
        denominator = -math.log10(threshold)
        if denominator <= 0:
            return None
        return min(-math.log10(max(p if p is not None else 1.0, 1e-300)) / denominator, 1e3)
    statistic = _f(d.get("statistic"))
    return None if statistic is None else statistic / threshold


def _ranked_drift(group: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The segment's columns, drifted first, then by effect ÷ threshold."""
    drift = [d for d in group.get("drift") or () if isinstance(d, Mapping)]
    return sorted(drift, key=lambda d: (not d.get("drifted"), -(_drift_ratio(d) or 0.0)))


def _score(group: Mapping[str, Any]) -> float:
    return max((_drift_ratio(d) or 0.0 for d in group.get("drift") or ()), default=0.0)


def _drifted(group: Mapping[str, Any]) -> list[str]:
    return [str(d.get("column")) for d in _ranked_drift(group) if d.get("drifted")]


def _drift_words(group: Mapping[str, Any], names: int = 3) -> str:
    """ "drift in 3 of 30 columns (x1, x2, x7)", "no drift in 30 columns", "" when untested."""
    drift = group.get("drift") or ()
    if not drift:
        return ""
    drifted = _drifted(group)
    if not drifted:
        return f"no drift in {plural(len(drift), 'column')}"
    shown = ", ".join(drifted[:names]) + (" …" if len(drifted) > names else "")
    return f"drift in {len(drifted)} of {plural(len(drift), 'column')} ({shown})"


def _prediction_words(group: Mapping[str, Any]) -> str:
    p = group.get("prediction_drift")
    if not isinstance(p, Mapping):
        return ""
    word = "drifted" if p.get("drifted") else "no drift"
    sign = "≥" if p.get("drifted") else "<"
    return f"{word} ({p.get('test')} {_num(p.get('statistic'), 2)} {sign} {_num(p.get('threshold'), 2)})"


def _quality_words(group: Mapping[str, Any], limit: int | None = None) -> str:
    """ "accuracy 0.91, roc_auc 0.95 (n 1,234)": realized quality, n said once when shared."""
    items = [(str(k), q) for k, q in (group.get("quality") or {}).items()]
    ns = {q.get("n") for _, q in items if isinstance(q, Mapping)}
    shared = len(ns) == 1 and all(isinstance(q, Mapping) for _, q in items)
    parts = []
    for name, q in items[:limit]:
        value = q.get("value") if isinstance(q, Mapping) else q
        n = q.get("n") if isinstance(q, Mapping) else None
        at = f" (n {n:,})" if isinstance(n, int) and not shared else ""
        parts.append(f"{name} {_num(value)}{at}")
    if limit is not None and len(items) > limit:
        parts.append("…")
    n = next(iter(ns)) if shared else None
    return ", ".join(parts) + (f" (n {n:,})" if isinstance(n, int) and parts else "")


def _nan_words(group: Mapping[str, Any]) -> str:
    parts = []
    for column, counts in (group.get("nan") or {}).items():
        if not isinstance(counts, Mapping):
            continue
        kinds = [f"{int(counts[k]):,} {k}" for k in ("nan", "inf") if counts.get(k)]
        if kinds:
            parts.append(f"{column}: {' + '.join(kinds).replace(' nan', ' NaN')}")
    return "; ".join(parts)


def _group_words(group: Mapping[str, Any]) -> str:
    """What the segment shows, in words (the finding column and the text line)."""
    if _status(group) == "insufficient":
        return f"insufficient: {group.get('reason') or 'too few rows'}; not in any aggregate"
    parts = [_drift_words(group)]
    p = group.get("prediction_drift")
    if isinstance(p, Mapping) and p.get("drifted"):
        parts.append("prediction drift " + _prediction_words(group).removeprefix("drifted "))
    nan = _nan_words(group)
    if nan:
        parts.append(f"NaN/inf in {nan}")
    bad = [
        str(c.get("message"))
        for c in group.get("checks") or ()
        if isinstance(c, Mapping)
        and c.get("status") in ("alert", "error")
        and ".drift." not in str(c.get("check"))  # said above, in words
        and ".prediction_drift" not in str(c.get("check"))
        and c.get("message")
    ]
    parts += bad[:2]
    return "; ".join(p for p in parts if p)


def _rows_words(group: Mapping[str, Any]) -> str:
    rows = group.get("rows")
    share = _f(group.get("share"))
    text = f"{rows:,} rows" if isinstance(rows, int) else "rows unknown"
    return text + (f" ({share:.1%})" if share is not None else "")


def _column_heading(column: Mapping[str, Any]) -> str:
    groups = ordered_groups(column)
    counts = {s: sum(_status(g) == s for g in groups) for s in _RANK}
    parts = [f"{counts['alert']} of {plural(len(groups), 'segment')} alert"]
    if counts["error"]:
        parts.append(f"{counts['error']} error")
    if counts["insufficient"]:
        parts.append(f"{counts['insufficient']} insufficient")
    return f"Segments by {column.get('key')}: " + ", ".join(parts)


def _column_notes(column: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    notes = []
    n_values = column.get("n_values")
    other = column.get("other")
    if isinstance(other, Mapping) and other.get("values"):
        notes.append(
            f"{column.get('key')} has {n_values:,} values: the most frequent "
            f"{settings.get('max_segments', 50)} are segments, the other "
            f"{plural(int(other['values']), 'value')} ({plural(int(other.get('rows') or 0), 'row')})"
            " are the segment (other)"
        )
    if column.get("reference") == "whole":
        notes.append(
            str(column.get("reference_note") or "")
            or "the reference has no such column: each segment is compared with the whole reference"
        )
    elif column.get("reference_note"):
        notes.append(str(column["reference_note"]))
    return notes


# -- charts ---------------------------------------------------------------------------------------


def _spec(body: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "config": _CONFIG, **body}


def _status_color(domain: Sequence[str]) -> dict[str, Any]:
    return {
        "field": "status",
        "type": "nominal",
        "title": None,
        "scale": {"domain": list(domain), "range": [_STATUS_COLORS[s] for s in domain]},
    }


def _bar_label(group: Mapping[str, Any]) -> str:
    if _status(group) == "insufficient":
        return f"insufficient: {group.get('reason') or 'too few rows'}"
    drift = group.get("drift") or ()
    if not drift:
        return "not tested"
    label = f"{len(_drifted(group))} of {len(drift)} drifted · max {fmt_num(_score(group), 2)}×"
    return label + (" (not significant)" if _bar_status(group) == "not significant" else "")


def _bar_status(group: Mapping[str, Any]) -> str:
    """The segment's status, "not significant" for an ok one with an effect past 1×."""
    status = _status(group)
    if status == "ok" and _score(group) >= 1:
        return "not significant"
    return status if status in _STATUS_COLORS else "info"


def _column_status(d: Mapping[str, Any]) -> str:
    if d.get("drifted"):
        return "alert"
    ratio = _drift_ratio(d)
    ok = d.get("test") in P_VALUE_TESTS or ratio is None or ratio < 1
    return "ok" if ok else "not significant"


def segments_spec(column: Mapping[str, Any], *, limit: int = CHART_SEGMENTS) -> dict[str, Any]:
    """Per-segment drift bars: each segment's largest effect ÷ threshold (cut at
    :data:`~modelbook.render.charts.OVERVIEW_CAP`), worst first, coloured by status, labelled
    with its count of drifted columns; an insufficient segment is a labelled empty bar."""
    groups = ordered_groups(column)
    shown = groups[:limit]
    values = []
    for g in shown:
        status = _status(g)
        values.append(
            {
                "segment": f"{g.get('value')} ({int(g.get('rows') or 0):,})",
                "ratio": 0.0 if status == "insufficient" else _r(min(_score(g), OVERVIEW_CAP)),
                "status": _bar_status(g),
                "label": _bar_label(g),
            }
        )
    subtitle = f"{column.get('key')}: {len(groups)} segments (rows); 1 = a column's threshold"
    if len(groups) > len(shown):
        subtitle += f"; the worst {len(shown)} shown"
    domain = [s for s in _STATUS_COLORS if any(v["status"] == s for v in values)]
    y = {"field": "segment", "type": "nominal", "title": None,
         "sort": [v["segment"] for v in values]}  # fmt: skip
    return _spec(
        {
            "title": {"text": "largest drift per segment (worst first)", "subtitle": subtitle},
            "width": 260,
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
                            "title": f"effect ÷ threshold (cut at {OVERVIEW_CAP:g})",
                            "scale": {"domain": [0, OVERVIEW_CAP]},
                        },
                        "color": _status_color(domain),
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


def segments_alt(column: Mapping[str, Any], *, names: int = 6) -> str:
    """What the per-segment drift bars show, in words."""
    groups = ordered_groups(column)
    alert = [segment_label(column, g) for g in groups if _status(g) == "alert"]
    small = [g for g in groups if _status(g) == "insufficient"]
    text = (
        f"largest drift per segment of {column.get('key')}, worst first: {len(alert)} of "
        f"{plural(len(groups), 'segment')} alert"
    )
    if alert:
        more = f" and {len(alert) - names} more" if len(alert) > names else ""
        text += f" ({', '.join(alert[:names])}{more})"
    if small:
        shown = ", ".join(
            f"{g.get('value')} with {int(g.get('rows') or 0):,} rows" for g in small[:names]
        )
        text += f"; insufficient: {shown}"
    return text


def _measures(column: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The per-group measures a fairness column has values for (rates, else errors)."""
    groups = [g for g in column.get("groups") or () if isinstance(g, Mapping)]
    present = tuple(
        (k, label)
        for k, label in (*RATES, *ERRORS)
        if any(_f(g.get(k)) is not None for g in groups)
    )
    return present or RATES[:1]


def threshold_line(
    column: Mapping[str, Any], measure: str, settings: Mapping[str, Any]
) -> tuple[float | None, str]:
    """Where a group's bar must reach for its ratio to pass, and how that was found.

    Rates: ``ratio`` × the base (the reference group's rate when one is set, the overall rate
    with ``method = "to_overall"`` when given, else the highest sufficient group's); errors
    (MAE, RMSE): the lowest group's error ÷ ``ratio``.
    """
    ratio = _f(settings.get("ratio"))
    if ratio is None or ratio <= 0:
        return None, ""
    groups = [
        g for g in column.get("groups") or ()
        if isinstance(g, Mapping) and _status(g) != "insufficient"
        and measure not in (g.get("insufficient_for") or ())
    ]  # fmt: skip
    values = [v for g in groups if (v := _f(g.get(measure))) is not None]
    if not values:
        return None, ""
    if measure in dict(ERRORS):
        return min(values) / ratio, f"the lowest group's ÷ {ratio:g}"
    ref = _reference_group(settings, column)
    if ref is not None:
        base = next((_f(g.get(measure)) for g in groups if str(g.get("value")) == str(ref)), None)
        if base is not None:
            return base * ratio, f"{ratio:g} × group {ref}'s"
    overall = column.get("overall")
    if settings.get("method") == "to_overall" and isinstance(overall, Mapping):
        base = _f(overall.get(measure))
        if base is not None:
            return base * ratio, f"{ratio:g} × overall"
    return max(values) * ratio, f"{ratio:g} × the highest group's"


def _reference_group(settings: Mapping[str, Any], column: Mapping[str, Any]) -> str | None:
    """The base group of this sensitive column: ``reference_group`` is one value for every
    column, or a table ``{column key: value}``."""
    ref = settings.get("reference_group")
    if isinstance(ref, Mapping):
        ref = ref.get(str(column.get("key")))
    return None if ref is None else str(ref)


def _group_axis_label(group: Mapping[str, Any]) -> str:
    rows = int(group.get("rows") or 0)
    flag = ", insufficient" if _status(group) == "insufficient" else ""
    return f"{group.get('value')} (n {rows:,}{flag})"


def fairness_spec(column: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Per-group bars of selection rate, TPR and FPR (MAE and RMSE for regression), each
    labelled with its value, groups labelled with n; a dashed line at the ratio threshold;
    insufficient groups faint, with "insufficient" where a rate could not be estimated."""
    groups = [g for g in column.get("groups") or () if isinstance(g, Mapping)]
    labels = [_group_axis_label(g) for g in groups]
    panels = []
    for i, (key, title) in enumerate(_measures(column)):
        line, how = threshold_line(column, key, settings)
        values = []
        for g, label in zip(groups, labels, strict=True):
            v = _f(g.get(key))
            missing = key in (g.get("insufficient_for") or ()) or v is None
            values.append(
                {
                    "group": label,
                    "value": _r(v) if v is not None else 0.0,
                    "text": "insufficient"
                    if missing
                    else f"{v:.3f}"
                    if key in dict(RATES)
                    else fmt_num(v, 3),
                    "faint": _status(g) == "insufficient" or missing,
                    "below": line is not None
                    and v is not None
                    and not missing
                    and (v > line if key in dict(ERRORS) else v < line),
                }
            )
        y = {"field": "group", "type": "nominal", "title": None, "sort": labels,
             "axis": {} if i == 0 else {"labels": False, "ticks": False}}  # fmt: skip
        x: dict[str, Any] = {"field": "value", "type": "quantitative", "title": None}
        if key in dict(RATES):
            x["scale"] = {"domain": [0, 1]}
        layers: list[dict[str, Any]] = [
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "y": y,
                    "x": x,
                    "color": {
                        "condition": {"test": "datum.below", "value": COLORS["drifted"]},
                        "value": COLORS["reference"],
                    },
                    "opacity": {"condition": {"test": "datum.faint", "value": 0.35},
                                "value": 1},
                },
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 9},
                "encoding": {"y": y, "x": {"field": "value", "type": "quantitative"},
                             "text": {"field": "text"}},
            },
        ]  # fmt: skip
        if line is not None:
            layers.append(
                {
                    "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#333"},
                    "encoding": {"x": {"datum": _r(line)}},
                }
            )
        subtitle = f"dashed: {how} ({_r(line, 3)})" if line is not None else "no threshold line"
        panels.append(
            {
                "title": {"text": title, "subtitle": subtitle},
                "width": 150,
                "height": {"step": 16},
                "data": {"values": values},
                "layer": layers,
            }
        )
    name = f"{column.get('key')}" + (f", class {column['class']}" if column.get("class") else "")
    return _spec(
        {
            "title": {"text": f"per group of {name} (n = rows; red: past the ratio threshold)"},
            "hconcat": panels,
            "spacing": 16,
        }
    )


def fairness_alt(column: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """What the per-group bars show, in words."""
    groups = [g for g in column.get("groups") or () if isinstance(g, Mapping)]
    parts = []
    for key, title in _measures(column):
        line, how = threshold_line(column, key, settings)
        values = []
        for g in groups:
            v = _f(g.get(key))
            missing = key in (g.get("insufficient_for") or ()) or v is None
            values.append(f"{g.get('value')} {'insufficient' if missing else _num(v)}")
        at = f" (line at {how} {_num(line)})" if line is not None else ""
        parts.append(f"{title}: " + ", ".join(values) + at)
    small = [
        f"{g.get('value')} ({g.get('reason')})" for g in groups if _status(g) == "insufficient"
    ]
    text = f"per-group rates of {column.get('key')}: " + "; ".join(parts)
    return text + (f"; insufficient groups: {', '.join(small)}" if small else "")


# -- segments: HTML and text ----------------------------------------------------------------------


_TABLE = ("status", "segment", "rows", "share", "data drift", "prediction drift", "quality",
          "NaN/inf", "finding")  # fmt: skip


def _table_row(column: Mapping[str, Any], g: Mapping[str, Any]) -> tuple[Any, ...]:
    drift = g.get("drift") or ()
    drifted = len(_drifted(g))
    share = _f(g.get("share"))
    return (
        badge(_status(g)),
        segment_label(column, g),
        f"{int(g['rows']):,}" if isinstance(g.get("rows"), int) else "—",
        f"{share:.1%}" if share is not None else "—",
        f"{drifted} of {len(drift)}" if drift else "—",
        _prediction_words(g) or "—",
        _quality_words(g, 2) or "—",
        _nan_words(g) or "—",
        _group_words(g),
    )


def _segments_table(column: Mapping[str, Any], groups: Sequence[Mapping[str, Any]]) -> str:
    return table_html(
        _TABLE,
        [_table_row(column, g) for g in groups],
        numeric=("rows", "share", "data drift"),
        raw=("status",),
    )


def _folded_summary(column: Mapping[str, Any], rest: Sequence[Mapping[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for g in rest:
        counts[_status(g)] = counts.get(_status(g), 0) + 1
    what = ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items(), key=lambda x: _RANK.get(x[0], 5))
    )
    return f"{len(rest)} more segments of {column.get('key')}, worst first ({what})"


def _bar_cell(d: Mapping[str, Any]) -> str:
    """Effect ÷ threshold as an inline-styled bar (cut at 3×) and its number: a per-column drift
    bar that costs no image; the number carries it where a sanitizer drops styles."""
    ratio = _drift_ratio(d)
    if ratio is None:
        return "—"
    width = round(min(ratio, OVERVIEW_CAP) / OVERVIEW_CAP * 60)
    color = _STATUS_COLORS[_column_status(d)]
    bar = (
        f'<span style="display:inline-block;width:{width}px;height:8px;'
        f'background-color:{color};margin-right:4px"></span>'
    )
    return f"{bar}{esc(fmt_num(ratio, 2))}×"


def _drift_table(group: Mapping[str, Any]) -> str:
    """The segment's drifted columns (at most :data:`TABLE_COLUMNS`), then the three largest
    other effects, each with its drift bar."""
    ranked = _ranked_drift(group)
    drifted = [d for d in ranked if d.get("drifted")]
    shown = drifted[:TABLE_COLUMNS] + [d for d in ranked if not d.get("drifted")][:3]
    rows = [
        (
            badge("drifted" if d.get("drifted") else "ok"),
            d.get("column"),
            d.get("test"),
            _f(d.get("statistic")),
            _f(d.get("threshold")),
            fmt_p(_f(d.get("p_value"))) or "—",
            _bar_cell(d),
        )
        for d in shown
    ]
    columns = ("drift", "column", "test", "statistic", "threshold", "p-value", "effect ÷ threshold")
    table = table_html(columns, rows, numeric=columns[3:6], raw=("drift", "effect ÷ threshold"))
    more = len(drifted) - TABLE_COLUMNS
    return table + (f"<p>… {more} more drifted columns in report.segments</p>" if more > 0 else "")


def _segment_details(column: Mapping[str, Any], group: Mapping[str, Any], *, open_: bool) -> str:
    summary = (
        f"{badge(_status(group))} {esc(segment_label(column, group))} · "
        f"{esc(_rows_words(group))} · {esc(_group_words(group))}"
    )
    body = _drift_table(group) if group.get("drift") else ""
    other = [
        c for c in group.get("checks") or ()
        if isinstance(c, Mapping) and c.get("status") in ("alert", "error")
        and ".drift.column" not in str(c.get("check"))
    ]  # fmt: skip
    if other:
        body += (
            "<ul>"
            + "".join(
                f"<li>{badge(str(c.get('status')))} {esc(str(c.get('check')))}: "
                f"{esc(str(c.get('message') or ''))}</li>"
                for c in other
            )
            + "</ul>"
        )
    quality = _quality_words(group)
    if quality:
        body += f"<p>quality (realized): {esc(quality)}</p>"
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>{body}</details>"


def _column_html(column: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    groups = ordered_groups(column)
    parts = [f"<h5{_H5}>{esc(_column_heading(column))}</h5>"]
    notes = _column_notes(column, settings)
    if notes:
        parts.append("<p>" + " ".join(f"{esc(n)}." for n in notes) + "</p>")
    if any(g.get("drift") for g in groups) or any(_status(g) == "insufficient" for g in groups):
        parts.append(chart_img(to_svg(segments_spec(column)), segments_alt(column)))
    parts.append(_segments_table(column, groups[:OPEN]))
    rest = groups[OPEN:]
    if rest:
        parts.append(
            f"<details><summary>{esc(_folded_summary(column, rest))}</summary>"
            f"{_segments_table(column, rest)}</details>"
        )
    found = [g for g in groups if _status(g) in ("alert", "error")]
    for i, g in enumerate(found[:DETAILS]):
        parts.append(_segment_details(column, g, open_=i < OPEN))
    if len(found) > DETAILS:
        parts.append(
            f"<p>… {len(found) - DETAILS} more segments with findings (in the table above; "
            "each in report.segments)</p>"
        )
    return "".join(parts)


def _method_note(settings: Mapping[str, Any]) -> str:
    min_group = settings.get("min_group", 30)
    correction = settings.get("correction", "holm")
    holm = (
        "p-values are Holm-corrected across the segments of one column, so many unchanged "
        "segments do not alert by chance"
        if correction == "holm"
        else f"p-value correction across segments: {correction}"
    )
    return (
        "Each segment is checked with the whole batch's rules and thresholds against the same "
        f"segment of the reference; {holm}. Segments under {min_group} rows are insufficient: "
        "listed with their size, never dropped and never part of an aggregate."
    )


def segments_section_html(report: MonitorReport) -> str:
    """The segments section: per slice, drift bars, the segments × checks table (worst first,
    the rest folded) and the details of segments with findings."""
    seg = report.segments
    if not seg or not seg.get("columns"):
        return ""
    settings = seg.get("settings") or {}
    worst = worst_segment(report)
    heading = "Segments" + (f": worst {worst}" if worst else ": no segment alerts")
    body = "".join(_column_html(c, settings) for c in seg["columns"] if isinstance(c, Mapping))
    return f"<h4>{esc(heading)}</h4><p>{esc(_method_note(settings))}</p>{body}"


def worst_segment(report: MonitorReport) -> str | None:
    """ "region=north (drift in 3 of 30 columns)" when a segment is not ok, else None."""
    seg = report.segments
    worst = seg.get("worst") if seg else None
    if not isinstance(worst, Mapping) or not worst.get("segment"):
        return None
    if worst.get("status") in (None, "ok"):
        return None
    message = worst.get("message")
    return f"{worst['segment']}" + (f" ({message})" if message else "")


def segments_text_lines(report: MonitorReport, *, limit: int = OPEN) -> list[str]:
    seg = report.segments
    if not seg or not seg.get("columns"):
        return []
    lines = []
    for column in seg["columns"]:
        if not isinstance(column, Mapping):
            continue
        groups = ordered_groups(column)
        lines.append(_column_heading(column).replace("Segments by ", "segments by ") + ":")
        width = max((len(segment_label(column, g)) for g in groups[:limit]), default=0)
        for g in groups[:limit]:
            word = {"alert": "ALERT", "error": "ERROR"}.get(_status(g), _status(g))
            lines.append(
                f"  {word:<12} {segment_label(column, g):<{width}}  {_rows_words(g)}: "
                f"{_group_words(g)}"
            )
        if len(groups) > limit:
            lines.append(f"  … {_folded_summary(column, groups[limit:])}")
    return lines


# -- fairness: HTML and text ----------------------------------------------------------------------


def _measure_words(m: Mapping[str, Any]) -> str:
    """The measure's finding: the engine's message ("ratio 0.71 < 0.8 (4 of 5 groups)")."""
    if m.get("message"):
        return str(m["message"])
    value, threshold = _f(m.get("value")), _f(m.get("threshold"))
    if value is None:
        return "insufficient"
    alert = m.get("status") == "alert"
    if m.get("kind") == "ratio":
        return f"ratio {value:.2f} {'<' if alert else '≥'} {_num(threshold)}"
    return f"difference {value:.2f} {'>' if alert else '≤'} {_num(threshold)}"


def _value(key: str, group: Mapping[str, Any]) -> str:
    """A per-group measure: rates to 3 decimals, errors to 3 significant digits."""
    return _rate(group.get(key)) if key in dict(RATES) else _num(group.get(key))


def _measure_label(name: str) -> str:
    return _MEASURE_LABELS.get(name, name.replace("_", " "))


def _measures_table(column: Mapping[str, Any]) -> str:
    rows = []
    for m in column.get("measures") or ():
        if not isinstance(m, Mapping):
            continue
        covered, total = m.get("groups_covered"), m.get("groups_total")
        change = _f(m.get("change"))
        rows.append(
            (
                badge(_status(m)),
                _measure_label(str(m.get("name"))),
                _num(m.get("value")),
                _num(m.get("threshold")),
                f"{covered} of {total}" if covered is not None else "—",
                _num(m.get("baseline")),
                "—" if change is None else f"{change:+.3g}",
                _measure_words(m),
            )
        )
    columns = ("status", "measure", "value", "threshold", "groups", "baseline", "change",
               "finding")  # fmt: skip
    return table_html(columns, rows, numeric=columns[2:7], raw=("status",))


def _group_status(g: Mapping[str, Any]) -> str:
    missing = [
        str(k).upper() if k in ("tpr", "fpr") else str(k) for k in g.get("insufficient_for") or ()
    ]
    if _status(g) == "insufficient":
        return f"{badge('insufficient')} {esc(str(g.get('reason') or 'too few rows'))}"
    if missing:
        why = f": {g['reason']}" if g.get("reason") else ""
        return f"{badge('ok')} {esc(', '.join(missing))} insufficient{esc(why)}"
    return badge("ok")


def _group_metric_names(column: Mapping[str, Any]) -> list[str]:
    """The model's metrics measured per group (``groups[].metrics``), but those the table
    already shows (accuracy; recall is the TPR)."""
    names: dict[str, None] = {}
    for g in column.get("groups") or ():
        if isinstance(g, Mapping) and isinstance(g.get("metrics"), Mapping):
            names.update(dict.fromkeys(str(k) for k in g["metrics"]))
    return [n for n in names if n not in ("accuracy", "recall")]


def _groups_table(column: Mapping[str, Any]) -> str:
    measures = _measures(column)
    extra = [("accuracy", "accuracy")] if any(
        _f(g.get("accuracy")) is not None for g in column.get("groups") or ()
    ) else []  # fmt: skip
    metrics = _group_metric_names(column)
    has_pos = any(g.get("positives") is not None for g in column.get("groups") or ())
    columns = ["group", "rows", *(["positives"] if has_pos else []),
               *(label for _, label in (*measures, *extra)), *metrics, "status"]  # fmt: skip
    rows = []
    for g in column.get("groups") or ():
        if not isinstance(g, Mapping):
            continue
        row: list[Any] = [str(g.get("value")), f"{int(g.get('rows') or 0):,}"]
        if has_pos:
            row.append(f"{int(g['positives']):,}" if isinstance(g.get("positives"), int) else "—")
        for key, _label in (*measures, *extra):
            missing = key in (g.get("insufficient_for") or ())
            row.append(
                "insufficient"
                if missing
                else _rate(g.get(key))
                if key in dict(RATES)
                else _num(g.get(key))
            )
        measured = g.get("metrics")
        row += [
            _rate(measured.get(name)) if isinstance(measured, Mapping) else "—" for name in metrics
        ]
        row.append(_group_status(g))
        rows.append(row)
    return table_html(columns, rows, numeric=columns[1:-1], raw=("status",))


def _baseline_note(column: Mapping[str, Any]) -> str:
    """Where the disparity baseline came from ("baseline from the model's evaluation data
    churn-eval@1"), or why there is none; "" when the engine did not say."""
    baseline = column.get("baseline")
    if not isinstance(baseline, Mapping):
        return ""
    if baseline.get("source"):
        dataset = f" {baseline['dataset']}" if baseline.get("dataset") else ""
        if baseline["source"] == "reference":  # a run with reference= another dataset
            return f"baseline from the run's reference{dataset}"
        return f"baseline from the model's {baseline['source']} data{dataset}"
    return str(baseline.get("note") or "no baseline")


def _change_alerts(column: Mapping[str, Any], checks: Sequence[CheckResult]) -> list[CheckResult]:
    """The column's ``fairness.<key>[.class=<c>].<measure>.change`` checks that alerted."""
    prefix = f"fairness.{column.get('key')}."
    cls = str(column.get("class") or "").removesuffix(" (one-vs-rest)")
    return [
        c
        for c in checks
        if c.check.startswith(prefix)
        and c.check.endswith(".change")
        and c.status in ("alert", "error")
        and (not cls or f".class={cls}." in c.check)
    ]


def _fairness_column_html(
    column: Mapping[str, Any], settings: Mapping[str, Any], checks: Sequence[CheckResult] = ()
) -> str:
    measures = [m for m in column.get("measures") or () if isinstance(m, Mapping)]
    alerts = [m for m in measures if m.get("status") == "alert"]
    name = f"{column.get('key')}" + (f" ({column['class']})" if column.get("class") else "")
    status = "alert" if alerts else ("insufficient" if measures and all(
        m.get("status") == "insufficient" for m in measures) else "ok")  # fmt: skip
    heading = f"<h5{_H5}>Fairness by {esc(name)} {badge(status)}</h5>"
    baseline = _baseline_note(column)
    if baseline:
        heading += f"<p>{esc(baseline)}.</p>"
    chart = chart_img(to_svg(fairness_spec(column, settings)), fairness_alt(column, settings))
    changes = _change_alerts(column, checks)
    changed = (
        "<ul>"
        + "".join(f"<li>{badge(c.status)} {esc(c.check)}: {esc(c.message)}</li>" for c in changes)
        + "</ul>"
        if changes
        else ""
    )
    return heading + _measures_table(column) + changed + chart + _groups_table(column)


def _fairness_note(fair: Mapping[str, Any]) -> str:
    s = fair.get("settings") or {}
    method = s.get("method", "between_groups")
    how = (
        "between groups (lowest ÷ highest)" if method == "between_groups" else "to the overall rate"
    )
    ref = s.get("reference_group")
    if isinstance(ref, Mapping) and ref:
        how = "to a base group (" + ", ".join(f"{k}: {v}" for k, v in ref.items()) + ")"
    elif ref is not None:
        how = f"to group {ref}"
    parts = [
        f"Measures as Fairlearn defines them, compared {how}: a ratio alerts below "
        f"{s.get('ratio', 0.8)}, a difference above {s.get('difference', 0.1)}, and so does a "
        "change of either from the model's evaluation/training data by more than the same "
        "threshold",
        f"groups under {s.get('min_group', 30)} rows, or with fewer than "
        f"{s.get('min_positives', 10)} positives (negatives) for TPR (FPR), are insufficient: "
        "left out of the aggregate, which says how many groups it covers",
    ]
    if fair.get("note"):
        parts.append(str(fair["note"]))
    if fair.get("positive") is not None:
        parts.append(f"positive class: {fair['positive']}")
    return "; ".join(parts) + "."


def fairness_section_html(report: MonitorReport) -> str:
    """The fairness section: per sensitive column, measures, per-group bars and groups."""
    fair = report.fairness
    if not fair or not fair.get("columns"):
        return ""
    settings = fair.get("settings") or {}
    headline = fairness_headline(report)
    heading = "Fairness" + (f": {headline}" if headline else ": no disparity past the thresholds")
    body = "".join(
        _fairness_column_html(c, settings, report.checks)
        for c in fair["columns"]
        if isinstance(c, Mapping)
    )
    return f"<h4>{esc(heading)}</h4><p>{esc(_fairness_note(fair))}</p>{body}"


def fairness_headline(report: MonitorReport) -> str | None:
    """The first alerting measure, e.g. "demographic parity ratio by gender: ratio 0.71 < 0.8"
    (and how many more), or None."""
    fair = report.fairness
    if not fair:
        return None
    found = [
        (c, m)
        for c in fair.get("columns") or ()
        if isinstance(c, Mapping)
        for m in c.get("measures") or ()
        if isinstance(m, Mapping) and m.get("status") == "alert"
    ]
    if not found:
        return None
    c, m = found[0]
    words = _measure_words(m).split(" (")[0]  # without "(4 of 5 groups)"
    text = f"{_measure_label(str(m.get('name')))} by {c.get('key')} {words}"
    return text + (f" (+{len(found) - 1} more)" if len(found) > 1 else "")


def fairness_text_lines(report: MonitorReport) -> list[str]:
    fair = report.fairness
    if not fair or not fair.get("columns"):
        return []
    lines = []
    if fair.get("note"):
        lines.append(f"fairness: {fair['note']}")
    for column in fair["columns"]:
        if not isinstance(column, Mapping):
            continue
        name = f"{column.get('key')}" + (f" ({column['class']})" if column.get("class") else "")
        baseline = _baseline_note(column)
        lines.append(f"fairness by {name}:" + (f" ({baseline})" if baseline else ""))
        for m in column.get("measures") or ():
            if isinstance(m, Mapping):
                word = {"alert": "ALERT", "error": "ERROR"}.get(_status(m), _status(m))
                lines.append(
                    f"  {word:<12} {_measure_label(str(m.get('name')))}: {_measure_words(m)}"
                )
        measures = _measures(column)
        for g in column.get("groups") or ():
            if not isinstance(g, Mapping):
                continue
            values = ", ".join(
                f"{label} {'insufficient' if k in (g.get('insufficient_for') or ()) else _value(k, g)}"
                for k, label in measures
            )
            flag = f"; insufficient: {g.get('reason')}" if _status(g) == "insufficient" else ""
            lines.append(f"  group {g.get('value')}: n {int(g.get('rows') or 0):,}, {values}{flag}")
    return lines
