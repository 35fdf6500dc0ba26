"""Live views for a kernel with a widget frontend (anywidget; JS shipped with the package).

Imported only when a result is shown as a widget (:mod:`modelbook.display`) or by users who ask
for one; the engine never imports this package. Charts are rendered in Python (altair-style
Vega-Lite specs from :mod:`modelbook.render.charts`, SVG via vl-convert) when a column or a
metric is chosen or the JupyterLab theme changes (:mod:`modelbook.widgets.theme`), so the
widgets load nothing from a CDN.
"""

from __future__ import annotations

from typing import Any

from modelbook.widgets.comparison import ComparisonWidget
from modelbook.widgets.diff import DiffWidget
from modelbook.widgets.drift import DriftWidget
from modelbook.widgets.history import HistoryWidget
from modelbook.widgets.monitor import MonitorWidget
from modelbook.widgets.timeline import TimelineWidget

__all__ = [
    "ComparisonWidget",
    "DiffWidget",
    "DriftWidget",
    "HistoryWidget",
    "MonitorWidget",
    "TimelineWidget",
    "widget_for",
]


def widget_for(result: Any) -> Any:
    """The live view of a result, or None when it has none."""
    kind = getattr(result, "kind", None)
    if kind == "monitor_report":
        return MonitorWidget(result)
    if kind in ("model_diff", "dataset_diff"):
        return DiffWidget(result)
    if kind == "history":
        return HistoryWidget(result)
    if kind == "monitor_timeline":
        return TimelineWidget(result)
    if kind == "challenger_comparison":
        return ComparisonWidget(result)
    return None
