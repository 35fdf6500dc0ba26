"""Settings from ``pyproject.toml`` ``[tool.modelbook]`` and the registry's ``monitor.toml``.

Precedence, highest first: arguments of the call (``rules=``, ``store=``) > ``monitor.toml`` in
the registry folder > ``[tool.modelbook]`` of the nearest ``pyproject.toml`` (walking up from the
working directory, as git finds ``.git``) > built-in defaults. Tables merge key by key, so a
``monitor.toml`` that sets one threshold keeps every other setting of the project.

``monitor.toml`` holds what ``[tool.modelbook]`` holds, without the ``tool.modelbook`` prefix::

    [monitor]
    store = "profile"

    [monitor.checks]
    schema.unexpected = "info"

Every key is checked: a misspelt key is a :class:`~modelbook.errors.ConfigError` naming the file
and the allowed keys, never a silently ignored setting. The keys are documented in
``docs/monitoring.md``; the ``monitor`` table is validated in :mod:`modelbook.monitoring.rules`,
the ``alerts`` table by its reader (alert delivery).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelbook.errors import ConfigError

__all__ = [
    "MONITOR_TOML",
    "SECTIONS",
    "find_pyproject",
    "load_config",
    "merge",
    "read_toml",
]

MONITOR_TOML = "monitor.toml"

#: Top-level tables of ``[tool.modelbook]`` / ``monitor.toml`` and what each is for.
SECTIONS: Mapping[str, str] = {
    "monitor": "monitor runs: store mode, progress bar, drift tests, check thresholds",
    "alerts": "alert delivery: webhook, command, retries (read by the scheduled-run engine)",
    "feedback": "late labels: min_labels, the labelled rows a realized-quality verdict needs",
    "policy": "rollback/retraining policies, one table per policy (read by modelbook.policies)",
    "registry": "where the registry is: url (a team registry) and objects (its files)",
}


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` (default: the working directory)."""
    folder = (start or Path.cwd()).absolute()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the file.") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror or exc}).") from exc


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, any other value of ``override`` replaces."""
    out = dict(base)
    for key, value in override.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = merge(old, value)
        else:
            out[key] = value
    return out


def _check_sections(config: Mapping[str, Any], where: str) -> None:
    for key, value in config.items():
        if key not in SECTIONS:
            raise ConfigError(
                f"unknown setting {key!r} in {where}; allowed tables: {', '.join(SECTIONS)}."
            )
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key!r} in {where} must be a table, e.g. [{key}].")


def load_config(
    registry_home: str | os.PathLike[str] | None = None, *, start: Path | None = None
) -> dict[str, Any]:
    """The merged settings: ``monitor.toml`` of the registry over ``[tool.modelbook]``.

    Returns a plain dict with the top-level tables of :data:`SECTIONS` that were set anywhere
    (missing tables are absent, not empty). Only the top level is checked here; each table is
    validated by the code that reads it.
    """
    config: dict[str, Any] = {}
    pyproject = find_pyproject(start)
    if pyproject is not None:
        tool = read_toml(pyproject).get("tool", {})
        section = tool.get("modelbook", {}) if isinstance(tool, Mapping) else {}
        if not isinstance(section, Mapping):
            raise ConfigError(f"[tool.modelbook] in {pyproject} must be a table.")
        _check_sections(section, f"[tool.modelbook] of {pyproject}")
        config = merge(config, section)
    if registry_home is not None:
        path = Path(registry_home) / MONITOR_TOML
        if path.is_file():
            local = read_toml(path)
            _check_sections(local, str(path))
            config = merge(config, local)
    return config
