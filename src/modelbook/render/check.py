"""Text and HTML for :class:`~modelbook.results.CheckReport` (``modelbook check``).

The HTML is deliberately small and says everything in words (no colour carries meaning, no
class is needed), so it reads the same after a sanitizer strips styles.
"""

from __future__ import annotations

from modelbook.render.format import fmt_bytes, plural
from modelbook.render.html import esc, register_html
from modelbook.render.text import register_text
from modelbook.results import CheckReport

__all__: list[str] = []

_COUNTED = (
    ("model_versions", "model version"),
    ("dataset_versions", "dataset version"),
    ("aliases", "alias", "aliases"),
    ("monitor_runs", "monitor run"),
    ("check_results", "check result"),
    ("column_profiles", "column profile"),
)


def _headline(result: CheckReport) -> str:
    if result.ok:
        return f"registry {result.registry}: ok, nothing is broken"
    problems = plural(len(result.problems), "problem")
    if result.metadata != "ok":
        return f"registry {result.registry}: BROKEN, metadata {result.metadata}, {problems}"
    return f"registry {result.registry}: BROKEN, {problems}"


def _verified(result: CheckReport) -> str:
    files = (
        f"{plural(result.files_checked, 'artifact file')} ({fmt_bytes(result.bytes_checked)}) "
        "hashed and compared with their names"
    )
    if result.metadata != "ok":
        return f"verified: {files}"
    counts = ", ".join(plural(result.counts.get(t, 0), *words) for t, *words in _COUNTED)
    return f"verified: {files}; every table read in full and every reference followed ({counts})"


@register_text(CheckReport)
def _text(result: CheckReport) -> str:
    lines = [_headline(result)]
    for p in result.problems:
        lines.append(f"  BROKEN {p.check}: {p.subject}: {p.message}")
        lines.append(f"         fix: {p.fix}")
    lines.append(_verified(result))
    lines.extend(f"note: {note}" for note in result.notes)
    if result.recovery:
        lines.append(f"recovery: {result.recovery}")
    return "\n".join(lines)


@register_html(CheckReport)
def _html(result: CheckReport) -> str:
    parts = [f"<h3>{esc(_headline(result))}</h3>"]
    if result.problems:
        rows = "".join(
            f"<tr><td>broken</td><td>{esc(p.check)}</td><td>{esc(p.subject)}</td>"
            f"<td>{esc(p.message)}</td><td>{esc(p.fix)}</td></tr>"
            for p in result.problems
        )
        parts.append(
            '<table style="border-collapse:collapse"><thead><tr><th>state</th><th>check</th>'
            "<th>what</th><th>problem</th><th>what to do</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    parts.append(f"<p>{esc(_verified(result))}</p>")
    parts.extend(f"<p>note: {esc(note)}</p>" for note in result.notes)
    if result.recovery:
        parts.append(f"<p><strong>recovery:</strong> {esc(result.recovery)}</p>")
    return "".join(parts)
