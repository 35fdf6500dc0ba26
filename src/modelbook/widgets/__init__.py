"""Live views for a kernel with a widget frontend (anywidget; JS shipped with the package).

Imported only when a result is shown as a widget (:mod:`modelbook.display`) or by users who ask
for one; the engine never imports this package. Charts are rendered in Python (altair-style
Vega-Lite specs from :mod:`modelbook.render.charts`, SVG via vl-convert) when a column or a
metric is chosen, so the widgets load nothing from a CDN.
"""

from __future__ import annotations

from typing import Any

from modelbook.widgets.diff import DiffWidget
from modelbook.widgets.drift import DriftWidget
from modelbook.widgets.history import HistoryWidget

__all__ = ["DiffWidget", "DriftWidget", "HistoryWidget", "widget_for"]


def widget_for(result: Any) -> Any:
    """The live view of a result, or None when it has none (e.g. a monitor run without drift)."""
    kind = getattr(result, "kind", None)
    if kind == "monitor_report":
        if result.drift is None or not result.drift.columns:
            return None
        title = f"monitor {result.target}: {result.status}"
        return DriftWidget(result.drift, title=title)
    if kind in ("model_diff", "dataset_diff"):
        return DiffWidget(result)
    if kind == "history":
        return HistoryWidget(result)
    return None
