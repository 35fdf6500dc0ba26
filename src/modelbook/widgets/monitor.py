"""The live monitor report: everything the static report shows, with the drift table live.

The sections are the static report's own (:mod:`modelbook.render.monitor`), in its order:
summary, estimated performance, findings (alerts and errors first: schema, invariants,
stability, drift, prediction drift, quality, environment), data drift, prediction drift,
quality, segments (worst first, the rest folded), fairness, serving cost, environment. Only the data drift section is replaced by the
interactive view (sortable, filterable table with p-values and verdicts; choosing a column
draws its distributions; the drift-score overview drawn for the page's theme). So the author
working live reads the same report a reviewer reads in the saved HTML or in the lab renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import traitlets

from modelbook.render.charts import drift_overview_spec
from modelbook.widgets.drift import DriftWidget

if TYPE_CHECKING:
    from modelbook.monitoring.report import MonitorReport

__all__ = ["DRIFT", "MonitorWidget", "monitor_sections"]

#: Key of the section the widget draws itself (the interactive drift view).
DRIFT = "drift"


def _static_sections() -> list[tuple[str, Callable[[MonitorReport], str] | None]]:
    from modelbook.render import monitor as static

    return [
        ("summary", static.header_html),
        ("estimated", static.estimated_section_html),
        ("findings", static.findings_section_html),
        (DRIFT, None),
        ("multivariate", static.multivariate_section_html),
        ("prediction_drift", static.prediction_drift_section_html),
        ("quality", static.quality_section_html),
        ("segments", static.segments_section_html),
        ("fairness", static.fairness_section_html),
        ("serving", static.serving_section_html),
        ("environment", static.environment_section_html),
    ]


def monitor_sections(report: MonitorReport) -> list[dict[str, str]]:
    """``[{"key", "html"}]`` in the static report's order; sections the report has not are left
    out; the drift section's ``html`` is empty (the widget draws it)."""
    from modelbook.render.html import card

    out = []
    for key, render in _static_sections():
        if render is None:
            if report.drift is not None and report.drift.columns:
                out.append({"key": key, "html": ""})
            continue
        html = render(report)
        if html:
            out.append({"key": key, "html": card(html)})
    return out


class MonitorWidget(DriftWidget):
    """A monitor report: the static sections with the drift section live (see module doc)."""

    status = traitlets.Unicode("").tag(sync=True)
    sections = traitlets.List(traitlets.Dict()).tag(sync=True)
    overview_svg = traitlets.Unicode("").tag(sync=True)

    def __init__(self, report: MonitorReport, **kwargs: Any) -> None:
        self._report = report
        super().__init__(
            report.drift,
            title=f"monitor {report.target}: {report.status}",
            status=report.status,
            sections=monitor_sections(report),
            **kwargs,
        )
        self._draw_overview({})

    @property
    def report(self) -> MonitorReport:
        return self._report

    @traitlets.observe("theme")
    def _draw_overview(self, change: dict[str, Any]) -> None:
        drift = self._report.drift
        if drift is None or not any(c.tested for c in drift.columns):
            self.overview_svg = ""
            return
        self.overview_svg = self._chart(drift_overview_spec(drift))
