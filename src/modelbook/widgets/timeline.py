"""The live timeline: the static view's sections, with the performance chart's metric chosen.

Same findings, same order as the static HTML (:mod:`modelbook.render.timeline`) and the lab
renderer: the verdict and notes, the performance chart, the drift strip, the chunk table. The
kernel draws the charts (vl-convert) when a metric is chosen or the page's theme changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from modelbook.render.charts import to_svg
from modelbook.widgets.assets import CSS, esm
from modelbook.widgets.theme import DARK_INK, THEMES, themed

if TYPE_CHECKING:
    from modelbook.monitoring.timeline import MonitorTimeline

__all__ = ["DRIFT_SHARE", "TimelineWidget"]

#: The picker's entry for the drift share per chunk (when no metric is wanted).
DRIFT_SHARE = "(share of drifted columns)"


class TimelineWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Choose the metric the performance chart shows; the rest is the static view."""

    _esm = esm("timeline.js")
    _css = CSS

    title = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    header_html = traitlets.Unicode("").tag(sync=True)
    metrics = traitlets.List(traitlets.Unicode()).tag(sync=True)
    metric = traitlets.Unicode("").tag(sync=True)
    chart_svg = traitlets.Unicode("").tag(sync=True)
    heatmap_svg = traitlets.Unicode("").tag(sync=True)
    table_html = traitlets.Unicode("").tag(sync=True)
    #: "light" or "dark": set by the front end from the JupyterLab theme; the charts follow it.
    theme = traitlets.Unicode("light").tag(sync=True)

    def __init__(self, timeline: MonitorTimeline, **kwargs: Any) -> None:
        from modelbook.render import timeline as static

        self._timeline = timeline
        names = list(static.metric_names(timeline))
        lead = static.lead_metric(timeline)
        super().__init__(
            title=f"{static.timeline_title(timeline)}: {timeline.status}",
            status=timeline.status,
            header_html=static.header_html(timeline),
            metrics=[*names, DRIFT_SHARE],
            table_html=static.table_section_html(timeline),
            **kwargs,
        )
        self.metric = lead or DRIFT_SHARE
        self._draw({})

    @property
    def timeline(self) -> MonitorTimeline:
        return self._timeline

    @traitlets.observe("metric", "theme")
    def _draw(self, change: dict[str, Any]) -> None:
        from modelbook.render import timeline as static

        theme = self.theme if self.theme in THEMES else "light"
        metric = None if self.metric in ("", DRIFT_SHARE) else self.metric
        spec = static.performance_spec(self._timeline, metric=metric)
        if spec is None and metric is not None:
            spec = static.performance_spec(self._timeline, metric=None)
        self.chart_svg = to_svg(themed(spec, theme)) if spec is not None else ""
        ink = DARK_INK if theme == "dark" else "#1f2328"
        self.heatmap_svg = static.heatmap_svg(self._timeline, ink=ink)
