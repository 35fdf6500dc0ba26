"""Text and self-contained HTML for :class:`~modelbook.diff.ModelDiff` and ``DatasetDiff``."""

from __future__ import annotations

from typing import Any

from modelbook.render.drift import drift_html, drift_text
from modelbook.render.format import fmt_value, plural
from modelbook.render.html import esc, register_html, table_html
from modelbook.render.text import register_text, table_text
from modelbook.version_diff import DatasetDiff, ModelDiff

__all__ = ["MAX_PACKAGES", "MAX_STAT_ROWS"]

MAX_STAT_ROWS = 200
MAX_PACKAGES = 50


def _v(value: Any) -> str:
    return fmt_value(value) if not isinstance(value, (dict, list)) else repr(value)


def _delta(value: float | None) -> str:
    return "" if value is None else f"{value:+.4g}"


# --------------------------------------------------------------------------- model text


def _model_lines(d: ModelDiff) -> list[str]:
    lines = [f"model diff {d.a} → {d.b}"]
    if d.class_a != d.class_b:
        lines.append(f"class: {d.class_a} → {d.class_b}")
    if d.params_unchanged:
        lines.append("parameters: unchanged")
    for k, v in d.params_added:
        lines.append(f"  + {k} = {_v(v)}")
    for k, v in d.params_removed:
        lines.append(f"  - {k} = {_v(v)}")
    for k, a, b in d.params_changed:
        lines.append(f"  ~ {k}: {_v(a)} → {_v(b)}")
    for m in d.metrics:
        lines.append(f"metric {m.name}: {_v(m.a)} → {_v(m.b)} {_delta(m.delta)}".rstrip())
    for n, t in d.signature_added:
        lines.append(f"input added: {n} ({t})")
    for n, t in d.signature_removed:
        lines.append(f"input removed: {n} ({t})")
    for n, a, b in d.signature_retyped:
        lines.append(f"input retyped: {n} ({a} → {b})")
    if d.packages:
        shown = ", ".join(f"{p} {a or '-'} → {b or '-'}" for p, a, b in d.packages[:8])
        more = f" (+{len(d.packages) - 8} more)" if len(d.packages) > 8 else ""
        lines.append(f"environment: {shown}{more}")
    if d.train_a != d.train_b:
        lines.append(f"training data: {d.train_a} → {d.train_b}")
    if d.drift is not None:
        lines.append("training data drift: " + drift_text(d.drift, limit=5))
    if d.predictions is not None:
        p = d.predictions
        lines.append(
            f"predictions ({p.task}, {plural(p.rows, 'row')}): {p.disagreement:.1%} differ "
            f"({plural(p.differing, 'row')})"
            + (
                f", mean |Δ| {p.mean_abs_difference:.4g}"
                if p.mean_abs_difference is not None
                else ""
            )
        )
    if d.code_diff:
        lines.append(f"code: {plural(d.code_diff.count(chr(10)), 'diff line')}")
    lines.extend(d.notes)
    return lines


@register_text(ModelDiff)
def _model_text(d: ModelDiff) -> str:
    return "\n".join(_model_lines(d))


# --------------------------------------------------------------------------- dataset text


def _rows_line(d: DatasetDiff) -> str:
    delta = d.rows_b - d.rows_a
    return f"rows: {d.rows_a:,} → {d.rows_b:,} ({delta:+,})"


@register_text(DatasetDiff)
def _dataset_text(d: DatasetDiff) -> str:
    lines = [f"dataset diff {d.a} → {d.b}", _rows_line(d)]
    for n, t in d.columns_added:
        lines.append(f"column added: {n} ({t})")
    for n, t in d.columns_removed:
        lines.append(f"column removed: {n} ({t})")
    for n, a, b in d.columns_retyped:
        lines.append(f"column retyped: {n} ({a} → {b})")
    changed = [s for s in d.column_stats if s.changed and s.a and s.b]
    if changed:
        rows = [
            [s.column, _v(s.a.get("mean")), _v(s.b.get("mean")), _delta(s.delta("mean")),
             _v(s.a.get("nulls")), _v(s.b.get("nulls"))]
            for s in changed[:20]
        ]  # fmt: skip
        lines.append(
            table_text(("column", "mean a", "mean b", "Δ mean", "nulls a", "nulls b"), rows)
        )
    if d.drift is not None:
        lines.append("drift: " + drift_text(d.drift, limit=10))
    if d.rows is not None:
        r = d.rows
        lines.append(
            f"rows by {', '.join(r.key)}: {r.added:,} added, {r.removed:,} removed, "
            f"{r.changed:,} changed, {r.unchanged:,} unchanged"
        )
        if r.changed_columns:
            lines.append(
                "changed columns: "
                + ", ".join(f"{c} ({n:,})" for c, n in list(r.changed_columns.items())[:10])
            )
    lines.extend(d.notes)
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML


