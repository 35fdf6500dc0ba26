"""Exceptions raised by modelbook.

Every error a user can cause is a :class:`ModelbookError`, with a message that says what happened
and what to do next. Library errors (DuckDB, pyarrow, OS) are translated at the boundary where
they occur, so callers catch one family::

    ModelbookError
    ├── ConfigError              a setting in pyproject.toml / monitor.toml / arguments is invalid
    ├── DataError                data that cannot be registered or monitored (empty, bad columns)
    ├── UnsupportedObjectError   an object modelbook does not know how to store
    ├── InvalidNameError         a name or reference that does not parse
    ├── NotFoundError            a name, version or alias that does not exist
    ├── RegistryError            the registry itself cannot be used
    │   ├── RegistryBusyError        another process held the registry past the bound
    │   ├── RegistryVersionError     written by a newer modelbook (schema version)
    │   └── RegistryPermissionError  the registry folder is not writable
    ├── IntegrityError           a blob is missing or its hash does not match (tampered)
    ├── UntrustedArtifactError   loading would unpickle bytes the user has not trusted
    └── MonitorError             a monitor run could not be completed
        └── AlertError               raised by MonitorReport.raise_for_alerts()
"""

from __future__ import annotations

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
]


class ModelbookError(Exception):
    """Base class of every error modelbook raises on purpose."""


class ConfigError(ModelbookError):
    """A configuration value is invalid."""


class DataError(ModelbookError):
    """Data cannot be registered or monitored as given."""


class UnsupportedObjectError(ModelbookError):
    """modelbook does not know how to store this kind of object."""


class InvalidNameError(ModelbookError):
    """A name or reference does not follow the naming rules."""


class NotFoundError(ModelbookError):
    """A name, version or alias does not exist in the registry."""


class RegistryError(ModelbookError):
    """The registry cannot be opened or written."""


class RegistryBusyError(RegistryError):
    """Another process kept the registry locked longer than the configured bound."""


class RegistryVersionError(RegistryError):
    """The registry was written by a newer version of modelbook."""


class RegistryPermissionError(RegistryError):
    """The registry location is not writable."""


class IntegrityError(ModelbookError):
    """A stored artifact is missing or does not match its recorded hash."""


class UntrustedArtifactError(ModelbookError):
    """Loading the artifact would execute pickle code the user has not trusted."""


class MonitorError(ModelbookError):
    """A monitor run could not be completed."""


class AlertError(MonitorError):
    """A monitor run raised alerts and the caller asked to fail on them."""
