"""Where the registry is: a local folder, or a team registry at a ``postgresql://`` URL.

A :class:`Location` is a ``str`` whose value is what may be shown (the folder path, or the URL
without its password), so printing, logging or formatting one can never leak a credential; the
full URL travels only in :attr:`Location.url`, and passing the Location itself back as
``registry=`` reopens the same registry with it.

Precedence, highest first: an explicit ``--registry`` / ``registry=``, the session's
``%modelbook use``, ``MODELBOOK_HOME``, ``[tool.modelbook.registry] url`` of the nearest
``pyproject.toml``, the nearest ``.modelbook/`` folder walking up from the working directory,
else ``./.modelbook/``. A team registry's objects (the files) are named by ``?objects=`` in the
URL, else ``MODELBOOK_OBJECTS``, else ``[tool.modelbook.registry] objects``, else what
``modelbook init URL --objects ...`` stored in the registry itself.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from modelbook.errors import ConfigError

__all__ = [
    "SCHEMES",
    "Location",
    "is_url",
    "parse_location",
    "scrub",
    "team_cache",
]

SCHEMES = ("postgresql://", "postgres://")
# libpq query parameters that are secrets: never shown.
_SECRET_PARAMS = {"password", "sslpassword"}


def is_url(value: object) -> bool:
    """Whether ``value`` names a team registry (a PostgreSQL URL) rather than a folder."""
    return isinstance(value, str) and value.lower().startswith(SCHEMES)


class Location(str):
    """A registry location; ``str(location)`` is its display form (never a password).

    ``path``: the local registry folder (None for a team registry); ``url``: the full
    PostgreSQL URL with credentials, for connecting only (None for a local registry);
    ``objects``: the team registry's object store when given by the URL or the settings.
    """

    path: Path | None
    url: str | None
    objects: str | None

    def __new__(
        cls,
        display: str,
        *,
        path: Path | None = None,
        url: str | None = None,
        objects: str | None = None,
    ) -> Location:
        self = super().__new__(cls, display)
        self.path = path
        self.url = url
        self.objects = objects
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle (multiprocessing, papermill parameters) keeps the credentials-carrying fields.
        return (_rebuild, (str(self), self.path, self.url, self.objects))

    @property
    def is_team(self) -> bool:
        return self.url is not None

    @property
    def display(self) -> str:
        return str(self)

    def home(self) -> Path:
        """The local folder for files: the registry folder, or a team registry's cache."""
        if self.path is not None:
            return self.path
        return team_cache(str(self))


def _rebuild(display: str, path: Path | None, url: str | None, objects: str | None) -> Location:
    return Location(display, path=path, url=url, objects=objects)


def team_cache(display: str) -> Path:
    """The local working folder of a team registry (settings, policy outputs, blob cache).

    ``$MODELBOOK_CACHE/team/<hash>`` (default ``~/.cache/modelbook``), keyed by the display
    form, so two team registries never share a cache and no credential is in the path.
    """
    base = os.environ.get("MODELBOOK_CACHE") or str(Path("~/.cache/modelbook").expanduser())
    key = hashlib.sha256(display.encode()).hexdigest()[:16]
    return Path(base).expanduser().absolute() / "team" / key


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` without any password: in URLs (``user:pw@``), ``password=`` pairs, and each
    of ``secrets`` wherever it appears (an error message that quotes a connection string)."""
    lowered = text.lower()  # substring tests first: a 300 KB report costs no regex scan
    if "postgres" in lowered:
        text = re.sub(r"(?i)(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@", r"\1@", text)
    if "password" in lowered:
        text = re.sub(r"(?i)\b(ssl)?password\s*=\s*('[^']*'|[^\s&]+)", r"\1password=***", text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, "***")
    return text


def _display_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if user else host
    query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SECRET_PARAMS]
    text = f"{parts.scheme}://{netloc}{parts.path}"  # urlunsplit drops an empty host's '//'
    return f"{text}?{urlencode(query)}" if query else text


def url_password(url: str) -> str | None:
    """The password in ``url`` (userinfo or ``password=``), for scrubbing error messages."""
    parts = urlsplit(url)
    if parts.password:
        return unquote(parts.password)
    for key, value in parse_qsl(parts.query):
        if key.lower() == "password":
            return value
    return None


def _team(url: str, objects: str | None) -> Location:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = [v for k, v in query if k == "objects"]
    rest = [(k, v) for k, v in query if k != "objects"]
    clean = f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{urlencode(rest)}" if rest else "")
    keys = {k for k, _ in rest}
    # No host: libpq uses a local socket. A database must be named (or come from a service).
    if not parts.path.strip("/") and not keys & {"dbname", "service"}:
        raise ConfigError(
            f"the team registry URL {_display_url(clean)} names no database: add it, e.g. "
            "postgresql://user@host/modelbook."
        )
    return Location(_display_url(clean), url=clean, objects=given[-1] if given else objects)


def _local(path: Path) -> Location:
    from modelbook.registry.paths import normalise

    folder = normalise(path)
    return Location(str(folder), path=folder)


def parse_location(value: str | os.PathLike[str], *, objects: str | None = None) -> Location:
    """A Location from an explicit value: a Location as is, a URL, or a folder path."""
    if isinstance(value, Location):
        return value
    if is_url(value):
        return _team(str(value), objects)
    text = os.fspath(value)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ConfigError(
            f"a registry at {scheme}:// is not supported: use a folder path or a "
            "postgresql://user@host/database URL (the files of a team registry go to "
            "MODELBOOK_OBJECTS)."
        )
    return _local(Path(text))


def settings() -> dict[str, str]:
    """``[tool.modelbook.registry]`` of the nearest pyproject.toml: ``url`` and ``objects``."""
    from modelbook.config import find_pyproject, read_toml

    pyproject = find_pyproject()
    if pyproject is None:
        return {}
    tool = read_toml(pyproject).get("tool", {})
    section = tool.get("modelbook", {}) if isinstance(tool, dict) else {}
    table = section.get("registry", {}) if isinstance(section, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.modelbook.registry] in {pyproject} must be a table.")
    unknown = sorted(set(table) - {"url", "objects"})
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]!r} in [tool.modelbook.registry] of {pyproject}; "
            "allowed keys: url, objects."
        )
    out: dict[str, str] = {}
    for key in ("url", "objects"):
        if key in table:
            if not isinstance(table[key], str) or not table[key]:
                raise ConfigError(
                    f"[tool.modelbook.registry] {key} in {pyproject} must be a non-empty string."
                )
            out[key] = table[key]
    return out


def configured_objects() -> str | None:
    """The objects setting outside the URL: MODELBOOK_OBJECTS, else the pyproject table."""
    env = os.environ.get("MODELBOOK_OBJECTS")
    if env:
        return env
    return settings().get("objects")
