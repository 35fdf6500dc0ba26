"""Drift sections shared by every report that carries a :class:`DatasetDrift` (monitor, diffs).

:func:`drift_html` gives a column table and two inline SVG charts: the drift scores of the
highest-scoring columns and the distributions of the most drifted ones. Both charts are
rendered in one go each, on two threads (vl-convert releases the GIL), so a 500-column report
costs two renders, not 500; the table lists every column and the charts stay a bounded size.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from modelbook.render.format import fmt_value
from modelbook.render.html import esc, table_html
from modelbook.render.text import table_text

if TYPE_CHECKING:
    from modelbook.stats.drift import ColumnDrift, DatasetDrift

__all__ = [
    "MAX_DISTRIBUTIONS",
    "drift_charts",
    "drift_charts_html",
    "drift_html",
    "drift_rows",
    "drift_text",
    "top_columns",
]

#: Columns whose distributions the static HTML draws (most drifted first).
MAX_DISTRIBUTIONS = 6
_COLUMNS = ("column", "kind", "test", "statistic", "threshold", "p-value", "status")


def _status(c: ColumnDrift) -> str:
    if not c.tested:
        return "not tested"
    return "drifted" if c.drifted else "ok"


def top_columns(drift: DatasetDrift, n: int = MAX_DISTRIBUTIONS) -> list[ColumnDrift]:
    """The columns worth a plot: drifted ones, then those at half their threshold or more, by
    drift score; at least the highest-scoring column, so a clean report still shows one."""
    from modelbook.render.charts import drift_score

    tested = [c for c in drift.columns if c.tested and c.reference_counts]
    tested.sort(key=lambda c: (not c.drifted, -(drift_score(c) or 0.0), c.column))
    chosen = [c for c in tested if c.drifted or (drift_score(c) or 0.0) >= 0.5]
    return (chosen or tested[:1])[:n]


def drift_rows(drift: DatasetDrift) -> list[list[str]]:
    """Formatted table rows, drifted columns first (the order every view uses)."""
    from modelbook.render.charts import drift_score

    ordered = sorted(
        drift.columns,
        key=lambda c: (not c.drifted, not c.tested, -(drift_score(c) or 0.0), c.column),
    )
    return [
        [
            c.column,
            c.kind,
            c.test,
            "" if not c.tested or math.isnan(c.statistic) else fmt_value(c.statistic),
            "" if not c.tested or math.isnan(c.threshold) else fmt_value(c.threshold),
            "" if c.p_value is None else fmt_value(c.p_value),
            _status(c),
        ]
        for c in ordered
    ]


def _summary(drift: DatasetDrift) -> str:
    tested = sum(c.tested for c in drift.columns)
    drifted = sum(c.drifted for c in drift.columns)
    verdict = "dataset drift" if drift.drifted else "no dataset drift"
    return (
        f"{drifted} of {tested} columns drifted ({drift.drifted_share:.0%}; "
        f"threshold {drift.share_threshold:.0%}): {verdict}"
    )


def drift_text(drift: DatasetDrift, *, limit: int = 20) -> str:
    rows = drift_rows(drift)
    lines = [_summary(drift)]
    shown = [r for r in rows if r[-1] == "drifted"][:limit]
    if shown:
        lines.append(table_text(_COLUMNS, shown))
        if len(shown) < sum(r[-1] == "drifted" for r in rows):
            lines.append(f"… {sum(r[-1] == 'drifted' for r in rows) - len(shown)} more drifted")
    return "\n".join(lines)


def drift_charts(drift: DatasetDrift) -> tuple[str, str]:
    """(overview SVG, distributions SVG); either is "" when there is nothing to draw."""
    from modelbook.render.charts import distributions_spec, drift_overview_spec, to_svg

    top = top_columns(drift)
    specs: list[dict[str, Any] | None] = [
        drift_overview_spec(drift) if any(c.tested for c in drift.columns) else None,
        distributions_spec(top) if top else None,
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        svgs = list(pool.map(lambda s: to_svg(s) if s is not None else "", specs))
    return svgs[0], svgs[1]


_CHART_STYLE = (
    "<style>.mb .mb-charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
    ".mb .mb-chart svg{max-width:100%;height:auto}</style>"
)


def drift_charts_html(drift: DatasetDrift) -> str:
    """The two drift charts as inline SVG in a flex box (no script); "" if nothing to draw."""
    overview, distributions = drift_charts(drift)
    charts = "".join(
        f'<div class="mb-chart">{svg}</div>' for svg in (overview, distributions) if svg
    )
    return f'{_CHART_STYLE}<div class="mb-charts">{charts}</div>' if charts else ""


def drift_html(drift: DatasetDrift, *, title: str = "Drift") -> str:
    """A self-contained section: summary, charts (inline SVG) and the column table."""
    cls = "alert" if drift.drifted else "ok"
    rows = []
    for r in drift_rows(drift):
        status = r[-1]
        css = {"drifted": "alert", "ok": "ok"}.get(status, "muted")
        rows.append([*r[:-1], f'<span class="{css}">{esc(status)}</span>'])
    table = table_html(
        _COLUMNS, rows, numeric=("statistic", "threshold", "p-value"), raw=("status",)
    )
    return (
        f'<h4>{esc(title)}</h4><p class="{cls}">{esc(_summary(drift))}</p>'
        f"{drift_charts_html(drift)}"
        f"<details><summary>all {len(rows)} columns</summary>{table}</details>"
    )
