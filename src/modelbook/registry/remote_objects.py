"""Blobs of a team registry in S3-compatible object storage (``s3://bucket/prefix``).

Why fsspec/s3fs rather than boto3: s3fs is the S3 client the PyData stack already uses
(pandas, pyarrow, DuckDB's fsspec bridge), it uploads large files in concurrent parts and
downloads in ranges without extra code, it is maintained with fsspec by the Dask/Anaconda
team, and it takes credentials exactly as boto does (environment, ``~/.aws``, instance roles).
boto3 would need our own multipart and ranged-download code for the same result.

Layout: ``<prefix>/ab/cdef…``, as the local ``objects/`` folder, so a bucket and a shared folder
hold the same files and any sync tool can copy one into the other.

Writing (see :class:`~modelbook.registry.objects.BlobStore`): ``put_file`` hashes the staged
file (SHA-256 names it; MD5s predict S3's ETag), uploads it straight to its final key and checks
the stored size and ETag, all before the registry commits metadata naming it. The final key is
safe to write early because it *is* the content: a concurrent writer of the same bytes writes
the same object. ``install`` runs inside the metadata transaction, under the writers' lock that
gc also takes: it checks that the object is still there, and uploads it again from the staged
copy if a gc removed it meanwhile. ``discard`` never deletes a remote object (another writer may
have committed the same content); ``collect`` deletes only objects no committed version names
that are older than the grace period, so an upload whose commit is in flight survives it.

Reading: a blob is downloaded once into a local content-addressed cache (``cache/ab/cdef…``) and
every ``verified_path``/``read_verified`` hashes the cached bytes before returning them, so a
tampered object (or cache file) is refused, never loaded. Network errors are retried with a
bounded exponential backoff; what still fails becomes one line that names the store and what to
do, and never carries credentials (those come from the environment, as botocore finds them).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import hashlib
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from modelbook.errors import (
    ConfigError,
    IntegrityError,
    ModelbookError,
    RegistryError,
    RegistryPermissionError,
)
from modelbook.registry.objects import BlobStore, ObjectStore, sha256_file
from modelbook.registry.s3_location import (
    S3Location,
    denied,
    display_objects,
    is_remote,
    no_credentials,
    parse_s3,
    reason,
    strip_userinfo,
    transient,
)

__all__ = [
    "S3Location",
    "S3ObjectStore",
    "display_objects",
    "is_remote",
    "make_object_store",
    "parse_s3",
]

T = TypeVar("T")

ATTEMPTS = 4  # tries of one network operation
BACKOFF = 0.2  # seconds before the second try, doubled after each: at most 1.4 s of waiting
PART = 50 * 2**20  # multipart chunk size (s3fs's default), also used to predict the ETag
MAX_PARTS = 10_000  # S3's limit on the parts of one upload
CONCURRENCY = 4  # parts in flight (each is held in memory while it uploads)
_CHUNK = 8 << 20
_MD5_ETAG = re.compile(r"[0-9a-f]{32}(-\d+)?")

# Staged uploads of this process: temporary files (in a cache's tmp/) by (cache root, digest).
_staged: dict[tuple[str, str], list[Path]] = {}
_staged_lock = threading.Lock()


@atexit.register
def _drop_staged() -> None:
    """Staged copies never installed or discarded go when the process ends (not the uploads:
    those are garbage for ``gc`` once older than its grace period)."""
    with _staged_lock:
        for paths in _staged.values():
            for path in paths:
                path.unlink(missing_ok=True)
        _staged.clear()


def make_object_store(objects: str, cache: Path) -> BlobStore:
    """The blob store a team registry names: S3 or a shared folder.

    ``objects``: ``s3://bucket/prefix[?endpoint=…]`` (read through a content-addressed cache
    in the local folder ``cache``), ``file:///path`` or a path.
    A shared folder is the local :class:`ObjectStore` on it (blobs at ``folder/ab/cdef…``).
    """
    scheme = urlsplit(objects).scheme.lower()
    if scheme in {"s3", "s3a"}:
        return S3ObjectStore(parse_s3(objects), cache)
    if scheme == "file":
        return ObjectStore(Path(unquote(urlsplit(objects).path)))
    if len(scheme) > 1:  # 'c:' is a Windows drive, not a scheme
        raise ConfigError(
            f"object store {display_objects(objects)!r}: only s3://bucket/prefix (any "
            "S3-compatible service) or a shared folder are supported."
        )
    return ObjectStore(Path(objects).expanduser())


# -- hashing ------------------------------------------------------------------------------------


def part_size(size: int) -> int:
    """The part size of a multipart upload of ``size`` bytes (at most 10,000 parts)."""
    return max(PART, math.ceil(size / MAX_PARTS))


def _hashes(path: Path, *, sha: bool) -> tuple[str | None, str, int]:
    """(SHA-256 or None, the ETag S3 will report, size) of a file, in one read.

    S3's ETag of a single-part upload is the MD5 of the bytes; of a multipart upload, the MD5
    of the parts' MD5s, then ``-<parts>``. s3fs uploads in one part below two part sizes.
    """
    size = path.stat().st_size
    part = part_size(size)
    whole = hashlib.sha256() if sha else None
    md5 = hashlib.md5(usedforsecurity=False)
    parts: list[bytes] = []
    current = hashlib.md5(usedforsecurity=False)
    filled = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            if whole is not None:
                whole.update(chunk)
            md5.update(chunk)
            view = memoryview(chunk)
            while view:
                take = min(len(view), part - filled)
                current.update(view[:take])
                filled += take
                view = view[take:]
                if filled == part:
                    parts.append(current.digest())
                    current = hashlib.md5(usedforsecurity=False)
                    filled = 0
    if filled:
        parts.append(current.digest())
    if size < 2 * part:
        etag = md5.hexdigest()
    else:
        etag = hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest() + f"-{len(parts)}"
    return (whole.hexdigest() if whole is not None else None), etag, size


# -- the store ----------------------------------------------------------------------------------


class S3ObjectStore:
    """Blobs under ``s3://bucket/prefix``, read through a verified local cache at ``cache``."""

    def __init__(self, where: S3Location, cache: Path, *, attempts: int = ATTEMPTS) -> None:
        self.where = where
        self.root = cache
        self.tmp = cache / "tmp"
        self.attempts = max(1, attempts)
        self._cache = ObjectStore(cache)
        self._fs: Any = None

    @property
    def location(self) -> str:
        return self.where.display

    def url(self, digest: str) -> str:
        return f"s3://{self.where.key(digest)}"

    # -- the client -----------------------------------------------------------------------------

    @property
    def fs(self) -> Any:
        """The s3fs filesystem (created on first use; s3fs shares one per configuration)."""
        if self._fs is None:
            try:
                import s3fs
            except ImportError:
                raise ConfigError(
                    f'the object store {self.location} needs s3fs: pip install "modelbook[team]".'
                ) from None
            client: dict[str, Any] = {}
            if self.where.region:
                client["region_name"] = self.where.region
            fs = s3fs.S3FileSystem(
                endpoint_url=self.where.endpoint,
                client_kwargs=client,
                config_kwargs={
                    "connect_timeout": 10,
                    "read_timeout": 120,
                    "retries": {"max_attempts": 1, "mode": "standard"},
                },
                use_listings_cache=False,
                max_concurrency=CONCURRENCY,
            )
            fs.retries = 1  # no retries below ours (ATTEMPTS, BACKOFF): the total stays bounded
            self._fs = fs
        return self._fs

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        """Run ``operation``, retrying transient errors with bounded backoff; one-line errors."""
        delay = BACKOFF
        for attempt in range(1, self.attempts + 1):
            try:
                return operation()
            except Exception as exc:
                if isinstance(exc, FileNotFoundError) and "bucket" in str(exc).lower():
                    raise self._error(what, exc, attempt) from None
                if isinstance(exc, ModelbookError | FileNotFoundError):
                    raise
                if attempt < self.attempts and transient(exc):
                    time.sleep(delay)
                    delay *= 2
                    continue
                raise self._error(what, exc, attempt) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, what: str, exc: BaseException, attempts: int) -> RegistryError:
        where = self.location + (
            f" at {strip_userinfo(self.where.endpoint)}" if self.where.endpoint else ""
        )
        if no_credentials(exc):
            return RegistryPermissionError(
                f"the object store {where} found no credentials to {what}: set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment."
            )
        if denied(exc):
            return RegistryPermissionError(
                f"the object store {where} refused to {what} (access denied): ask its owner for "
                f"read and write access to {self.where.base}/, or check the credentials in the "
                "environment."
            )
        if "NoSuchBucket" in str(exc) or "bucket does not exist" in str(exc).lower():
            return RegistryError(
                f"the object store {where} has no bucket {self.where.bucket!r}: create it, or "
                "fix MODELBOOK_OBJECTS."
            )
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return RegistryError(
            f"the object store {where} could not {what}{tries} ({reason(exc)}): check that it "
            "is reachable and the credentials are valid, then try again."
        )

    def _head(self, digest: str) -> dict[str, Any] | None:
        """The object's size and ETag, or None when it is not there."""
        bucket, _, key = self.where.key(digest).partition("/")

        def head() -> dict[str, Any] | None:
            try:
                found = self.fs.call_s3("head_object", Bucket=bucket, Key=key)
            except FileNotFoundError:
                return None
            # SSE-KMS / SSE-C objects have ETags that are not an MD5 of the bytes (AWS docs).
            opaque = found.get("ServerSideEncryption") == "aws:kms" or bool(
                found.get("SSECustomerAlgorithm")
            )
            return {"size": found.get("ContentLength"), "ETag": found.get("ETag"), "opaque": opaque}

        return self._call(f"look up {digest[:12]}…", head)

    @staticmethod
    def _etag(info: dict[str, Any]) -> str:
        return str(info.get("ETag") or info.get("etag") or "").strip('"')

    def _same(self, info: dict[str, Any] | None, *, size: int, etag: str) -> bool:
        """Whether the stored object has these bytes: its size, and its ETag where that is an
        MD5 (S3, MinIO, Ceph; not SSE-KMS/SSE-C objects, whose ETag is opaque)."""
        if info is None or int(info.get("size") or -1) != size:
            return False
        found = self._etag(info)
        if info.get("opaque") or not _MD5_ETAG.fullmatch(found):
            return True
        return found == etag

    # -- writing --------------------------------------------------------------------------------

    def temp_path(self, suffix: str = "") -> Path:
        """A new empty local file in the cache's tmp folder (named for this host and process)."""
        return self._cache.temp_path(suffix)

    def put_bytes(self, data: bytes) -> str:
        tmp = self.temp_path()
        try:
            tmp.write_bytes(data)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self.put_file(tmp, digest=hashlib.sha256(data).hexdigest())

    def put_file(self, tmp: Path, *, digest: str | None = None) -> str:
        """Upload a finished local file to its final key and verify it; returns its digest.

        The file stays staged (in the cache's tmp/, owned by this process) until ``install`` or
        ``discard``; the caller gives it up. Content already stored with the same size and ETag
        is not uploaded again.
        """
        try:
            digest = digest or sha256_file(tmp)
            size = tmp.stat().st_size
            # The MD5s (for the ETag check) are computed while the HEAD and the upload run.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                etag = pool.submit(lambda: _hashes(tmp, sha=False)[1])
                info = self._head(digest)
                if info is None or not self._same(info, size=size, etag=etag.result()):
                    self._upload(tmp, digest, size=size, etag=etag)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        with _staged_lock:
            _staged.setdefault((str(self.root), digest), []).append(tmp)
        return digest

    def _upload(
        self, source: Path, digest: str, *, size: int, etag: str | concurrent.futures.Future[str]
    ) -> None:
        key = self.where.key(digest)

        def upload() -> None:
            self.fs.put_file(str(source), key, chunksize=part_size(size))

        self._call(f"upload {digest[:12]}… ({size:,} bytes)", upload)
        etag = etag if isinstance(etag, str) else etag.result()
        info = self._head(digest)
        if not self._same(info, size=size, etag=etag):
            found = (
                "nothing"
                if info is None
                else f"{int(info.get('size') or 0):,} bytes with ETag {self._etag(info)}"
            )
            raise RegistryError(
                f"the object store {self.location} holds {found} at {self.url(digest)} after "
                f"uploading {size:,} bytes with MD5 ETag {etag}: the upload was damaged; nothing "
                "was registered; try again."
            )

    def _take_staged(self, digest: str) -> Path | None:
        with _staged_lock:
            paths = _staged.get((str(self.root), digest))
            if not paths:
                return None
            path = paths.pop()
            if not paths:
                del _staged[(str(self.root), digest)]
            return path

    def _keep_in_cache(self, staged: Path, digest: str) -> None:
        final = self._cache.path_for(digest)
        if final.exists():
            staged.unlink(missing_ok=True)
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)

    def install(self, digest: str) -> None:
        """Inside the metadata transaction: make sure the object is there (re-upload if a gc
        removed it meanwhile); the staged copy becomes the cache's copy."""
        staged = self._take_staged(digest)
        try:
            info = self._head(digest)
            if info is None:
                source = staged if staged is not None else self._cached(digest)
                if source is None:
                    raise IntegrityError(
                        f"artifact {self.url(digest)} is missing from the object store: "
                        "refusing to commit a version that names it; register the object again."
                    )
                _sha, etag, size = _hashes(source, sha=False)
                self._upload(source, digest, size=size, etag=etag)
        except BaseException:
            if staged is not None:
                with _staged_lock:
                    _staged.setdefault((str(self.root), digest), []).append(staged)
            raise
        if staged is not None:
            self._keep_in_cache(staged, digest)

    def discard(self, digest: str) -> None:
        """Forget a staged upload that will not be committed; the remote object stays (another
        writer may name the same content), and ``gc`` removes it if nothing ever does."""
        staged = self._take_staged(digest)
        if staged is not None:
            with contextlib.suppress(OSError):
                self._keep_in_cache(staged, digest)

    # -- reading --------------------------------------------------------------------------------

    def exists(self, digest: str) -> bool:
        return self._head(digest) is not None

    def _cached(self, digest: str) -> Path | None:
        """The cache's copy if its bytes still hash to ``digest`` (a bad copy is dropped)."""
        path = self._cache.path_for(digest)
        if not path.is_file():
            return None
        if sha256_file(path) == digest:
            return path
        path.unlink(missing_ok=True)
        return None

    def _download(self, digest: str) -> Path:
        final = self._cache.path_for(digest)
        tmp = self.temp_path()
        key = self.where.key(digest)
        try:
            try:
                self._call(f"download {digest[:12]}…", lambda: self.fs.get_file(key, str(tmp)))
            except FileNotFoundError:
                raise IntegrityError(
                    f"artifact {self.url(digest)} is missing from the object store: the "
                    "registry is damaged; restore the object from a backup or register the "
                    "object again."
                ) from None
            actual = sha256_file(tmp)
            if actual != digest:
                raise IntegrityError(
                    f"artifact {self.url(digest)} does not match its recorded hash (expected "
                    f"{digest[:12]}…, found {actual[:12]}…): it was modified or corrupted in the "
                    "object store; refusing to load it."
                )
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return final

    def verified_path(self, digest: str) -> Path:
        """A local copy whose bytes were just hashed and match ``digest`` (downloaded once)."""
        return self._cached(digest) or self._download(digest)

    def path_for(self, digest: str) -> Path:
        """Where the cache keeps the blob (it may not be there: see ``local_path``)."""
        return self._cache.path_for(digest)

    def local_path(self, digest: str) -> Path:
        """The cache's copy of the blob, downloaded (and verified) first if it is not there."""
        path = self._cache.path_for(digest)
        return path if path.is_file() else self._download(digest)

    def read_verified(self, digest: str) -> bytes:
        path = self._cache.path_for(digest)
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == digest:
                return data
            path.unlink(missing_ok=True)
        return self._download(digest).read_bytes()

    def _listing(self) -> dict[str, dict[str, Any]]:
        """digest → the object's info, for every blob-shaped key under the prefix."""
        base = self.where.base

        def find() -> dict[str, dict[str, Any]]:
            try:
                found: dict[str, dict[str, Any]] = self.fs.find(base, detail=True)
            except FileNotFoundError:
                return {}
            return found

        blobs: dict[str, dict[str, Any]] = {}
        for key, info in self._call("list its objects", find).items():
            rest = key[len(base) :].strip("/").split("/")
            if len(rest) == 2 and len(rest[0]) == 2 and ObjectStore.is_digest(rest[0] + rest[1]):
                blobs[rest[0] + rest[1]] = info
        return blobs

    def iter_digests(self) -> Iterator[tuple[str, Path]]:
        """Every blob in the bucket as a local file to hash (``modelbook check``): the cache's
        copy, downloaded when absent. Bytes that do not match their name are kept apart, under
        ``unverified/ab/cdef…`` in the cache folder, never in the cache itself."""
        for digest in sorted(self._listing()):
            path = self._cache.path_for(digest)
            if not path.is_file():
                try:
                    path = self._download(digest)
                except IntegrityError:
                    try:
                        path = self._unverified(digest)
                    except FileNotFoundError:  # deleted since the listing (a gc)
                        continue
            yield digest, path

    def _unverified(self, digest: str) -> Path:
        """Download the object as it is to ``unverified/ab/cdef…`` (for check to report)."""
        path = self.root / "unverified" / digest[:2] / digest[2:]
        path.parent.mkdir(parents=True, exist_ok=True)
        key = self.where.key(digest)
        self._call(f"download {digest[:12]}…", lambda: self.fs.get_file(key, str(path)))
        return path

    # -- garbage --------------------------------------------------------------------------------

    def removable_temp(self, path: Path, *, age: float, grace_seconds: float) -> bool:
        return self._cache.removable_temp(path, age=age, grace_seconds=grace_seconds)

    def collect(self, referenced: set[str], *, grace_seconds: float) -> tuple[int, int]:
        """Delete objects no committed version names, older than the grace period.

        Call it under the registry's write lock (no commit in flight then names an object
        outside ``referenced``; uploads younger than the grace are kept anyway). The local
        cache is pruned the same way. Returns (objects removed, bytes freed) in the bucket.
        """
        now = time.time()
        victims: list[str] = []
        freed = 0
        for digest, info in self._listing().items():
            if digest in referenced:
                continue
            modified = info.get("LastModified")
            stamp = modified.timestamp() if isinstance(modified, datetime) else now
            if now - stamp < grace_seconds:
                continue
            victims.append(self.where.key(digest))
            freed += int(info.get("size") or 0)
        if victims:
            self._call(f"delete {len(victims)} unreferenced objects", lambda: self.fs.rm(victims))
        self._cache.collect(referenced, grace_seconds=grace_seconds)
        return len(victims), freed
