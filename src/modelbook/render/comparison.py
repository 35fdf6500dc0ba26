"""Text and self-contained HTML for a champion/challenger comparison.

The same findings in the same order in every face (this module, the widget, the lab renderer):
the verdict with its reason and labelled n, agreement (disagreement, mean |Δscore|, share above
0.1), both prediction distributions (one chart, an ``<img>`` data URI described in its ``alt``),
quality per version on the labelled rows with n and the McNemar test, serving cost of each, and
the two stored runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelbook.monitoring.challenger import ChallengerComparison, Comparison
from modelbook.render.format import fmt_p, fmt_value, plural
from modelbook.render.html import badge, chart_img, esc, register_html, table_html
from modelbook.render.text import register_text, table_text

__all__ = [
    "VERDICT_STYLES",
    "agreement_rows",
    "distribution_alt",
    "distribution_spec",
    "quality_rows",
    "serving_rows",
    "verdict_badge",
]

#: Word and colour of each verdict (the word carries the meaning; the colour helps).
VERDICT_STYLES = {
    "better": ("BETTER", "#1a7f37"),
    "worse": ("WORSE", "#cf222e"),
    "inconclusive": ("inconclusive", "#57606a"),
}
_BADGE = (
    "color:#ffffff;background-color:{color};border-radius:8px;padding:0 6px;"
    "font-weight:600;font-size:11px;white-space:nowrap"
)


def verdict_badge(verdict: str) -> str:
    word, color = VERDICT_STYLES.get(verdict, (verdict, "#57606a"))
    if verdict == "inconclusive":
        return f'<span style="color:{color};font-weight:600">{esc(word)}</span>'
    return f'<span style="{_BADGE.format(color=color)}">{esc(word)}</span>'


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def agreement_rows(c: Comparison) -> list[tuple[str, str]]:
    """(measure, value) rows: how much the two versions' answers differ."""
    rows = [("rows scored by both", f"{c.n_rows:,}")]
    if c.disagreement is not None:
        rows.append(("predicted labels differ", _pct(c.disagreement)))
    rows.append(("mean |Δscore|", _num(c.mean_abs_delta)))
    rows.append((f"rows with |Δscore| > {c.delta:g}", _pct(c.share_delta_above)))
    return rows


def quality_rows(c: Comparison) -> list[tuple[str, str, str, str, str]]:
    """(metric, champion, challenger, difference, n) on the labelled rows."""
    out = []
    for q in c.quality:
        a, b = q.get("champion"), q.get("challenger")
        diff = f"{b - a:+.4g}" if a is not None and b is not None else "—"
        out.append((str(q["metric"]), _num(a), _num(b), diff, f"{int(q['n']):,}"))
    return out


_SERVING = (
    ("latency_ms_p50", "one-row latency, median (ms)"),
    ("latency_ms_p95", "one-row latency, p95 (ms)"),
    ("rows_per_second", "batch throughput (rows/s)"),
)


def serving_rows(c: Comparison) -> list[tuple[str, str, str]]:
    a: Mapping[str, float] = c.latency.get("champion", {})
    b: Mapping[str, float] = c.latency.get("challenger", {})
    return [
        (
            label,
            fmt_value(a.get(key)) if key in a else "—",
            fmt_value(b.get(key)) if key in b else "—",
        )
        for key, label in _SERVING
        if key in a or key in b
    ]


def _mcnemar_line(c: Comparison) -> str:
    t = c.mcnemar
    if not t:
        return ""
    return (
        f"{t['test']}: challenger right where champion wrong on {plural(int(t['c']), 'row')}, "
        f"the reverse on {plural(int(t['b']), 'row')}; p-value {fmt_p(t['p_value'])} "
        f"(n = {c.n_labelled:,} labelled rows)"
    )


# -- chart ----------------------------------------------------------------------------------------


def _names(c: Comparison) -> tuple[str, str]:
    return f"champion {c.champion}", f"challenger {c.challenger}"


