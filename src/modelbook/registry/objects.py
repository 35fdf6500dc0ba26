"""Content-addressed blob store: ``objects/ab/cdef...`` named by the SHA-256 of the bytes.

A blob enters the store in two steps, so that ``gc`` can never remove a file that a committed
or committing version names:

1. :meth:`ObjectStore.put_file` / :meth:`~ObjectStore.put_bytes` *stage* it: the bytes are in a
   temporary file under ``objects/tmp/``, fsynced and hashed, outside any lock (the slow part).
2. :meth:`ObjectStore.install` renames it into place. The registry calls it inside the write
   transaction that commits the version naming it (``Registry.add_*_version``), under the
   writers' lock, which ``gc`` also takes for its decision and its deletes. So a blob under
   ``objects/ab/`` is either named by committed metadata, or being committed by the lock holder
   (then ``gc`` is waiting), or left over by a crash (garbage).

Temporary files are named ``<host>_<pid>_<random><suffix>``: ``gc`` removes only those of
processes that are no longer running on this host (and, for files it cannot attribute, only
when they are a day old), never a live writer's. Files are created with mode ``0o666`` minus
the umask, like the metadata file, so a registry shared by a Unix group stays readable.

Every read verifies the hash, so a tampered or truncated file is reported instead of loaded.

:class:`BlobStore` is what the rest of modelbook may use of a store: the local folder here, and
the S3-compatible store of a team registry (:mod:`modelbook.registry.remote_objects`), which
uploads in ``put_file`` and reads through a local content-addressed cache. A team's shared
folder is this ``ObjectStore`` on that folder.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import secrets
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from modelbook.errors import IntegrityError

__all__ = [
    "BlobStore",
    "ObjectStore",
    "make_object_store",
    "sha256_file",
    "temp_host",
    "temp_owner",
]

_CHUNK = 1 << 20
_HEX = re.compile(r"[0-9a-f]{64}")
_TEMP = re.compile(r"(?P<host>[A-Za-z0-9.\-]+)_(?P<pid>\d+)_[0-9a-f]{16}")
# Temp files whose writer cannot be checked (another host, an older naming) are kept this long
# at least, whatever the grace: a registration never takes a day between two writes.
FOREIGN_TEMP_SECONDS = 24 * 3600.0

# Staged blobs of this process: (store root, digest) -> temporary files holding those bytes.
_staged: dict[tuple[str, str], list[Path]] = {}
_staged_lock = threading.Lock()


def make_object_store(objects: str, cache: Path) -> BlobStore:
    """A team registry's blob store: ``s3://bucket/prefix`` (read through a cache in the local
    folder ``cache``) or a shared folder; see :mod:`modelbook.registry.remote_objects`, imported
    only here so that a local registry never imports s3fs."""
    from modelbook.registry.remote_objects import make_object_store as make

    return make(objects, cache)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_host() -> str:
    return re.sub(r"[^A-Za-z0-9.\-]", "-", socket.gethostname())[:64] or "host"


def temp_owner(name: str) -> tuple[str, int] | None:
    """(host, pid) of the process that created temporary file ``name``; None if unknown."""
    match = _TEMP.match(name)
    return (match["host"], int(match["pid"])) if match else None


def _alive(pid: int) -> bool | None:
    """Whether process ``pid`` runs on this host; None when that cannot be asked (Windows)."""
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C there
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    except OSError:
        return True
    return True


@atexit.register
def _drop_staged() -> None:
    """Staged blobs never installed (the registration failed) go when the process ends."""
    pid = os.getpid()
    with _staged_lock:
        for paths in _staged.values():
            for path in paths:
                owner = temp_owner(path.name)
                if owner is not None and owner[1] == pid:  # never a forked parent's files
                    path.unlink(missing_ok=True)
        _staged.clear()


@runtime_checkable
class BlobStore(Protocol):
    """What the registry and the engine use of a content-addressed blob store.

    Writers ``temp_path`` → write → ``put_file`` (or ``put_bytes``) outside any lock, then the
    registry calls ``install`` inside the transaction that commits the metadata naming the
    digest and ``discard`` afterwards (a no-op for what was installed). Readers get bytes only
    through ``verified_path`` / ``read_verified``, which check the SHA-256 first. ``root`` and
    ``tmp`` are local folders (for a remote store: its cache), so temporary files always live
    on the local disk.
    """

    root: Path
    tmp: Path

    @property
    def location(self) -> str:
        """Where the blobs live, for messages: a folder, or ``s3://bucket/prefix``."""
        ...

    def path_for(self, digest: str) -> Path:
        """Where the blob's local copy is, or would be (no I/O: for names in messages)."""
        ...

    def local_path(self, digest: str) -> Path:
        """A local file holding the blob's bytes, not hashed again when it is there already (a
        remote store downloads it first, verified): for readers that verify separately or
        accept the cost of a damaged file being reported later."""
        ...

    def temp_path(self, suffix: str = "") -> Path: ...

    def put_bytes(self, data: bytes) -> str: ...

    def put_file(self, tmp: Path, *, digest: str | None = None) -> str: ...

    def install(self, digest: str) -> None: ...

    def discard(self, digest: str) -> None: ...

    def exists(self, digest: str) -> bool: ...

    def verified_path(self, digest: str) -> Path: ...

    def read_verified(self, digest: str) -> bytes: ...

    def iter_digests(self) -> Iterator[tuple[str, Path]]: ...

    def removable_temp(self, path: Path, *, age: float, grace_seconds: float) -> bool: ...

    def collect(self, referenced: set[str], *, grace_seconds: float) -> tuple[int, int]: ...


