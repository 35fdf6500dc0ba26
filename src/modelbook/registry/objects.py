"""Content-addressed blob store: ``objects/ab/cdef...`` named by the SHA-256 of the bytes.

Blobs are written to a temporary file, fsynced, then renamed into place, so a reader never sees
a partial blob and a crash leaves at most a stray temporary file (removed by ``gc``). Every read
verifies the hash, so a tampered or truncated file is reported instead of loaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from modelbook.errors import IntegrityError

__all__ = ["ObjectStore", "sha256_file"]

_CHUNK = 1 << 20


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


class ObjectStore:
    """Blobs under ``root``; the only code that writes or reads artifact files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    def path_for(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def temp_path(self, suffix: str = "") -> Path:
        """A fresh path inside the store's tmp folder (same filesystem, so rename is atomic)."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp, suffix=suffix)
        os.close(fd)
        return Path(name)

    def put_bytes(self, data: bytes) -> str:
        tmp = self.temp_path()
        with open(tmp, "wb") as handle:
            handle.write(data)
        return self.put_file(tmp, digest=hashlib.sha256(data).hexdigest())

    def put_file(self, tmp: Path, *, digest: str | None = None) -> str:
        """Move a finished temporary file into the store; returns its digest.

        If an identical blob exists already, the temporary file is dropped and the existing
        blob's mtime refreshed, so ``gc``'s grace period protects it until the metadata that
        names it is committed.
        """
        digest = digest or sha256_file(tmp)
        final = self.path_for(digest)
        if final.exists():
            tmp.unlink(missing_ok=True)
            os.utime(final)
            return digest
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        return digest

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
        if not self.root.is_dir():
            return
        for sub in self.root.iterdir():
            if len(sub.name) != 2 or not sub.is_dir():
                continue
            for blob in sub.iterdir():
                yield sub.name + blob.name, blob

    def collect(self, referenced: set[str], *, grace_seconds: float) -> tuple[int, int]:
        """Delete blobs not in ``referenced`` and stale temp files older than the grace period.

        Returns (files removed, bytes freed). The grace period keeps blobs that a concurrent
        registration has written but not yet committed.
        """
        cutoff = time.time() - grace_seconds
        removed = freed = 0
        candidates = [path for digest, path in self.iter_digests() if digest not in referenced]
        if self.tmp.is_dir():
            candidates.extend(p for p in self.tmp.iterdir())
        for path in candidates:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if stat.st_mtime > cutoff:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
            freed += stat.st_size
        return removed, freed
