"""The diff view: both versions side by side, changes highlighted, sections collapsible."""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from modelbook.render.format import fmt_value
from modelbook.version_diff import DatasetDiff, ModelDiff
from modelbook.widgets.assets import CSS, esm

__all__ = ["DiffWidget", "diff_sections"]


def _v(value: Any) -> str:
    return fmt_value(value) if not isinstance(value, (dict, list)) else repr(value)


def _table(
    title: str, columns: list[str], rows: list[tuple[str, list[str]]], *, open_: bool = True
) -> dict[str, Any]:
    """A section; each row is (mark, cells) with mark one of "", "added", "removed", "changed"."""
    return {
        "title": title,
        "type": "table",
        "open": open_,
        "columns": columns,
        "rows": [{"mark": m, "cells": c} for m, c in rows],
    }


def _drift_section(drift: Any, title: str) -> dict[str, Any]:
    from modelbook.render.drift import drift_rows

    rows = [("changed" if r[-1] == "drifted" else "", r) for r in drift_rows(drift)]
    return _table(
        f"{title}: {len(drift.drifted_columns)} drifted",
        ["column", "kind", "test", "statistic", "threshold", "p-value", "status"],
        rows,
        open_=bool(drift.drifted_columns),
    )


def _model_sections(d: ModelDiff) -> list[dict[str, Any]]:
    sections = []
    sections.append(
        _table(
            "Metrics",
            ["metric", d.a, d.b, "Δ"],
            [
                (
                    "changed" if m.delta else ("added" if m.a is None else ""),
                    [m.name, _v(m.a), _v(m.b), "" if m.delta is None else f"{m.delta:+.4g}"],
                )
                for m in d.metrics
            ],
        )
    )
    sections.append(
        _table(
            "Parameters",
            ["parameter", d.a, d.b],
            [("added", [k, "", _v(v)]) for k, v in d.params_added]
            + [("removed", [k, _v(v), ""]) for k, v in d.params_removed]
            + [("changed", [k, _v(a), _v(b)]) for k, a, b in d.params_changed],
        )
    )
    signature = (
        [("added", [n, "", t]) for n, t in d.signature_added]
        + [("removed", [n, t, ""]) for n, t in d.signature_removed]
        + [("changed", [n, a, b]) for n, a, b in d.signature_retyped]
    )
    if signature:
        sections.append(_table("Input signature", ["column", d.a, d.b], signature))
    if d.packages:
        sections.append(
            _table(
                "Environment",
                ["package", d.a, d.b],
                [("changed", [p, a or "", b or ""]) for p, a, b in d.packages],
                open_=False,
            )
        )
    if d.drift is not None:
        sections.append(_drift_section(d.drift, f"Training data {d.train_a} → {d.train_b}"))
    if d.predictions is not None:
        p = d.predictions
        sections.append(
            _table(
                f"Predictions: {p.disagreement:.1%} of {p.rows:,} rows differ",
                ["row", d.a, d.b, "difference"],
                [("changed", [_v(r["row"]), _v(r["a"]), _v(r["b"]), _v(r["difference"])])
                 for r in p.largest],
            )
        )  # fmt: skip
    if d.code_diff:
        sections.append(
            {"title": "Training code", "type": "code", "open": False, "text": d.code_diff}
        )
    return sections


def _dataset_sections(d: DatasetDiff) -> list[dict[str, Any]]:
    sections = [
        _table(
            "Schema",
            ["column", d.a, d.b],
            [("added", [n, "", t]) for n, t in d.columns_added]
            + [("removed", [n, t, ""]) for n, t in d.columns_removed]
            + [("changed", [n, a, b]) for n, a, b in d.columns_retyped],
        ),
        _table(
            "Column statistics",
            ["column", "statistic", d.a, d.b],
            [
                ("changed", [s.column, stat, _v(s.a.get(stat)), _v(s.b.get(stat))])
                for s in d.column_stats
                if s.a and s.b
                for stat in s.changed
            ],
            open_=False,
        ),
    ]
    if d.drift is not None:
        sections.append(_drift_section(d.drift, "Drift"))
    if d.rows is not None:
        r = d.rows
        rows: list[tuple[str, list[str]]] = [
            ("added", [f"{r.added:,} rows added", ""]),
            ("removed", [f"{r.removed:,} rows removed", ""]),
            ("changed", [f"{r.changed:,} rows changed", ", ".join(r.changed_columns)]),
        ]
        rows += [
            (
                "changed",
                [
                    ", ".join(f"{k}={v}" for k, v in s["key"].items()),
                    "; ".join(f"{c}: {_v(a)} → {_v(b)}" for c, (a, b) in s["changes"].items()),
                ],
            )
            for s in r.changed_sample
        ]
        sections.append(_table(f"Rows by {', '.join(r.key)}", ["rows", "changes"], rows))
    return sections


def diff_sections(result: ModelDiff | DatasetDiff) -> list[dict[str, Any]]:
    """The view model the JS draws: titled sections of marked rows (pure function)."""
    if isinstance(result, ModelDiff):
        return _model_sections(result)
    return _dataset_sections(result)


class DiffWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Two versions side by side; changed rows highlighted; sections fold."""

    _esm = esm("diff.js")
    _css = CSS

    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    sections = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(self, result: ModelDiff | DatasetDiff, **kwargs: Any) -> None:
        from modelbook.render.text import to_text

        kind = "model" if isinstance(result, ModelDiff) else "dataset"
        lines = to_text(result).splitlines()
        super().__init__(
            title=f"{kind} diff {result.a} → {result.b}",
            subtitle=lines[1] if len(lines) > 1 else "",
            sections=diff_sections(result),
            **kwargs,
        )
        self._result = result
