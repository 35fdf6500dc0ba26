"""One parser for names and references, used by the API, the magics and the CLI.

A reference names a version of a model or dataset: ``churn`` (the latest version),
``churn@3`` (version 3) or ``churn@production`` (whatever the alias points at).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelbook.errors import InvalidNameError

__all__ = ["Ref", "parse_ref", "validate_alias", "validate_name"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,127}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,63}")
_NAME_RULE = "start with a letter and use only letters, digits, '_', '-' or '.' (at most 128)"


@dataclass(frozen=True)
class Ref:
    """A parsed reference: ``version`` and ``alias`` are both None for "latest"."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}@{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


def validate_name(name: object) -> str:
    """Return ``name`` if it is a valid model or dataset name, else raise InvalidNameError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidNameError(f"invalid name {name!r}: a name must {_NAME_RULE}.")
    return name


def validate_alias(alias: object) -> str:
    """Return ``alias`` if valid; aliases cannot be numbers, which would read as versions."""
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidNameError(
            f"invalid alias {alias!r}: an alias must start with a letter and use only letters, "
            "digits, '_' or '-' (at most 64)."
        )
    if alias == "latest":
        raise InvalidNameError("'latest' is reserved: it always means the newest version.")
    return alias


def parse_ref(text: object) -> Ref:
    """Parse ``name``, ``name@3`` or ``name@alias`` (``name@latest`` means ``name``)."""
    if not isinstance(text, str):
        raise InvalidNameError(f"invalid reference {text!r}: expected a string like 'churn@3'.")
    name, sep, suffix = text.strip().partition("@")
    validate_name(name)
    if not sep:
        return Ref(name)
    if suffix.isdigit():
        version = int(suffix)
        if version < 1:
            raise InvalidNameError(f"invalid reference {text!r}: versions start at 1.")
        return Ref(name, version=version)
    if suffix == "latest":
        return Ref(name)
    if not _ALIAS.fullmatch(suffix):
        raise InvalidNameError(
            f"invalid reference {text!r}: write NAME, NAME@VERSION or NAME@ALIAS, e.g. 'churn@3'."
        )
    return Ref(name, alias=suffix)
