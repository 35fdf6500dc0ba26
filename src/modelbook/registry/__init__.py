"""The registry: metadata (DuckDB locally, PostgreSQL for a team) plus content-addressed blobs;
the only code touching them."""

from __future__ import annotations

import os

from modelbook.registry.location import Location, parse_location
from modelbook.registry.paths import find_home, find_location, set_session_home
from modelbook.registry.refs import Ref, parse_ref, validate_alias, validate_name
from modelbook.registry.store import Registry, Resolved

__all__ = [
    "Location",
    "Ref",
    "Registry",
    "Resolved",
    "find_home",
    "find_location",
    "open_registry",
    "parse_location",
    "parse_ref",
    "set_session_home",
    "validate_alias",
    "validate_name",
]


def open_registry(explicit: str | os.PathLike[str] | None = None) -> Registry:
    """The registry one call uses: ``explicit`` (a folder, a ``postgresql://`` URL, or a
    ``Registry.location`` to reopen the same registry), else the session's, else discovery."""
    return Registry(find_location(explicit))