def distribution_spec(c: Comparison) -> dict[str, Any] | None:
    """Both versions' prediction distributions on common bins (shares of rows), or their
    predicted class counts; None when there is nothing to draw."""
    from modelbook.render.charts import COLORS, SCHEMA

    d = c.distribution
    if not d or not d.get("champion"):
        return None
    names = _names(c)
    values: list[dict[str, Any]] = []
    color = {
        "field": "version",
        "type": "nominal",
        "title": None,
        "sort": list(names),
        "scale": {"domain": list(names), "range": [COLORS["reference"], COLORS["current"]]},
    }
    base: dict[str, Any] = {
        "$schema": SCHEMA,
        "config": {
            "aria": False,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 10, "titleFontSize": 10},
            "legend": {"labelFontSize": 10, "orient": "top"},
            "title": {"fontSize": 11, "anchor": "start", "subtitleFontSize": 10},
        },
        "width": 360,
    }
    if d["kind"] == "classes":
        for name, role in zip(names, ("champion", "challenger"), strict=True):
            total = sum(d[role]) or 1
            for label, count in zip(d["labels"], d[role], strict=True):
                values.append({"version": name, "class": str(label), "share": count / total})
        return {
            **base,
            "title": {"text": "predicted classes (share of rows)"},
            "height": {"step": 12},
            "data": {"values": values},
            "mark": {"type": "bar"},
            "encoding": {
                "y": {"field": "class", "type": "nominal", "title": None, "sort": None},
                "yOffset": {"field": "version", "sort": list(names)},
                "x": {"field": "share", "type": "quantitative", "title": "share of rows",
                      "axis": {"format": "%"}},
                "color": color,
            },
        }  # fmt: skip
    edges = d["edges"]
    for name, role in zip(names, ("champion", "challenger"), strict=True):
        total = sum(d[role]) or 1
        for i, count in enumerate(d[role]):
            values.append(
                {
                    "version": name,
                    "start": round(edges[i], 6),
                    "end": round(edges[i + 1], 6),
                    "share": round(count / total, 5),
                }
            )
    what = "predicted value" if c.task == "regression" else "score"
    return {
        **base,
        "title": {"text": f"{what} distribution of both versions (share of rows per bin)"},
        "height": 150,
        "data": {"values": values},
        "mark": {"type": "bar", "opacity": 0.55, "binSpacing": 0},
        "encoding": {
            "x": {"field": "start", "type": "quantitative", "title": what,
                  "scale": {"domain": [edges[0], edges[-1]], "zero": False}},
            "x2": {"field": "end"},
            "y": {"field": "share", "type": "quantitative", "title": "share of rows",
                  "stack": None, "axis": {"format": "%"}},
            "y2": {"datum": 0},
            "color": color,
        },
    }  # fmt: skip


def distribution_alt(c: Comparison) -> str:
    """What the distribution chart shows, in words."""
    import numpy as np

    d = c.distribution
    a, b = _names(c)
    if d.get("kind") == "classes":
        parts = []
        for label, x, y in zip(d["labels"], d["champion"], d["challenger"], strict=True):
            ta, tb = sum(d["champion"]) or 1, sum(d["challenger"]) or 1
            parts.append(f"{label} {x / ta:.1%} vs {y / tb:.1%}")
        return f"predicted classes of {a} vs {b}: " + "; ".join(parts[:12])
    edges = np.asarray(d["edges"], dtype=float)
    mids = (edges[:-1] + edges[1:]) / 2

    def mean(counts: Any) -> float:
        counts = np.asarray(counts, dtype=float)
        return float((mids * counts).sum() / counts.sum()) if counts.sum() else float("nan")

    what = "predicted value" if c.task == "regression" else "score"
    return (
        f"{what} distributions of {a} (mean {mean(d['champion']):.3g}) and {b} "
        f"(mean {mean(d['challenger']):.3g}) on common bins from {edges[0]:.3g} to "
        f"{edges[-1]:.3g}; mean |Δscore| {_num(c.mean_abs_delta)}"
    )


