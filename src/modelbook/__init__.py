"""modelbook: version and monitor machine-learning models and their data from notebooks.

``import modelbook`` stays light: the API and its heavy dependencies (pandas, scipy, altair)
load on first use. In IPython, ``%load_ext modelbook`` registers ``%register``, ``%monitor``
and ``%modelbook``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from modelbook.errors import (
    AlertError,
    ConfigError,
    DataError,
    IntegrityError,
    InvalidNameError,
    ModelbookError,
    MonitorError,
    NotFoundError,
    RegistryBusyError,
    RegistryError,
    RegistryPermissionError,
    RegistryVersionError,
    UnsupportedObjectError,
    UntrustedArtifactError,
)

if TYPE_CHECKING:
    from modelbook.api import (
        alias,
        alias_history,
        check,
        dataset_path,
        dataset_profile,
        diff,
        feedback,
        gc,
        history,
        init,
        load,
        ls,
        monitor,
        policy_status,
        pull,
        push,
        register,
        requirements,
        resolve,
        rollback,
        show,
        unalias,
        use,
        where,
    )

__version__ = "0.1.0"

_API = (
    "alias",
    "alias_history",
    "check",
    "dataset_path",
    "dataset_profile",
    "diff",
    "feedback",
    "gc",
    "history",
    "init",
    "load",
    "ls",
    "monitor",
    "policy_status",
    "pull",
    "push",
    "register",
    "requirements",
    "resolve",
    "rollback",
    "show",
    "unalias",
    "use",
    "where",
)
_LAZY = {name: "modelbook.api" for name in _API}
_LAZY["options"] = "modelbook.display"  # display options: "auto" | "widget" | "static"

__all__ = [
    "AlertError",
    "ConfigError",
    "DataError",
    "IntegrityError",
    "InvalidNameError",
    "ModelbookError",
    "MonitorError",
    "NotFoundError",
    "RegistryBusyError",
    "RegistryError",
    "RegistryPermissionError",
    "RegistryVersionError",
    "UnsupportedObjectError",
    "UntrustedArtifactError",
    "__version__",
    "alias",
    "alias_history",
    "check",
    "dataset_path",
    "dataset_profile",
    "diff",
    "feedback",
    "gc",
    "history",
    "init",
    "load",
    "load_ipython_extension",
    "ls",
    "monitor",
    "options",
    "policy_status",
    "pull",
    "push",
    "register",
    "requirements",
    "resolve",
    "rollback",
    "show",
    "unalias",
    "use",
    "where",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelbook' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext modelbook``: register the magics (imports IPython only now)."""
    from modelbook.magics import load_ipython_extension as load

    load(ipython)
