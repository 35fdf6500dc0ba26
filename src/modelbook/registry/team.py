"""What only a team registry needs: where its files are, and ``modelbook init URL``.

A team registry's files live in a store every member reaches: a shared folder (the local
:class:`~modelbook.registry.objects.ObjectStore` on that path) or S3-compatible storage (helper
OBJ's ``make_object_store``). Which one is named by ``?objects=`` in the URL,
``MODELBOOK_OBJECTS``, ``[tool.modelbook.registry] objects``, or, so that readers need no
setting at all, the ``meta`` row ``objects`` that ``modelbook init URL --objects ...`` stores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelbook.errors import ConfigError, RegistryError
from modelbook.registry.location import Location
from modelbook.registry.objects import BlobStore

if TYPE_CHECKING:
    from modelbook.registry.store import Registry

__all__ = ["InitResult", "init_registry", "make_store", "stored_objects", "team_objects"]


@dataclass(frozen=True)
class InitResult:
    """What ``modelbook init`` did: the schema before and after, where the files go."""

    registry: str  # display form: never a password
    schema_from: int  # 0: created now
    schema: int
    objects: str | None
    team: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        if self.schema_from == 0:
            did = f"created the registry tables (schema version {self.schema})"
        elif self.schema_from < self.schema:
            did = f"migrated the schema from version {self.schema_from} to {self.schema}"
        else:
            did = f"already at schema version {self.schema}, nothing to do"
        files = (
            f"; files: {self.objects}"
            if self.objects
            else (
                "; files: none named yet (set MODELBOOK_OBJECTS, or init again with --objects)"
                if self.team
                else ""
            )
        )
        return f"registry {self.registry}: {did}{files}"


def stored_objects(reg: Registry) -> str | None:
    """The objects location recorded in the registry's ``meta`` table, if any."""
    with reg.read() as con:
        if con is None:
            return None
        rows = con.execute("SELECT value FROM meta WHERE key = 'objects'").fetchall()
    return str(rows[0][0]) if rows else None


def make_store(objects: str, cache: Path) -> BlobStore:
    """The blob store at ``objects`` (a shared folder, or S3 through helper OBJ's store, which
    keeps a hash-verified read cache under ``cache``)."""
    from modelbook.registry.objects import make_object_store

    return make_object_store(objects, cache)


def team_objects(reg: Registry) -> BlobStore:
    """The blob store of team registry ``reg`` (see the module docstring for the order)."""
    objects = reg.location.objects or stored_objects(reg)
    if not objects:
        raise ConfigError(
            f"the team registry {reg.location} names no object store for its files: set "
            "MODELBOOK_OBJECTS to a shared folder or s3://bucket/prefix (or run `modelbook "
            "init URL --objects ...` once, so every member finds it)."
        )
    return make_store(objects, reg.home / "objects-cache")


def init_registry(location: Location, *, objects: str | None = None) -> InitResult:
    """Create or migrate the registry's tables; record ``objects`` for every member.

    A registry written by a newer modelbook is refused (RegistryVersionError), as locally.
    """
    from modelbook.registry.schema import SCHEMA_VERSION, current_version
    from modelbook.registry.store import Registry

    if objects is not None and not objects.strip():
        raise ConfigError("--objects needs a location: a shared folder or s3://bucket/prefix.")
    if objects is not None and "://" not in objects:
        objects = str(Path(objects).expanduser().absolute())
    if objects is not None:
        location = Location(str(location), path=location.path, url=location.url, objects=objects)
    reg = Registry(location)
    with reg.read() as con:
        before = current_version(con) if con is not None else 0
    if not reg.is_team:
        if objects is not None:
            raise ConfigError(
                "--objects is for a team registry (postgresql://...): a local registry keeps "
                "its files in its own objects/ folder."
            )
        reg.ensure_writable()
    with reg.write() as con:
        if objects is not None:
            con.execute(
                "INSERT INTO meta VALUES ('objects', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [objects],
            )
    if objects is not None and "://" in objects:
        reg.objects.exists("0" * 64)  # a wrong bucket, endpoint or key fails here, in one line
    elif objects is not None:
        root = reg.objects.root
        if isinstance(root, Path):
            try:
                root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(
                    f"cannot create the objects folder {root} ({exc.strerror or exc}); choose "
                    "a folder every member can write."
                ) from exc
    return InitResult(
        registry=str(location),
        schema_from=before,
        schema=SCHEMA_VERSION,
        objects=objects or (stored_objects(reg) if reg.is_team else str(reg.home / "objects")),
        team=reg.is_team,
    )
