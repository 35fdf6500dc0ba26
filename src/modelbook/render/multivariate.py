"""The monitor report's multivariate section: text, HTML and the band chart.

The chart is a Vega-Lite spec (a pure function of the result, like :mod:`~modelbook.render.charts`)
drawn as an ``<img>``: the reference band as a shaded interval, each reference chunk's mean error
as a tick, the reference mean as a rule, and the batch's mean error as a point (red outside
the band). Its ``alt`` text says the same in words, and the tables say which columns carry the
change, so the section reads whole after any sanitizer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from modelbook.render.charts import COLORS, SCHEMA, to_svg
from modelbook.render.html import badge, chart_img, esc, table_html

if TYPE_CHECKING:
    from modelbook.monitoring.report import MonitorReport
    from modelbook.stats.multivariate import ClassifierDrift, MultivariateDrift, PcaDrift

__all__ = [
    "band_alt",
    "band_spec",
    "multivariate_section_html",
    "multivariate_text_lines",
]

_TOP = 8  # columns shown in the tables


def _r(value: float) -> float | None:
    return float(f"{value:.6g}") if math.isfinite(value) else None


def _where(d: PcaDrift) -> str:
    if d.error > d.upper:
        return "above the band"
    if d.error < d.lower:
        return "below the band"
    return "within the band"


def band_spec(d: PcaDrift) -> dict[str, Any]:
    """The batch's mean reconstruction error (a point) against the reference band."""
    chunks = [{"error": _r(v)} for v in d.chunk_errors if math.isfinite(v)]
    values = [v for v in (d.lower, d.upper, d.error, *d.chunk_errors) if math.isfinite(v)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (hi - lo) * 0.08 or 0.1
    x = {
        "type": "quantitative",
        "scale": {"domain": [_r(max(0.0, lo - pad)), _r(hi + pad)], "zero": False},
        "title": "mean reconstruction error (standard deviations)",
    }
    color = COLORS["drifted"] if d.drifted else COLORS["current"]
    return {
        "$schema": SCHEMA,
        "config": {"view": {"stroke": None}, "aria": False, "axis": {"labelFontSize": 10}},
        "width": 420,
        "height": 44,
        "title": {
            "text": f"batch {d.error:.4g}: {_where(d)} [{d.lower:.4g}, {d.upper:.4g}]",
            "fontSize": 11,
            "anchor": "start",
        },
        "layer": [
            {
                "data": {"values": [{"lower": _r(d.lower), "upper": _r(d.upper)}]},
                "mark": {"type": "rect", "color": COLORS["ok"], "opacity": 0.25},
                "encoding": {"x": {"field": "lower", **x}, "x2": {"field": "upper"}},
            },
            {
                "data": {"values": chunks},
                "mark": {"type": "tick", "color": COLORS["reference"], "opacity": 0.6},
                "encoding": {"x": {"field": "error", **x}},
            },
            {
                "data": {"values": [{"center": _r(d.center)}]},
                "mark": {"type": "rule", "color": COLORS["reference"], "strokeDash": [4, 2]},
                "encoding": {"x": {"field": "center", **x}},
            },
            {
                "data": {"values": [{"error": _r(d.error)}]},
                "mark": {"type": "point", "filled": True, "size": 140, "color": color},
                "encoding": {"x": {"field": "error", **x}},
            },
        ],
    }


def _contributors(d: PcaDrift, n: int = 3) -> str:
    return ", ".join(f"{c} {s:.0%}" for c, s, _b, _r in d.contributions[:n] if s >= 0.005)


def band_alt(d: PcaDrift) -> str:
    """What the band chart shows, in words (the ``alt`` of its image)."""
    text = (
        f"mean reconstruction error of the batch, {d.error:.4g}, against the reference band "
        f"{d.lower:.4g} to {d.upper:.4g} (mean of {len(d.chunk_errors)} reference chunks "
        f"{d.center:.4g} ± {d.sigma:g}σ): {_where(d)}"
    )
    top = _contributors(d)
    if d.drifted and top:
        text += f"; the extra error comes from {top}"
    return text


def _pca_html(d: PcaDrift) -> str:
    status = "alert" if d.drifted else "ok"
    sizes = f"{d.band_rows:,}"
    lead = (
        f"<p>{badge(status)} Mean reconstruction error {esc(f'{d.error:.4g}')} "
        f"{esc(_where(d))} [{esc(f'{d.lower:.4g}')}, {esc(f'{d.upper:.4g}')}]: the reference "
        f"chunks' mean {esc(f'{d.center:.4g}')} ± {esc(f'{d.sigma:g}')}σ at {sizes} rows. "
        f"{d.components} principal components keep {d.explained:.0%} of the variance of "
        f"{d.features} columns; a row's error is what they cannot express (in standard "
        f"deviations), so it grows when columns stop moving together as they did. "
        f"Statistics fitted at {esc(d.fitted)}.</p>"
    )
    chart = chart_img(to_svg(band_spec(d)), band_alt(d))
    extra = d.error > d.center
    share = "share of the extra error" if extra else "share of the residual"
    rows = [
        (c, f"{s:.1%}", f"{b:.4g}", f"{r:.4g}")
        for c, s, b, r in d.contributions[:_TOP]
        if s >= 0.0005
    ]
    table = (
        table_html(
            ("column", share, "batch mean squared residual", "reference"),
            rows,
            numeric=(share, "batch mean squared residual", "reference"),
        )
        if rows
        else ""
    )
    return lead + chart + table


def _classifier_html(d: ClassifierDrift) -> str:
    status = "alert" if d.drifted else "ok"
    sign = ">" if d.drifted else "≤"
    lead = (
        f"<p>{badge(status)} Domain classifier: AUC {d.auc:.3f} {sign} {d.threshold:.3f}. A "
        f"gradient-boosted classifier learned to tell {d.batch_rows:,} batch rows from "
        f"{d.reference_rows:,} reference rows ({d.folds}-fold cross-validation, "
        f"{d.seconds:.1f} s); 0.5 means it cannot.</p>"
    )
    rows = [(c, f"{v:.4f}") for c, v in d.importances[:_TOP]]
    table = table_html(
        ("column", "AUC lost when shuffled"), rows, numeric=("AUC lost when shuffled",)
    )
    return lead + table


def multivariate_section_html(report: MonitorReport) -> str:
    """The section: the band chart and contributing columns, then the classifier."""
    m: MultivariateDrift | None = report.multivariate
    if m is None or (m.pca is None and m.classifier is None and not m.notes):
        return ""
    drifted = any(x is not None and x.drifted for x in (m.pca, m.classifier))
    word = "drifted" if drifted else "no drift"
    body = _pca_html(m.pca) if m.pca is not None else ""
    body += _classifier_html(m.classifier) if m.classifier is not None else ""
    body += "".join(f"<p>{esc(n)}.</p>" for n in m.notes)
    return f"<h4>Multivariate drift: {esc(word)}</h4>{body}"


def multivariate_text_lines(report: MonitorReport) -> list[str]:
    m = report.multivariate
    if m is None:
        return []
    lines = []
    if m.pca is not None:
        d = m.pca
        line = (
            f"multivariate: reconstruction error {d.error:.4g} {_where(d)} "
            f"[{d.lower:.4g}, {d.upper:.4g}]"
        )
        top = _contributors(d)
        lines.append(line + (f"; from {top}" if d.drifted and top else ""))
    if m.classifier is not None:
        c = m.classifier
        top = ", ".join(name for name, v in c.importances[:3] if v >= 0.001)
        lines.append(
            f"domain classifier: AUC {c.auc:.3f} {'>' if c.drifted else '≤'} {c.threshold:.3f}"
            + (f"; top columns {top}" if c.drifted and top else "")
        )
    lines.extend(f"multivariate: {n}" for n in m.notes)
    return lines
