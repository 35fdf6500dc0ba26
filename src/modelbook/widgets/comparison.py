"""The live champion/challenger comparison: the static view's sections, chart drawn for the theme.

Same findings, same order as the static HTML (:mod:`modelbook.render.comparison`) and the lab
renderer: the verdict, agreement with both distributions, quality with n and the McNemar test,
serving cost, the two runs. The kernel redraws the distribution chart (vl-convert) when the
page's theme changes, so it reads on a dark page too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from modelbook.render.charts import to_svg
from modelbook.widgets.assets import CSS, esm
from modelbook.widgets.theme import THEMES, themed

if TYPE_CHECKING:
    from modelbook.monitoring.challenger import ChallengerComparison

__all__ = ["ComparisonWidget"]


class ComparisonWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Champion vs challenger; the sections are the static report's own HTML."""

    _esm = esm("comparison.js")
    _css = CSS

    title = traitlets.Unicode("").tag(sync=True)
    verdict = traitlets.Unicode("").tag(sync=True)
    header_html = traitlets.Unicode("").tag(sync=True)
    agreement_html = traitlets.Unicode("").tag(sync=True)
    chart_svg = traitlets.Unicode("").tag(sync=True)
    sections_html = traitlets.Unicode("").tag(sync=True)
    #: "light" or "dark": set by the front end from the JupyterLab theme; the chart follows it.
    theme = traitlets.Unicode("light").tag(sync=True)

    def __init__(self, result: ChallengerComparison, **kwargs: Any) -> None:
        from modelbook.render import comparison as static
        from modelbook.render.html import table_html

        self._result = result
        c = result.comparison
        super().__init__(
            title=f"challenger {c.challenger} vs champion {c.champion}: {c.verdict}",
            verdict=c.verdict,
            header_html=static.header_html(result),
            agreement_html="<h4>Agreement</h4>"
            + table_html(("measure", "value"), static.agreement_rows(c), numeric=("value",)),
            sections_html=static.quality_section_html(result)
            + static.serving_section_html(result)
            + static.runs_section_html(result),
            **kwargs,
        )
        self._draw({})

    @property
    def result(self) -> ChallengerComparison:
        return self._result

    @traitlets.observe("theme")
    def _draw(self, change: dict[str, Any]) -> None:
        from modelbook.render.comparison import distribution_spec

        spec = distribution_spec(self._result.comparison)
        theme = self.theme if self.theme in THEMES else "light"
        self.chart_svg = to_svg(themed(spec, theme)) if spec is not None else ""
