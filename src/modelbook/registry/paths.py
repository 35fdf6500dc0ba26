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
from modelbook.registry.location import Location, configured_objects, parse_location, settings

__all__ = [
    "DIRNAME",
    "check_home",
    "find_home",
    "find_location",
    "normalise",
    "session_location",
    "set_session_home",
]

DIRNAME = ".modelbook"
_session: Location | None = None


def set_session_home(path: str | os.PathLike[str] | None) -> Path | None:
    """Make ``path`` the registry for the rest of this process (None restores discovery).

    Returns the local folder used for files (a team registry's is its cache folder); the
    Location itself is :func:`session_location`.
    """
    global _session
    if path is None:
        _session = None
        return None
    location = parse_location(path, objects=None)
    if location.path is not None:
        check_home(location.path)
    _session = location
    return location.home()


def session_location() -> Location | None:
    """What ``%modelbook use`` chose for this process, if anything."""
    return _session


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


def normalise(path: Path) -> Path:
    path = path.expanduser().absolute()
    # Accept the project folder as well as the .modelbook folder itself.
    if path.name != DIRNAME and (path / DIRNAME).is_dir():
        return path / DIRNAME
    return path


def find_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the registry folder to use (a team registry's local cache folder); it may not
    exist yet. Where the registry itself is: :func:`find_location`."""
    return find_location(explicit).home()


def _team_objects(location: Location) -> Location:
    """A team Location with the objects setting from outside its URL, when the URL has none."""
    if location.url is None or location.objects is not None:
        return location
    objects = configured_objects()
    if objects is None:
        return location
    return Location(str(location), url=location.url, objects=objects)


def find_location(explicit: str | os.PathLike[str] | None = None) -> Location:
    """Where the registry is (see :mod:`modelbook.registry.location` for the precedence)."""
    if explicit is not None:
        return _team_objects(parse_location(explicit))
    if _session is not None:
        return _team_objects(_session)
    env = os.environ.get("MODELBOOK_HOME")
    if env:
        return _team_objects(parse_location(env))
    url = settings().get("url")
    if url is not None:
        return _team_objects(parse_location(url))
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        candidate = folder / DIRNAME
        if candidate.is_dir():
            return Location(str(candidate), path=candidate)
    return Location(str(cwd / DIRNAME), path=cwd / DIRNAME)
