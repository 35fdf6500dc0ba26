"""Text and HTML tables for :class:`~modelbook.run_history.HistoryReport`.

The table shows the newest :data:`MAX_ROWS` runs and the HTML chart the newest
:data:`MAX_CHART_RUNS`; the JSON (``to_dict()``, ``--json``) and ``to_frame()`` hold them all.
"""

from __future__ import annotations

import dataclasses

from modelbook.render.format import fmt_value, plural
from modelbook.render.html import badge, esc, register_html, table_html
from modelbook.render.text import register_text, table_text
from modelbook.run_history import HistoryReport, HistoryRun

__all__ = ["MAX_CHART_RUNS", "MAX_METRICS", "MAX_ROWS"]

MAX_ROWS = 100
MAX_METRICS = 4
MAX_CHART_RUNS = 500

_COLUMNS = ("started", "version", "status", "source", "rows", "drift share", "alerts")


def _title(result: HistoryReport) -> str:
    scope = f"{result.name}@{result.version}" if result.version else f"{result.name} (all versions)"
    since = f" since {fmt_value(result.since)} UTC" if result.since else ""
    return f"monitor history of {result.entry_kind} {scope}{since}"


def _summary(result: HistoryReport) -> str:
    if not result.runs:
        return "no monitor runs yet"
    counts = result.status_counts
    parts = [f"{counts[s]} {s}" for s in ("ok", "alert", "error") if counts.get(s)]
    total = result.total if result.total is not None else len(result.runs)
    if total > len(result.runs):
        return f"newest {len(result.runs):,} of {plural(total, 'run')}: {', '.join(parts)}"
    return f"{plural(total, 'run')}: {', '.join(parts)}"


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _columns(result: HistoryReport, metrics: tuple[str, ...]) -> tuple[str, ...]:
    """The table's columns; "period" (a timeline chunk's data period) when there are chunks;
    "coverage" and "realized <metric>" when late labels realized some run's quality."""
    period = ("period",) if result.has_periods else ()
    return (*_COLUMNS[:2], *period, *_COLUMNS[2:], *metrics, *_feedback_columns(result))


def _feedback_columns(result: HistoryReport) -> tuple[str, ...]:
    if not result.has_feedback:
        return ()
    return ("coverage", *(f"realized {m}" for m in result.realized_names[:MAX_METRICS]))


def _feedback_cells(run: HistoryRun, result: HistoryReport) -> list[str]:
    if not result.has_feedback:
        return []
    coverage = "" if run.coverage is None else f"{run.coverage:.1%} ({run.labelled:,})"
    names = result.realized_names[:MAX_METRICS]
    return [coverage, *[fmt_value(run.realized.get(m)) for m in names]]


def _cells(run: HistoryRun, metrics: tuple[str, ...], periods: bool = False) -> list[str]:
    return [
        fmt_value(run.started_at),
        str(run.version),
        *([run.period] if periods else []),
        run.status,
        run.source,
        fmt_value(run.n_rows),
        _share(run.drift_share),
        str(run.n_alerts),
        *[fmt_value(run.metrics.get(m)) for m in metrics],
    ]


def _more(result: HistoryReport) -> str:
    hidden = len(result.runs) - MAX_ROWS
    if hidden <= 0:
        return ""
    return (
        f"… {plural(hidden, 'older run')} not shown: narrow with since=/limit= or use .to_frame()"
    )


@register_text(HistoryReport)
def _history_text(result: HistoryReport) -> str:
    head = f"{_title(result)}: {_summary(result)}"
    if not result.runs:
        return head
    metrics = result.metric_names[:MAX_METRICS]
    rows = [
        _cells(run, metrics, result.has_periods) + _feedback_cells(run, result)
        for run in result.runs[:MAX_ROWS]
    ]
    lines = [head, table_text(_columns(result, metrics), rows)]
    if more := _more(result):
        lines.append(more)
    return "\n".join(lines)


@register_html(HistoryReport)
def _history_html(result: HistoryReport) -> str:
    head = f"<h3>{esc(_title(result))}</h3><p>{esc(_summary(result))}</p>"
    if not result.runs:
        return head
    metrics = result.metric_names[:MAX_METRICS]
    rows = []
    for run in result.runs[:MAX_ROWS]:
        cells = _cells(run, metrics, result.has_periods) + _feedback_cells(run, result)
        cells[3 if result.has_periods else 2] = badge(run.status)
        rows.append(cells)
    table = table_html(
        _columns(result, metrics),
        rows,
        numeric=("version", "rows", "drift share", "alerts", *metrics, *_feedback_columns(result)),
        raw=("status",),
    )
    more = f"<p>{esc(m)}</p>" if (m := _more(result)) else ""
    from modelbook.render.charts import history_chart_html  # an <img>, described in its alt

    # Every run is a point in the SVG (~0.3 KB each): chart the newest MAX_CHART_RUNS.
    # A timeline's chunks are drawn at their data periods, not as one clump of runs.
    # Realized quality (late labels) is drawn over time too, as "realized <metric>".
    charted = (
        (
            dataclasses.replace(result, runs=result.runs[:MAX_CHART_RUNS])
            if len(result.runs) > MAX_CHART_RUNS
            else result
        )
        .by_period()
        .with_realized()
    )
    note = (
        "<p>Chunks of a timeline are drawn at the start of the period of data they checked.</p>"
        if result.has_periods
        else ""
    )
    return head + history_chart_html(charted, max_metrics=MAX_METRICS) + note + table + more
