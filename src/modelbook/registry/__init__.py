"""The registry: DuckDB metadata plus content-addressed blobs; the only code touching them."""

from __future__ import annotations

from modelbook.registry.paths import find_home, set_session_home
from modelbook.registry.refs import Ref, parse_ref, validate_alias, validate_name
from modelbook.registry.store import Registry, Resolved

__all__ = [
    "Ref",
    "Registry",
    "Resolved",
    "find_home",
    "parse_ref",
    "set_session_home",
    "validate_alias",
    "validate_name",
]
