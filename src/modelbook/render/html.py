"""Self-contained HTML: inline CSS, no script, no CDN, so shared notebooks still show results."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from modelbook.render.format import fmt_bytes, fmt_value
from modelbook.results import (
    AliasChange,
    DatasetVersion,
    GcReport,
    Listing,
    ModelVersion,
    Renderable,
)

__all__ = ["STYLE", "card", "esc", "register_html", "table_html", "to_html"]

# Scoped under .mb so nothing leaks into the notebook's own styles; colours read in light and
# dark themes because they fall back to the page's text colour.
STYLE = """<style>
.mb{font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:13px;line-height:1.4;max-width:100%}
.mb h3{font-size:14px;margin:4px 0 6px}
.mb h4{font-size:13px;margin:10px 0 4px}
.mb table{border-collapse:collapse;margin:4px 0 8px}
.mb th,.mb td{border-bottom:1px solid rgba(128,128,128,.35);padding:2px 8px;text-align:left;vertical-align:top}
.mb th{font-weight:600}
.mb td.num{text-align:right;font-variant-numeric:tabular-nums}
.mb .muted{opacity:.7}
.mb .ok{color:#1a7f37;font-weight:600}
.mb .alert{color:#cf222e;font-weight:600}
.mb .error{color:#9a6700;font-weight:600}
.mb .badge{display:inline-block;border-radius:8px;padding:0 6px;border:1px solid currentColor;font-size:11px}
.mb pre{white-space:pre-wrap;max-height:240px;overflow:auto;background:rgba(128,128,128,.08);padding:6px}
.mb details>summary{cursor:pointer}
</style>"""

_RENDERERS: dict[type, Callable[[Any], str]] = {}


def register_html(cls: type) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    def wrap(func: Callable[[Any], str]) -> Callable[[Any], str]:
        _RENDERERS[cls] = func
        return func

    return wrap


def esc(value: Any) -> str:
    return html.escape(fmt_value(value) if not isinstance(value, str) else value)


def to_html(result: Renderable) -> str:
    for cls in type(result).__mro__:
        if cls in _RENDERERS:
            return card(_RENDERERS[cls](result))
    return card(f"<pre>{esc(repr(result))}</pre>")


def card(body: str) -> str:
    return f'{STYLE}<div class="mb">{body}</div>'


def table_html(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[str] = (),
    raw: Iterable[str] = (),
) -> str:
    """An HTML table; cells of ``raw`` columns are trusted HTML, all others are escaped."""
    numeric_set, raw_set = set(numeric), set(raw)
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            text = value if column in raw_set else esc(value)
            cls = ' class="num"' if column in numeric_set else ""
            cells.append(f"<td{cls}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv(pairs: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>"
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
        f"<details><summary>column profiles ({len(rows)})</summary>"
        f"{table_html(columns, rows, numeric=columns[2:9])}</details>"
        if rows
        else ""
    )
    return head + summary + _changes(result.changes) + profile


@register_html(ModelVersion)
def _model(result: ModelVersion) -> str:
    head = f"<h3>model stored as <code>{esc(result.ref)}</code></h3>"
    summary = _kv(
        {
            "class": result.class_name,
            "flavor": result.flavor + ("" if result.trusted else " (untrusted: pickle)"),
            "size": fmt_bytes(result.size_bytes),
            "trained on": result.train_dataset,
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
    if result.params:
        parts.append(
            f"<details><summary>parameters ({len(result.params)})</summary>"
            + table_html(("parameter", "value"), sorted(result.params.items()))
            + "</details>"
        )
    if result.signature:
        cols = result.signature.get("columns", [])
        parts.append(
            f"<details><summary>input signature ({len(cols)} columns)</summary>"
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
        return f"<h3>{esc(result.title)}</h3><p class='muted'>nothing yet</p>"
    return f"<h3>{esc(result.title)}</h3>" + table_html(result.columns, result.rows)


@register_html(AliasChange)
def _alias(result: AliasChange) -> str:
    from modelbook.render.text import to_text

    return f"<p>{esc(to_text(result))}</p>"


@register_html(GcReport)
def _gc(result: GcReport) -> str:
    from modelbook.render.text import to_text

    return f"<p>{esc(to_text(result))}</p>"
