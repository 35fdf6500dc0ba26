"""Text and HTML of :class:`~modelbook.late_labels.FeedbackReport`: what the labels matched, then
one table per run (predictions, labelled, coverage, realized quality and its checks).

The HTML is sanitizer-proof: inline styles and words only (statuses are words on badges), no
script, no inline SVG, so an untrusted notebook or nbconvert shows the same findings.
"""

from __future__ import annotations

from modelbook.late_labels import FeedbackReport, FeedbackRun
from modelbook.render.format import fmt_value, plural
from modelbook.render.html import badge, esc, register_html, table_html
from modelbook.render.text import register_text, table_text

__all__ = ["MAX_RUNS"]

MAX_RUNS = 50  # runs shown one by one; the JSON holds them all

_RUN_COLUMNS = ("run", "version", "started", "predictions", "labelled", "coverage", "matched")


def _title(r: FeedbackReport) -> str:
    return f"late labels for model {r.model} (target {r.target}, id {r.id_column})"


def _counts(r: FeedbackReport) -> list[tuple[str, str]]:
    unmatched = f"{r.unmatched:,}"
    if r.unmatched_ids:
        more = ", …" if r.unmatched > len(r.unmatched_ids) else ""
        shown = ", ".join(repr(i) for i in r.unmatched_ids)
        unmatched += f" (ids never predicted, kept nowhere: {shown}{more})"
    rows = [
        ("labels", f"{r.labels:,}"),
        ("matched ids", f"{r.matched:,} of {r.distinct:,} distinct"),
        ("unmatched ids", unmatched),
        ("duplicates", f"{r.duplicates:,} (same id, same value: counted once)"),
        ("conflicts", f"{r.conflicts:,} (an earlier file's label changed: the later file wins)"),
        ("min_labels", f"{r.min_labels:,} labelled rows for a verdict"),
    ]
    if r.missing:
        rows.insert(1, ("missing", f"{r.missing:,} rows without a label (left out)"))
    if not r.applied:
        rows.append(("applied", "no: these labels were applied before; nothing changed"))
    return rows


def _cells(run: FeedbackRun) -> list[str]:
    return [
        run.run_id[:8],
        str(run.version),
        fmt_value(run.started_at),
        f"{run.predictions:,}",
        f"{run.labelled:,}",
        f"{run.coverage:.1%}",
        f"{run.matched:,}",
    ]


def _what(run: FeedbackRun) -> str:
    if run.stored:
        return f"realized quality stored ({run.status})"
    if run.status == "unchanged":
        return "labels unchanged since its last feedback: nothing stored"
    return "no labelled prediction yet"


def _conflict_rows(r: FeedbackReport) -> list[list[str]]:
    return [[repr(c["id"]), repr(c["previous"]), repr(c["label"])] for c in r.conflicting]


@register_text(FeedbackReport)
def _feedback_text(r: FeedbackReport) -> str:
    lines = [f"{_title(r)}: {r.summary()}"]
    lines += [f"  {k}: {v}" for k, v in _counts(r)]
    if r.conflicting:
        lines.append("conflicting labels (first shown):")
        lines.append(table_text(("id", "previous", "now"), _conflict_rows(r)))
    for run in r.runs[:MAX_RUNS]:
        lines.append("")
        lines.append(f"run {run.run_id} ({r.model}@{run.version}): {_what(run)}")
        lines.append(table_text(_RUN_COLUMNS, [_cells(run)]))
        for check in run.checks:
            lines.append(f"  {check.status:>12}  {check}")
    if len(r.runs) > MAX_RUNS:
        lines.append(f"… {plural(len(r.runs) - MAX_RUNS, 'more run')}: see to_dict()")
    lines += [f"note: {n}" for n in r.notes]
    return "\n".join(lines)


@register_html(FeedbackReport)
def _feedback_html(r: FeedbackReport) -> str:
    parts = [
        f"<h3>{esc(_title(r))}</h3>",
        f"<p>{badge(r.status)} {esc(r.summary())}</p>",
        table_html(("", ""), [[k, v] for k, v in _counts(r)]),
    ]
    if r.conflicting:
        parts.append("<h4>Conflicting labels (first shown; the later file wins)</h4>")
        parts.append(table_html(("id", "previous", "now"), _conflict_rows(r)))
    for run in r.runs[:MAX_RUNS]:
        parts.append(
            f"<h4>Run {esc(run.run_id[:8])} ({esc(r.model)}@{run.version}): "
            f"{badge(run.status)} {esc(_what(run))}</h4>"
        )
        parts.append(
            table_html(
                _RUN_COLUMNS,
                [_cells(run)],
                numeric=("version", "predictions", "labelled", "coverage", "matched"),
            )
        )
        if run.checks:
            parts.append(
                table_html(
                    ("check", "status", "finding"),
                    [[c.check, badge(c.status), c.message] for c in run.checks],
                    raw=("status",),
                )
            )
    if len(r.runs) > MAX_RUNS:
        parts.append(f"<p>{esc(plural(len(r.runs) - MAX_RUNS, 'more run'))}: see to_dict()</p>")
    parts += [f"<p>{esc(n)}</p>" for n in r.notes]
    return "".join(parts)