class ObjectStore:
    """Blobs under ``root``; the only code that writes or reads artifact files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    @property
    def location(self) -> str:
        return str(self.root)

    def path_for(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def local_path(self, digest: str) -> Path:
        return self.path_for(digest)

    def exists(self, digest: str) -> bool:
        """Whether the blob is in the store (installed; staged copies do not count)."""
        return self.path_for(digest).is_file()

    def temp_path(self, suffix: str = "") -> Path:
        """A new empty file in the store's tmp folder (same filesystem, so rename is atomic).

        Its name carries this host and process id, so ``gc`` leaves it alone while we run; its
        mode is ``0o666`` minus the umask.
        """
        self.tmp.mkdir(parents=True, exist_ok=True)
        while True:
            path = self.tmp / f"{temp_host()}_{os.getpid()}_{secrets.token_hex(8)}{suffix}"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            os.close(fd)
            return path

    # -- writing: stage, then install under the registry's write lock --------------------------

    def put_bytes(self, data: bytes) -> str:
        """Stage ``data`` as a blob; returns its digest (see :meth:`put_file`)."""
        tmp = self.temp_path()
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self.put_file(tmp, digest=hashlib.sha256(data).hexdigest())

    def put_file(self, tmp: Path, *, digest: str | None = None) -> str:
        """Stage a finished temporary file as a blob; returns its digest.

        The file is fsynced and stays in ``tmp/`` (owned by this process, so ``gc`` keeps it)
        until the version naming the digest is committed: ``Registry.add_dataset_version`` and
        ``add_model_version`` install it inside their transaction. The caller gives up ``tmp``.
        A staged blob that is never committed is removed when the process exits.
        """
        digest = digest or sha256_file(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        with _staged_lock:
            _staged.setdefault((str(self.root), digest), []).append(tmp)
        return digest

    def _take_staged(self, digest: str) -> Path | None:
        with _staged_lock:
            paths = _staged.get((str(self.root), digest))
            if not paths:
                return None
            path = paths.pop()
            if not paths:
                del _staged[(str(self.root), digest)]
            return path

    def install(self, digest: str) -> None:
        """Make blob ``digest`` part of the store; call it under the registry's write lock.

        A staged file is renamed into place (or dropped, when identical bytes are stored
        already). Without a staged file the blob must exist: metadata naming a missing file is
        never committed.
        """
        tmp = self._take_staged(digest)
        final = self.path_for(digest)
        if tmp is None:
            if not final.exists():
                raise IntegrityError(
                    f"artifact file {final} is missing: refusing to commit a version that names "
                    "it; register the object again."
                )
            return
        if final.exists():
            tmp.unlink(missing_ok=True)
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        _fsync_dir(final.parent)

    def discard(self, digest: str) -> None:
        """Drop a staged blob that will not be committed (e.g. identical data already stored)."""
        tmp = self._take_staged(digest)
        if tmp is not None:
            tmp.unlink(missing_ok=True)

    # -- reading ----------------------------------------------------------------------------------

    def verified_path(self, digest: str) -> Path:
        """Return the blob's path after checking that its bytes still hash to ``digest``."""
        path = self.path_for(digest)
        if not path.exists():
            raise IntegrityError(
                f"artifact file {path} is missing: the registry is damaged; "
                "restore the file from a backup or register the object again."
            )
        actual = sha256_file(path)
        if actual != digest:
            raise IntegrityError(
                f"artifact file {path} does not match its recorded hash (expected {digest[:12]}…, "
                f"found {actual[:12]}…): it was modified or corrupted; refusing to load it."
            )
        return path

    def read_verified(self, digest: str) -> bytes:
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.verified_path(digest)  # raises the clear message
            raise
        if hashlib.sha256(data).hexdigest() != digest:
            self.verified_path(digest)
        return data

    def iter_digests(self) -> Iterator[tuple[str, Path]]:
        """Every file under ``objects/ab/`` (names that are not a digest included)."""
        if not self.root.is_dir():
            return
        for sub in self.root.iterdir():
            if len(sub.name) != 2 or not sub.is_dir():
                continue
            for blob in sub.iterdir():
                yield sub.name + blob.name, blob

    @staticmethod
    def is_digest(name: str) -> bool:
        return bool(_HEX.fullmatch(name))

    # -- garbage ----------------------------------------------------------------------------------

    def removable_temp(self, path: Path, *, age: float, grace_seconds: float) -> bool:
        """Whether ``gc`` may delete temporary file ``path`` (``age`` seconds old).

        Never a file of a process still running on this host; one of a finished process once
        it is older than the grace; one whose writer cannot be checked (another host, an
        unknown name, or any on Windows) only once it is older than the grace and
        :data:`FOREIGN_TEMP_SECONDS`.
        """
        if age < grace_seconds:
            return False
        owner = temp_owner(path.name)
        alive = _alive(owner[1]) if owner is not None and owner[0] == temp_host() else None
        if alive is not None:
            return not alive
        return age >= FOREIGN_TEMP_SECONDS

    def collect(self, referenced: set[str], *, grace_seconds: float) -> tuple[int, int]:
        """Delete blobs not in ``referenced`` and temporary files no live process owns.

        Call it under the registry's write lock: then no blob outside ``referenced`` is about
        to be committed (see the module docstring). Blobs younger than the grace period are
        kept anyway, for writers of older modelbook versions that install before they lock.
        Returns (files removed, bytes freed).
        """
        now = time.time()
        removed = freed = 0
        candidates = [(path, False) for d, path in self.iter_digests() if d not in referenced]
        if self.tmp.is_dir():
            candidates.extend((path, True) for path in self.tmp.iterdir())
        for path, temporary in candidates:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            age = now - stat.st_mtime
            if temporary:
                if not self.removable_temp(path, age=age, grace_seconds=grace_seconds):
                    continue
            elif age < grace_seconds:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
            freed += stat.st_size
        return removed, freed
