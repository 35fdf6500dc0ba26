"""``modelbook.monitor(ref, data=...)``: is this batch still the world the model was trained on?

The package is callable, so ``modelbook.monitor(...)`` works whether ``modelbook.monitor`` was
first reached as the API function or imported as this package (Python binds a subpackage to
its parent's attribute on import, which would otherwise shadow the function).

Modules: :mod:`~modelbook.monitor.run` (the run), :mod:`~modelbook.monitor.checks` (checks
from profiles), :mod:`~modelbook.monitor.predictions` (the model: predictions, serving cost),
:mod:`~modelbook.monitor.rules` (alert rules), :mod:`~modelbook.monitor.report` (the result).
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

from modelbook.monitor.report import CheckResult, MonitorReport
from modelbook.monitor.rules import DEFAULT_CHECKS, MonitorRules, Rule
from modelbook.monitor.run import monitor

__all__ = ["DEFAULT_CHECKS", "CheckResult", "MonitorReport", "MonitorRules", "Rule", "monitor"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> MonitorReport:
        from modelbook import api

        return api.monitor(*args, **kwargs)


# inspect.signature(modelbook.monitor) shows the function's keywords whichever object it is.
__signature__ = inspect.signature(monitor)
sys.modules[__name__].__class__ = _CallableModule