def distribution_html(c: Comparison) -> str:
    from modelbook.render.charts import to_svg

    spec = distribution_spec(c)
    if spec is None:
        return ""
    return chart_img(to_svg(spec), distribution_alt(c))


# -- sections -------------------------------------------------------------------------------------


def header_html(result: ChallengerComparison) -> str:
    c = result.comparison
    stored = (
        f" · batch <code>{esc(result.batch_id[:8])}</code> stored"
        if result.batch_id
        else " · not stored"
    )
    return (
        f"<h3>challenger <code>{esc(c.challenger)}</code> vs champion "
        f"<code>{esc(c.champion)}</code>: {verdict_badge(c.verdict)}</h3>"
        f"<p>{esc(c.reason)}{stored}</p>"
    )


def agreement_section_html(result: ChallengerComparison) -> str:
    c = result.comparison
    return (
        "<h4>Agreement</h4>"
        + table_html(("measure", "value"), agreement_rows(c), numeric=("value",))
        + distribution_html(c)
    )


def quality_section_html(result: ChallengerComparison) -> str:
    c = result.comparison
    if not c.quality:
        return f"<h4>Quality on labelled rows</h4><p>{esc(c.reason)}</p>"
    columns = ("metric", "champion", "challenger", "difference", "n")
    return (
        f"<h4>Quality on {plural(c.n_labelled, 'labelled row')}</h4>"
        + table_html(columns, quality_rows(c), numeric=columns[1:])
        + f"<p>{esc(_mcnemar_line(c))}</p>"
    )


def serving_section_html(result: ChallengerComparison) -> str:
    rows = serving_rows(result.comparison)
    if not rows:
        return ""
    columns = ("measure", "champion", "challenger")
    return "<h4>Serving cost</h4>" + table_html(columns, rows, numeric=columns[1:])


def runs_section_html(result: ChallengerComparison) -> str:
    rows = [
        (role, r.target, badge(r.status), str(len(r.alerts)), (r.run_id or "not stored")[:8])
        for role, r in (("champion", result.champion), ("challenger", result.challenger))
    ]
    return "<h4>Runs</h4>" + table_html(
        ("role", "version", "status", "alerts", "run"), rows, numeric=("alerts",), raw=("status",)
    )


@register_html(ChallengerComparison)
def _html(result: ChallengerComparison) -> str:
    return "".join(
        (
            header_html(result),
            agreement_section_html(result),
            quality_section_html(result),
            serving_section_html(result),
            runs_section_html(result),
        )
    )


@register_text(ChallengerComparison)
def _text(result: ChallengerComparison) -> str:
    c = result.comparison
    word = VERDICT_STYLES.get(c.verdict, (c.verdict, ""))[0]
    lines = [f"challenger {c.challenger} vs champion {c.champion}: {word} ({c.reason})"]
    lines += [f"  {k}: {v}" for k, v in agreement_rows(c)]
    if c.quality:
        lines.append(f"quality on {plural(c.n_labelled, 'labelled row')}:")
        lines.append(
            table_text(
                ["metric", "champion", "challenger", "difference", "n"],
                [list(r) for r in quality_rows(c)],
            )
        )
        lines.append(f"  {_mcnemar_line(c)}")
    serving = serving_rows(c)
    if serving:
        lines.append("serving: " + "; ".join(f"{m} {a} vs {b}" for m, a, b in serving))
    for role, r in (("champion", result.champion), ("challenger", result.challenger)):
        lines.append(
            f"{role} {r.target}: {r.status}, {plural(len(r.alerts), 'alert')}"
            + (f", run {r.run_id}" if r.run_id else "")
        )
    if result.batch_id:
        lines.append(f"batch {result.batch_id} stored")
    return "\n".join(lines)
