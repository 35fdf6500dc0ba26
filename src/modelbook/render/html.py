"""Self-contained HTML: no script, no CDN, and nothing that needs our ``<style>`` block.

A reviewer opening someone else's notebook sees it *untrusted*: JupyterLab and Notebook 7
sanitize its HTML, dropping ``<style>`` elements and inline ``<svg>``, while keeping inline
``style="…"`` attributes and ``<img src="data:image/svg+xml;base64,…">``. So everything that
carries meaning is in words or inline styles: status badges are spans whose text says "ALERT",
"ok", "error"…; table cells carry their own alignment (text left, numbers right); charts are
images with an ``alt`` text that says what they show (:func:`chart_img`). The ``<style>`` block
only adds niceties (fonts, padding, borders) where it survives (trusted notebooks, nbconvert).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from modelbook.render.format import fmt_bytes, fmt_value, plural
from modelbook.results import (
    AliasChange,
    DatasetVersion,
    GcReport,
    Listing,
    ModelVersion,
    Renderable,
)

__all__ = [
    "STATUS_STYLES",
    "STYLE",
    "badge",
    "card",
    "chart_img",
    "esc",
    "register_html",
    "status_word",
    "table_html",
    "to_html",
]

# Scoped under .mb so nothing leaks into the notebook's own styles; colours read in light and
# dark themes because they fall back to the page's text colour. Niceties only (see above).
STYLE = """<style>
.mb{font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:13px;line-height:1.4;max-width:100%}
.mb h3{font-size:14px;margin:4px 0 6px}
.mb h4{font-size:13px;margin:10px 0 4px}
.mb table{border-collapse:collapse;margin:4px 0 8px}
.mb th,.mb td{border-bottom:1px solid rgba(128,128,128,.35);padding:2px 8px;vertical-align:top}
.mb th{font-weight:600}
.mb td{font-variant-numeric:tabular-nums}
.mb pre{white-space:pre-wrap;max-height:240px;overflow:auto;background:rgba(128,128,128,.08);padding:6px}
.mb details>summary{cursor:pointer}
</style>"""

#: Word and colour of each status. Alerts and errors are upper-case words on a coloured badge
#: (they must stand out in plain text too); "ok" and quiet states are coloured words.
STATUS_STYLES: Mapping[str, tuple[str, str, bool]] = {
    "alert": ("ALERT", "#cf222e", True),
    "drifted": ("DRIFTED", "#cf222e", True),
    "error": ("ERROR", "#9a6700", True),
    "warn": ("warn", "#9a6700", True),
    "insufficient": ("insufficient", "#9a6700", True),
    "ok": ("ok", "#1a7f37", False),
    "info": ("info", "#57606a", False),
    "not tested": ("not tested", "#57606a", False),
}
_BADGE = (
    "color:#ffffff;background-color:{color};border-radius:8px;padding:0 6px;"
    "font-weight:600;font-size:11px;white-space:nowrap"
)
_LEFT = ' style="text-align:left"'
_RIGHT = ' style="text-align:right;white-space:nowrap"'

_RENDERERS: dict[type, Callable[[Any], str]] = {}


def register_html(cls: type) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    def wrap(func: Callable[[Any], str]) -> Callable[[Any], str]:
        _RENDERERS[cls] = func
        return func

    return wrap


def esc(value: Any) -> str:
    return html.escape(fmt_value(value) if not isinstance(value, str) else value)


def status_word(status: str) -> str:
    """The word a status is shown as ("ALERT", "ok", …), the same in HTML and text."""
    return STATUS_STYLES.get(status, (status, "", False))[0]


def badge(status: str) -> str:
    """The status as an inline-styled span whose text says it (survives any sanitizer)."""
    word, color, loud = STATUS_STYLES.get(status, (status, "#57606a", False))
    if loud:
        return f'<span style="{_BADGE.format(color=color)}">{esc(word)}</span>'
    return f'<span style="color:{color};font-weight:600">{esc(word)}</span>'


def chart_img(svg: str, alt: str) -> str:
    """An SVG chart as ``<img>`` with a data URI: kept by the notebook sanitizers (inline SVG
    is not) and by nbconvert and GitHub; ``alt`` says what the chart shows, in words."""
    if not svg:
        return ""
    data = base64.b64encode(svg.encode()).decode("ascii")
    return (
        f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt, quote=True)}" '
        'style="max-width:100%;height:auto">'
    )


def to_html(result: Renderable) -> str:
    for cls in type(result).__mro__:
        if cls in _RENDERERS:
            return card(_RENDERERS[cls](result))
    summary = getattr(result, "summary", None)
    text = summary() if callable(summary) else repr(result)
    return card(f"<pre>{esc(text)}</pre>")


def card(body: str) -> str:
    return f'{STYLE}<div class="mb">{body}</div>'


def table_html(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[str] = (),
    raw: Iterable[str] = (),
) -> str:
    """An HTML table; cells of ``raw`` columns are trusted HTML, all others are escaped.

    Every cell carries its alignment inline (text left, ``numeric`` columns right), so tables
    read the same whether or not a stylesheet survives (JupyterLab's own right-aligns cells).
    """
    numeric_set, raw_set = set(numeric), set(raw)
    align = [_RIGHT if c in numeric_set else _LEFT for c in columns]
    head = "".join(f"<th{a}>{esc(c)}</th>" for c, a in zip(columns, align, strict=True))
    body = []
    for row in rows:
        cells = []
        for column, a, value in zip(columns, align, row, strict=True):
            text = value if column in raw_set else esc(value)
            cells.append(f"<td{a}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv(pairs: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th{_LEFT}>{esc(k)}</th><td{_LEFT}>{esc(v)}</td></tr>"
        for k, v in pairs.items()
        if v not in (None, "")
    )
    return f"<table>{rows}</table>"


def _changes(changes: Sequence[str]) -> str:
    if not changes:
        return ""
    items = "".join(f"<li>{esc(c)}</li>" for c in changes)
    return f"<h4>Changes since the previous version</h4><ul>{items}</ul>"


@register_html(DatasetVersion)
def _dataset(result: DatasetVersion) -> str:
    verb = "already stored as" if result.reused else "stored as"
    head = f"<h3>dataset {verb} <code>{esc(result.ref)}</code></h3>"
    summary = _kv(
        {
            "rows": result.n_rows,
            "columns": result.n_columns,
            "size": fmt_bytes(result.size_bytes),
            "source": result.source,
            "target": result.target,
            "aliases": ", ".join(result.aliases),
            "created": result.created_at,
            "by": result.created_by,
            "fingerprint": result.fingerprint,
            "notes": result.notes,
        }
    )
    columns = (
        "column",
        "type",
        "nulls",
        "NaN",
        "±inf",
        "distinct",
        "min",
        "mean",
        "max",
        "top values",
    )
    rows = [
        (
            c["name"],
            c["arrow_type"],
            c["nulls"],
            c["nan"],
            c["pos_inf"] + c["neg_inf"],
            c["distinct"],
            c["min"],
            c["mean"],
            c["max"],
            ", ".join(
                f"{v} ({n:,})"
                for v, n in zip(c["top_values"][:3], c["top_counts"][:3], strict=False)
            ),
        )
        for c in result.columns
    ]
    profile = (
        f"<details><summary>column profiles ({plural(len(rows), 'column')})</summary>"
        f"{table_html(columns, rows, numeric=columns[2:9])}</details>"
        if rows
        else ""
    )
    return head + summary + _changes(result.changes) + profile


@register_html(ModelVersion)
def _model(result: ModelVersion) -> str:
    verb = "already stored as" if result.reused else "stored as"
    head = f"<h3>model {verb} <code>{esc(result.ref)}</code></h3>"
    summary = _kv(
        {
            "class": result.class_name,
            "flavor": result.flavor + ("" if result.trusted else " (untrusted: pickle)"),
            "size": fmt_bytes(result.size_bytes),
            "trained on": result.train_dataset,
            "evaluated on": result.evaluation,
            "aliases": ", ".join(result.aliases),
            "python": result.environment.get("python"),
            "notebook": result.notebook,
            "git": (result.git_commit or "")[:12] + (" (dirty)" if result.git_dirty else ""),
            "created": result.created_at,
            "by": result.created_by,
            "notes": result.notes,
        }
    )
    parts = [head, summary, _changes(result.changes)]
    if result.metrics:
        parts.append("<h4>Metrics</h4>" + _kv(dict(result.metrics)))
    if result.evaluation and result.measured_metrics:
        parts.append(
            f"<h4>Measured on <code>{esc(result.evaluation)}</code></h4>"
            + _kv(dict(result.measured_metrics))
        )
    if result.params:
        parts.append(
            f"<details><summary>{plural(len(result.params), 'parameter')}</summary>"
            + table_html(("parameter", "value"), sorted(result.params.items()))
            + "</details>"
        )
    if result.signature:
        cols = result.signature.get("columns", [])
        parts.append(
            f"<details><summary>input signature ({plural(len(cols), 'column')})</summary>"
            + table_html(
                ("column", "type", "min", "max", "categories"),
                [
                    (
                        c["name"],
                        c["type"],
                        c.get("min"),
                        c.get("max"),
                        ", ".join(str(v) for v in (c.get("categories") or [])[:10]),
                    )
                    for c in cols
                ],
                numeric=("min", "max"),
            )
            + "</details>"
        )
    if result.code:
        parts.append(
            f"<details><summary>code</summary><pre>{html.escape(result.code)}</pre></details>"
        )
    return "".join(parts)


@register_html(Listing)
def _listing(result: Listing) -> str:
    if not result.rows:
        return f"<h3>{esc(result.title)}</h3><p>nothing yet</p>"
    numeric = [
        c
        for i, c in enumerate(result.columns)
        if all(
            isinstance(r[i], (int, float)) and not isinstance(r[i], bool)
            for r in result.rows
            if r[i] is not None
        )
        and any(r[i] is not None for r in result.rows)
    ]
    return f"<h3>{esc(result.title)}</h3>" + table_html(
        result.columns, result.rows, numeric=numeric
    )


@register_html(AliasChange)
def _alias(result: AliasChange) -> str:
    from modelbook.render.text import to_text

    return f"<p>{esc(to_text(result))}</p>"


@register_html(GcReport)
def _gc(result: GcReport) -> str:
    from modelbook.render.text import to_text

    return f"<p>{esc(to_text(result))}</p>"
