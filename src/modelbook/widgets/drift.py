"""The drift view: a sortable, filterable column table; choosing a column draws its distributions."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from modelbook.render.charts import distribution_spec, drift_score, to_svg
from modelbook.widgets.assets import CSS, esm
from modelbook.widgets.theme import THEMES, themed

if TYPE_CHECKING:
    from modelbook.stats.drift import ColumnDrift, DatasetDrift

__all__ = ["DriftWidget", "drift_summary", "drift_table_rows"]


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def drift_table_rows(drift: DatasetDrift) -> list[dict[str, Any]]:
    """One JSON row per column in the table's initial order: drifted first, then by p-value."""
    rows = []
    for c in drift.columns:
        rows.append(
            {
                "column": c.column,
                "kind": c.kind,
                "test": c.test,
                "statistic": _num(c.statistic),
                "threshold": _num(c.threshold),
                "p_value": _num(c.p_value),
                "score": _num(drift_score(c)),
                "status": "drifted" if c.drifted else ("ok" if c.tested else "not tested"),
                # Why this row was decided so, in words (empty from older results).
                "verdict": getattr(c, "verdict", "") or "",
                "reason": c.reason,
            }
        )
    # The decision first: drifted, then tested by p-value (smallest first) and score.
    rank = {"drifted": 0, "ok": 1, "not tested": 2}
    rows.sort(
        key=lambda r: (
            rank[str(r["status"])],
            r["p_value"] if r["p_value"] is not None else math.inf,
            -float(r["score"] or 0.0),
            r["column"],
        )
    )
    return rows


def drift_summary(drift: DatasetDrift) -> str:
    tested = sum(c.tested for c in drift.columns)
    return (
        f"{len(drift.drifted_columns)} of {tested} columns drifted "
        f"({drift.drifted_share:.0%}; dataset drifts at {drift.share_threshold:.0%})"
    )


class DriftWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Columns with statistic, p-value, verdict and status; the chosen column's distributions.

    The chart is rendered in the kernel when ``selected`` (or the page's ``theme``) changes:
    one vl-convert call, so the browser needs no charting library.
    """

    _esm = esm("drift.js")
    _css = CSS

    title = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    chart_svg = traitlets.Unicode("").tag(sync=True)
    drifted_only = traitlets.Bool(False).tag(sync=True)
    #: "light" or "dark": set by the front end from the JupyterLab theme; charts follow it.
    theme = traitlets.Unicode("light").tag(sync=True)

    def __init__(self, drift: DatasetDrift | None, *, title: str = "drift", **kwargs: Any) -> None:
        self._drift = drift
        columns = drift.columns if drift is not None else ()
        self._by_name: dict[str, ColumnDrift] = {c.column: c for c in columns}
        rows = drift_table_rows(drift) if drift is not None else []
        summary = drift_summary(drift) if drift is not None and columns else ""
        first = next((r["column"] for r in rows if r["status"] != "not tested"), "")
        super().__init__(title=title, summary=summary, rows=rows, **kwargs)
        self.selected = first

    @property
    def drift(self) -> DatasetDrift | None:
        return self._drift

    def _chart(self, spec: dict[str, Any]) -> str:
        return to_svg(themed(spec, self.theme if self.theme in THEMES else "light"))

    @traitlets.observe("selected", "theme")
    def _draw(self, change: dict[str, Any]) -> None:
        column = self._by_name.get(self.selected)
        if column is None or not column.tested or not column.reference_counts:
            self.chart_svg = ""
            return
        self.chart_svg = self._chart(distribution_spec(column, width=360, height=160))
