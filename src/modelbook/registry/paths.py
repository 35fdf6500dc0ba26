"""Where the registry lives.

An explicit path (``--registry``) or a session override (``modelbook.use()``) wins; else
``MODELBOOK_HOME``; else the nearest
``.modelbook/`` folder walking up from the working directory (as git finds ``.git``); else
``./.modelbook/``, created on first write.
"""

from __future__ import annotations

import os
from pathlib import Path

from modelbook.errors import ConfigError

__all__ = ["DIRNAME", "check_home", "find_home", "set_session_home"]

DIRNAME = ".modelbook"
_session_home: Path | None = None


def set_session_home(path: str | os.PathLike[str] | None) -> Path | None:
    """Make ``path`` the registry for the rest of this process (None restores discovery)."""
    global _session_home
    home = None if path is None else check_home(_normalise(Path(path)))
    _session_home = home
    return _session_home


def check_home(home: Path) -> Path:
    """Return ``home`` if it can be a registry folder (one, or nothing yet); refuse a file."""
    if home.exists() and not home.is_dir():
        hint = (
            f"pass its folder, {home.parent}"
            if home.name == "registry.duckdb"
            else "pass the folder that holds registry.duckdb, or a new folder to create one"
        )
        raise ConfigError(f"the registry path {home} is a file, not a folder: {hint}.")
    return home


def _normalise(path: Path) -> Path:
    path = path.expanduser().absolute()
    # Accept the project folder as well as the .modelbook folder itself.
    if path.name != DIRNAME and (path / DIRNAME).is_dir():
        return path / DIRNAME
    return path


def find_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the registry folder to use; it may not exist yet."""
    if explicit is not None:
        return _normalise(Path(explicit))
    if _session_home is not None:
        return _session_home
    env = os.environ.get("MODELBOOK_HOME")
    if env:
        return _normalise(Path(env))
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        candidate = folder / DIRNAME
        if candidate.is_dir():
            return candidate
    return cwd / DIRNAME
