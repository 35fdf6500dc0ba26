"""The monitor engine behind ``modelbook.monitor(ref, data=...)``: is this batch still the world
the model was trained on, and is the model still good?

Modules: :mod:`~modelbook.monitoring.run` (the run), :mod:`~modelbook.monitoring.checks` (checks
from profiles), :mod:`~modelbook.monitoring.predictions` (the model: predictions, serving cost),
:mod:`~modelbook.monitoring.rules` (alert rules), :mod:`~modelbook.monitoring.report` (the result).
The package is not named ``monitor``: a submodule of that name would replace the
``modelbook.monitor`` function on the package as soon as it was imported.
"""

from __future__ import annotations

from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.monitoring.rules import DEFAULT_CHECKS, MonitorRules, Rule
from modelbook.monitoring.run import monitor

__all__ = ["DEFAULT_CHECKS", "CheckResult", "MonitorReport", "MonitorRules", "Rule", "monitor"]
