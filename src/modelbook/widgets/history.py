"""The history view: drift share and a chosen metric over monitor runs, alert runs marked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from modelbook.render.charts import history_spec, to_svg
from modelbook.widgets.assets import CSS, esm
from modelbook.widgets.theme import THEMES, themed

if TYPE_CHECKING:
    from modelbook.run_history import HistoryReport

__all__ = ["HistoryWidget"]

DRIFT_ONLY = "(drift share only)"


class HistoryWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Choose a metric; the chart (drift share + that metric) is rendered in the kernel."""

    _esm = esm("history.js")
    _css = CSS

    title = traitlets.Unicode("").tag(sync=True)
    metrics = traitlets.List(traitlets.Unicode()).tag(sync=True)
    metric = traitlets.Unicode("").tag(sync=True)
    chart_svg = traitlets.Unicode("").tag(sync=True)
    alerts = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: "light" or "dark": set by the front end from the JupyterLab theme; the chart follows it.
    theme = traitlets.Unicode("light").tag(sync=True)

    def __init__(self, report: HistoryReport, **kwargs: Any) -> None:
        report = report.with_realized()  # late labels: realized quality drawn over time
        self._report = report
        names = list(report.metric_names)
        alerts = [
            {
                "started": r.started_at.isoformat(sep=" ", timespec="seconds"),
                "period": r.period,
                "version": r.version,
                "status": r.status,
                "drift_share": r.drift_share,
                "alerts": r.n_alerts,
            }
            for r in report.runs
            if r.status != "ok"
        ]
        super().__init__(
            title=f"monitor history of {report.target}: {len(report.runs)} runs, "
            f"{len(alerts)} with alerts or errors",
            metrics=[DRIFT_ONLY, *names],
            alerts=alerts,
            **kwargs,
        )
        self.metric = names[0] if names else DRIFT_ONLY
        if not names:
            self._draw({})

    @traitlets.observe("metric", "theme")
    def _draw(self, change: dict[str, Any]) -> None:
        if not self._report.runs:
            self.chart_svg = ""
            return
        metrics = [] if self.metric in ("", DRIFT_ONLY) else [self.metric]
        theme = self.theme if self.theme in THEMES else "light"
        # A timeline's chunks at their data periods (as the static chart draws them).
        spec = history_spec(self._report.by_period(), metrics=metrics)
        self.chart_svg = to_svg(themed(spec, theme))