def _section(title: str, body: str, *, open_: bool = True) -> str:
    attr = " open" if open_ else ""
    return f"<details{attr}><summary><b>{esc(title)}</b></summary>{body}</details>"


#: Added, removed and changed entries: a sign that survives any sanitizer, and a background.
_MARKS = {"+": ("+", "#dafbe1"), "-": ("−", "#ffebe9"), "~": ("~", "#fff8c5")}


def _mark(kind: str, text: str, *, sign: bool = True) -> str:
    symbol, color = _MARKS[kind]
    shown = f"{symbol} {text}" if sign and not text.startswith(("+", "-")) else text
    return f'<span style="background-color:{color};color:#1f2328">{esc(shown)}</span>'


def _changed(text: str) -> str:
    return f'<span style="background-color:{_MARKS["~"][1]};color:#1f2328">{text}</span>'


def _code_html(code_diff: str) -> str:
    out = []
    for line in code_diff.splitlines():
        if line.startswith(("+++", "---")):
            out.append(f"<b>{esc(line)}</b>")
        elif line.startswith("+"):
            out.append(_mark("+", line))
        elif line.startswith("-"):
            out.append(_mark("-", line))
        else:
            out.append(esc(line))
    return "<pre>" + "\n".join(out) + "</pre>"


@register_html(ModelDiff)
def _model_html(d: ModelDiff) -> str:
    parts = [f"<h3>model diff <code>{esc(d.a)}</code> → <code>{esc(d.b)}</code></h3>"]
    if d.class_a != d.class_b:
        parts.append(f"<p>class: {_mark('-', d.class_a)} → {_mark('+', d.class_b)}</p>")
    if d.metrics:
        rows: list[tuple[Any, ...]] = [(m.name, m.a, m.b, _delta(m.delta)) for m in d.metrics]
        parts.append(
            _section(
                "Metrics",
                table_html(("metric", d.a, d.b, "Δ"), rows, numeric=(d.a, d.b, "Δ")),
            )
        )
    prow = (
        [("+", k, "", _v(v)) for k, v in d.params_added]
        + [("-", k, _v(v), "") for k, v in d.params_removed]
        + [("~", k, _v(a), _v(b)) for k, a, b in d.params_changed]
    )
    if prow:
        body = table_html(
            ("parameter", d.a, d.b),
            [(_mark(m, k), esc(a), esc(b)) for m, k, a, b in prow],
            raw=("parameter", d.a, d.b),
        )
    else:
        body = "<p>unchanged</p>"
    parts.append(_section(f"Parameters ({len(prow)} changed)", body))
    srow = (
        [(_mark("+", n), "", esc(t)) for n, t in d.signature_added]
        + [(_mark("-", n), esc(t), "") for n, t in d.signature_removed]
        + [(_mark("~", n), esc(a), esc(b)) for n, a, b in d.signature_retyped]
    )
    if srow:
        parts.append(
            _section(
                "Input signature",
                table_html(("column", d.a, d.b), srow, raw=("column", d.a, d.b)),
            )
        )
    if d.packages:
        prows = [(p, a or "", b or "") for p, a, b in d.packages[:MAX_PACKAGES]]
        more = (
            f"<p>… {len(d.packages) - MAX_PACKAGES} more</p>"
            if len(d.packages) > MAX_PACKAGES
            else ""
        )
        parts.append(
            _section(
                f"Environment ({plural(len(d.packages), 'package')} changed)",
                table_html(("package", d.a, d.b), prows) + more,
                open_=False,
            )
        )
    notes = list(d.notes)
    if d.train_a and d.train_a == d.train_b:
        # One line, not the same fact twice (the engine also notes it).
        notes = [n for n in notes if n != f"both versions were trained on {d.train_a}"]
        parts.append(f"<p>training data: {esc(d.train_a)} (both versions)</p>")
    elif d.train_a or d.train_b:
        parts.append(f"<p>training data: {esc(d.train_a or '—')} → {esc(d.train_b or '—')}</p>")
    if d.drift is not None:
        parts.append(drift_html(d.drift, title="Drift between the training datasets"))
    if d.predictions is not None:
        p = d.predictions
        summary = (
            f"{p.disagreement:.1%} of {plural(p.rows, 'row')} differ ({p.task}"
            + (
                f"; mean |Δ| {p.mean_abs_difference:.4g}"
                if p.mean_abs_difference is not None
                else ""
            )
            + ")"
        )
        largest = (
            table_html(
                ("row", d.a, d.b, "difference"),
                [(r["row"], r["a"], r["b"], r["difference"]) for r in p.largest],
                numeric=("difference",),
            )
            if p.largest
            else ""
        )
        parts.append(_section("Predictions", f"<p>{esc(summary)}</p>{largest}"))
    if d.code_diff:
        parts.append(_section("Training code", _code_html(d.code_diff), open_=False))
    parts.extend(f"<p>{esc(n)}</p>" for n in notes)
    return "".join(parts)


