"""The drift view: a sortable, filterable column table; choosing a column draws its distributions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from modelbook.render.charts import distribution_spec, drift_score, to_svg

if TYPE_CHECKING:
    from modelbook.stats.drift import ColumnDrift, DatasetDrift

__all__ = ["DriftWidget", "drift_table_rows"]

_HERE = Path(__file__).parent


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def drift_table_rows(drift: DatasetDrift) -> list[dict[str, Any]]:
    """One JSON row per column, drifted first then by score (the table's initial order)."""
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
                "reason": c.reason,
            }
        )
    rows.sort(key=lambda r: (r["status"] != "drifted", -float(r["score"] or 0.0), r["column"]))
    return rows


class DriftWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Columns with statistic, test, threshold and status; the chosen column's distributions.

    The chart is rendered in the kernel when ``selected`` changes (one vl-convert call), so the
    browser needs no charting library.
    """

    _esm = _HERE / "drift.js"
    _css = _HERE / "widgets.css"

    title = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    chart_svg = traitlets.Unicode("").tag(sync=True)
    drifted_only = traitlets.Bool(False).tag(sync=True)

    def __init__(self, drift: DatasetDrift, *, title: str = "drift", **kwargs: Any) -> None:
        self._drift = drift
        self._by_name: dict[str, ColumnDrift] = {c.column: c for c in drift.columns}
        tested = sum(c.tested for c in drift.columns)
        summary = (
            f"{len(drift.drifted_columns)} of {tested} columns drifted "
            f"({drift.drifted_share:.0%}; dataset drifts at {drift.share_threshold:.0%})"
        )
        rows = drift_table_rows(drift)
        first = next((r["column"] for r in rows if r["status"] != "not tested"), "")
        super().__init__(title=title, summary=summary, rows=rows, **kwargs)
        self.selected = first

    @property
    def drift(self) -> DatasetDrift:
        return self._drift

    @traitlets.observe("selected")
    def _draw(self, change: dict[str, Any]) -> None:
        column = self._by_name.get(change["new"])
        if column is None or not column.tested or not column.reference_counts:
            self.chart_svg = ""
            return
        self.chart_svg = to_svg(distribution_spec(column, width=360, height=160))
