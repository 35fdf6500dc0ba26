"""The monitor engine behind ``modelbook.monitor(ref, data=...)``: is this batch still the world
the model was trained on, and is the model still good?

Modules: :mod:`~modelbook.monitoring.run` (the run: lists the check families),
:mod:`~modelbook.monitoring.context` (the :class:`RunContext` every family reads), one module per
check family, each ``checks(ctx) -> list[CheckResult]``: :mod:`~modelbook.monitoring.schema`
(schema, invariants, stability), :mod:`~modelbook.monitoring.data_drift`,
:mod:`~modelbook.monitoring.environment`, :mod:`~modelbook.monitoring.model_output` (the model's
predictions), :mod:`~modelbook.monitoring.prediction_drift`, :mod:`~modelbook.monitoring.quality`,
:mod:`~modelbook.monitoring.serving`; and :mod:`~modelbook.monitoring.checks` (what families
share), :mod:`~modelbook.monitoring.inputs` (the run's inputs, checked),
:mod:`~modelbook.monitoring.predictions` (running the model), :mod:`~modelbook.monitoring.rules`
(alert rules), :mod:`~modelbook.monitoring.report` (the result);
:mod:`~modelbook.monitoring.timeline` (a batch monitored chunk by chunk over time, cut by
:mod:`~modelbook.monitoring.chunks`: a :class:`MonitorTimeline`).
The package is not named ``monitor``: a submodule of that name would replace the
``modelbook.monitor`` function on the package as soon as it was imported.
"""

from __future__ import annotations

from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.monitoring.rules import DEFAULT_CHECKS, MonitorRules, Rule
from modelbook.monitoring.run import monitor
from modelbook.monitoring.timeline import MonitorTimeline

__all__ = [
    "DEFAULT_CHECKS",
    "CheckResult",
    "MonitorReport",
    "MonitorRules",
    "MonitorTimeline",
    "Rule",
    "monitor",
]