def _sample_table(rows: tuple[Any, ...]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    return table_html(columns, [[r.get(c) for c in columns] for r in rows])


@register_html(DatasetDiff)
def _dataset_html(d: DatasetDiff) -> str:
    parts = [
        f"<h3>dataset diff <code>{esc(d.a)}</code> → <code>{esc(d.b)}</code></h3>",
        f"<p>{esc(_rows_line(d))}</p>",
    ]
    schema = (
        [(_mark("+", n), "", esc(t)) for n, t in d.columns_added]
        + [(_mark("-", n), esc(t), "") for n, t in d.columns_removed]
        + [(_mark("~", n), esc(a), esc(b)) for n, a, b in d.columns_retyped]
    )
    if schema:
        parts.append(
            _section("Schema", table_html(("column", d.a, d.b), schema, raw=("column", d.a, d.b)))
        )
    else:
        parts.append("<p>schema unchanged</p>")
    stat_rows = []
    for s in d.column_stats[:MAX_STAT_ROWS]:
        if not s.a or not s.b:
            continue
        cells: list[Any] = [esc(s.column)]
        for stat in ("nulls", "mean", "std", "min", "max"):
            a, b = s.a.get(stat), s.b.get(stat)
            text = f"{esc(a)} → {esc(b)}" if stat in s.changed else esc(a)
            cells.append(_changed(text) if stat in s.changed else text)
        stat_rows.append(cells)
    if stat_rows:
        columns = ("column", "nulls", "mean", "std", "min", "max")
        parts.append(
            _section(
                f"Column statistics ({sum(1 for s in d.column_stats if s.changed)} changed)",
                table_html(columns, stat_rows, raw=columns, numeric=columns[1:]),
                open_=False,
            )
        )
    if d.drift is not None:
        parts.append(drift_html(d.drift, title=f"Drift of {d.b} against {d.a}"))
    if d.rows is not None:
        r = d.rows
        body = table_html(
            ("added", "removed", "changed", "unchanged"),
            [(r.added, r.removed, r.changed, r.unchanged)],
            numeric=("added", "removed", "changed", "unchanged"),
        )
        if r.changed_columns:
            body += "<h4>Changed columns</h4>" + table_html(
                ("column", "rows changed"),
                list(r.changed_columns.items()),
                numeric=("rows changed",),
            )
        if r.changed_sample:
            srows = [
                (
                    ", ".join(f"{k}={v}" for k, v in s["key"].items()),
                    "; ".join(f"{c}: {_v(a)} → {_v(b)}" for c, (a, b) in s["changes"].items()),
                )
                for s in r.changed_sample
            ]
            body += "<h4>Changed rows (sample)</h4>" + table_html(("key", "changes"), srows)
        if r.added_sample:
            body += "<h4>Added rows (sample)</h4>" + _sample_table(r.added_sample)
        if r.removed_sample:
            body += "<h4>Removed rows (sample)</h4>" + _sample_table(r.removed_sample)
        parts.append(_section(f"Rows by {', '.join(r.key)}", body))
    parts.extend(f"<p>{esc(n)}</p>" for n in d.notes)
    return "".join(parts)
