"""Drift sections shared by every report that carries a :class:`DatasetDrift` (monitor, diffs).

:func:`drift_html` gives a summary, the charts and a column table whose rows explain
themselves: each has its p-value and the decision in words ("effect 0.19 ≥ 0.05 but p = 0.31:
not significant at 171 rows"); why each test was chosen is said once per test, under the table.
Every view lists columns in one order (:func:`modelbook.render.verdicts.decision_key`: drifted
first, then by p-value, then by effect).

Charts: an overview of the decision per column (one render, the first 25 columns) and the
distributions of the columns worth a look (:func:`top_columns`, at most
:data:`MAX_DISTRIBUTIONS`), one image each so each has its own ``alt`` text, rendered on a thread
pool (vl-convert releases the GIL): a 500-column report costs seven small renders, not 500; the
table lists every column and the charts stay a bounded size.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from modelbook.render.format import fmt_num, fmt_p, plural
from modelbook.render.html import badge, chart_img, esc, table_html
from modelbook.render.text import table_text
from modelbook.render.verdicts import category, decision_key, effect_ratio, status, verdict

if TYPE_CHECKING:
    from modelbook.stats.drift import ColumnDrift, DatasetDrift

__all__ = [
    "MAX_DISTRIBUTIONS",
    "TEXT_COLUMNS",
    "drift_charts",
    "drift_charts_html",
    "drift_html",
    "drift_rows",
    "drift_summary",
    "drift_table_html",
    "drift_text",
    "drift_text_rows",
    "ordered",
    "top_columns",
    "why_notes",
]

#: Columns whose distributions the static HTML draws (in decision order).
MAX_DISTRIBUTIONS = 6
_COLUMNS = ("column", "kind", "test", "statistic", "threshold", "p-value", "status")
TEXT_COLUMNS = ("column", "test", "statistic", "threshold", "p-value", "drift", "why")


def _num(value: float) -> str:
    return fmt_num(value, 3) if value == value else ""


def top_columns(drift: DatasetDrift, n: int = MAX_DISTRIBUTIONS) -> list[ColumnDrift]:
    """The columns worth a plot, in decision order: the drifted ones, then those whose effect
    reaches half their threshold or more; at least one, so a clean report still shows one."""
    tested = sorted((c for c in drift.columns if c.tested and c.reference_counts), key=decision_key)
    chosen = [c for c in tested if c.drifted or (effect_ratio(c) or 0.0) >= 0.5]
    if not chosen and tested:
        chosen = [max(tested, key=lambda c: effect_ratio(c) or 0.0)]
    return chosen[:n]


def ordered(drift: DatasetDrift) -> list[ColumnDrift]:
    return sorted(drift.columns, key=decision_key)


def drift_rows(drift: DatasetDrift) -> list[list[str]]:
    """Formatted rows (column, kind, test, statistic, threshold, p-value, status) in decision
    order (the order every view uses)."""
    return [
        [
            c.column,
            c.kind,
            c.test,
            _num(c.statistic) if c.tested else "",
            _num(c.threshold) if c.tested else "",
            fmt_p(c.p_value),
            status(c),
        ]
        for c in ordered(drift)
    ]


def drift_summary(drift: DatasetDrift) -> str:
    tested = sum(c.tested for c in drift.columns)
    drifted = sum(c.drifted for c in drift.columns)
    decision = "dataset drift" if drift.drifted else "no dataset drift"
    return (
        f"{drifted} of {plural(tested, 'column')} drifted ({drift.drifted_share:.0%}; "
        f"threshold {drift.share_threshold:.0%}): {decision}"
    )


def why_notes(columns: Sequence[ColumnDrift]) -> list[tuple[str, int, str]]:
    """(test, number of columns, why this test) once per distinct test and reason."""
    groups: dict[tuple[str, str], int] = {}
    for c in columns:
        if c.tested:
            groups[(c.test, c.reason)] = groups.get((c.test, c.reason), 0) + 1
    return [(test, n, reason) for (test, reason), n in groups.items()]


def _notes_html(columns: Sequence[ColumnDrift]) -> str:
    notes = why_notes(columns)
    if not notes:
        return ""
    items = "".join(
        f"<li><b>{esc(test)}</b> ({plural(n, 'column')}): {esc(reason)}</li>"
        for test, n, reason in notes
    )
    return f"<p>Why these tests:</p><ul>{items}</ul>"


def drift_text_rows(columns: Sequence[ColumnDrift]) -> list[list[str]]:
    return [
        [
            c.column,
            c.test,
            _num(c.statistic) if c.tested else "",
            _num(c.threshold) if c.tested else "",
            fmt_p(c.p_value),
            status(c),
            verdict(c),
        ]
        for c in columns
    ]


def drift_text(drift: DatasetDrift, *, limit: int = 20) -> str:
    """Summary, then the drifted columns (or, on a clean batch, those closest to drifting) with
    their p-values and verdicts."""
    columns = ordered(drift)
    drifted = [c for c in columns if c.drifted]
    lines = [drift_summary(drift)]
    shown = drifted[:limit] or [c for c in columns if category(c) == "not significant"][:5]
    if shown:
        lines.append(table_text(TEXT_COLUMNS, drift_text_rows(shown)))
        if len(shown) < len(drifted):
            lines.append(f"… {len(drifted) - len(shown)} more drifted")
    return "\n".join(lines)


def drift_charts(drift: DatasetDrift) -> tuple[str, list[tuple[str, str]]]:
    """(overview ``<img>``, [(column, distribution ``<img>``)…]); "" / [] when nothing to draw."""
    from modelbook.render.charts import (
        distribution_alt,
        distribution_spec,
        drift_overview_alt,
        drift_overview_spec,
        to_svg,
    )

    top = top_columns(drift)
    jobs: list[tuple[dict[str, Any], str]] = []
    if any(effect_ratio(c) is not None for c in drift.columns):
        jobs.append((drift_overview_spec(drift), drift_overview_alt(drift)))
    jobs += [(distribution_spec(c), distribution_alt(c)) for c in top]
    if not jobs:
        return "", []
    with ThreadPoolExecutor(max_workers=min(4, len(jobs))) as pool:
        svgs = list(pool.map(lambda job: to_svg(job[0]), jobs))
    images = [chart_img(svg, alt) for svg, (_, alt) in zip(svgs, jobs, strict=True)]
    if len(jobs) > len(top):
        overview, images = images[0], images[1:]
    else:
        overview = ""
    return overview, [(c.column, img) for c, img in zip(top, images, strict=True)]


_FLEX = 'style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start"'


def drift_charts_html(drift: DatasetDrift) -> str:
    """The drift charts as images in a wrapping row (inline style, no script); "" if nothing
    to draw."""
    overview, distributions = drift_charts(drift)
    images = ([overview] if overview else []) + [img for _, img in distributions]
    if not images:
        return ""
    return f"<div {_FLEX}>" + "".join(f"<div>{img}</div>" for img in images) + "</div>"


def drift_table_html(drift: DatasetDrift) -> str:
    """Every column: decision badge, test, statistic, threshold, p-value, the verdict in words
    (and the corrected significance level, when the engine gives one); then, once per test,
    why it was chosen."""
    columns = ordered(drift)
    levels = any(getattr(c, "p_threshold", None) is not None for c in columns)
    names = ["drift", "column", "kind", "test", "statistic", "threshold", "p-value"]
    if levels:
        names.append("p needed below")
    names.append("verdict")
    rows = []
    for c in columns:
        row: list[Any] = [
            badge(status(c)),
            c.column,
            c.kind,
            c.test,
            _num(c.statistic) if c.tested else "",
            _num(c.threshold) if c.tested else "",
            fmt_p(c.p_value),
        ]
        if levels:
            row.append(fmt_p(getattr(c, "p_threshold", None)))
        row.append(verdict(c))
        rows.append(row)
    numeric = ("statistic", "threshold", "p-value", "p needed below")
    return table_html(names, rows, numeric=numeric, raw=("drift",)) + _notes_html(columns)


def drift_html(
    drift: DatasetDrift, *, title: str = "Drift", heading: str | None = None, open_: bool = False
) -> str:
    """A self-contained section: heading, summary, charts and the column table (folded unless
    ``open_``)."""
    head = heading if heading is not None else title
    table = drift_table_html(drift)
    n = len(drift.columns)
    body = (
        table
        if open_
        else f"<details><summary>all {plural(n, 'column')}</summary>{table}</details>"
    )
    return (
        f"<h4>{esc(head)}</h4>"
        f"<p>{badge('alert' if drift.drifted or drift.drifted_columns else 'ok')} "
        f"{esc(drift_summary(drift))}</p>"
        f"{drift_charts_html(drift)}{body}"
    )
