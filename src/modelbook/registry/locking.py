"""Opening the DuckDB file safely from several processes.

DuckDB admits one writing process per file, and while it writes nobody else can even read.
So no connection is held across calls: writers queue on an inter-process lock file (cheap,
fair, released by the OS if the holder dies) and then open a short read-write connection;
readers open read-only and retry briefly while a writer is inside. Whoever holds the lock
writes its PID and command line next to it, so a registry that stays busy past the bound
gives an error naming the holder.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelbook.errors import RegistryBusyError, RegistryError, RegistryPermissionError

__all__ = ["busy_timeout", "connect", "damaged_error", "translate_duckdb_error", "write_lock"]

_DEFAULT_TIMEOUT = 60.0


def busy_timeout() -> float:
    """Seconds to wait for a busy registry (``MODELBOOK_BUSY_TIMEOUT``, default 60)."""
    try:
        return float(os.environ.get("MODELBOOK_BUSY_TIMEOUT", _DEFAULT_TIMEOUT))
    except ValueError:
        return _DEFAULT_TIMEOUT


def _holder(lock_path: Path) -> str:
    try:
        text = (lock_path.parent / (lock_path.name + ".owner")).read_text().strip()
    except OSError:
        return "an unknown process"
    return text or "an unknown process"


@contextlib.contextmanager
def write_lock(lock_path: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the registry's inter-process write lock."""
    from filelock import FileLock, Timeout

    timeout = busy_timeout() if timeout is None else timeout
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise RegistryPermissionError(
            f"cannot create the registry at {lock_path.parent}: permission denied; choose a "
            "writable folder with MODELBOOK_HOME or `%modelbook use PATH`."
        ) from exc
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise RegistryBusyError(
            f"the registry at {lock_path.parent} stayed busy for {timeout:g} s: it is held by "
            f"{_holder(lock_path)}; wait for it to finish or stop it, then retry "
            "(MODELBOOK_BUSY_TIMEOUT sets the wait)."
        ) from exc
    except PermissionError as exc:
        raise RegistryPermissionError(
            f"the registry at {lock_path.parent} is not writable; choose a writable folder with "
            "MODELBOOK_HOME or `%modelbook use PATH`."
        ) from exc
    owner = lock_path.parent / (lock_path.name + ".owner")
    try:
        with contextlib.suppress(OSError):
            owner.write_text(
                f"PID {os.getpid()} on {socket.gethostname()} ({' '.join(sys.argv)[:200]})"
            )
        yield
    finally:
        lock.release()


_LOCK_HINT = re.compile(r"Could not set lock|Conflicting lock", re.IGNORECASE)
_PID = re.compile(r"PID (\d+)")
# DuckDB's words for a file it cannot trust: failed block checksums, a bad header, storage it
# cannot deserialise, or an instance invalidated by such an error.
_DAMAGE = re.compile(
    r"corrupt|checksum|not a valid DuckDB database|deserializ|invalidated|malformed|"
    r"unexpected end of file|block .* out of range",
    re.IGNORECASE,
)
_DAMAGE_TYPES = ("FatalException", "InternalException", "SerializationException")
_IO_TYPES = ("IOException", "OutOfMemoryException", "PermissionException", "HTTPException")


def _first_line(message: str, limit: int = 200) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def damaged_error(db_path: Path, detail: str) -> RegistryError:
    """The error for a metadata file DuckDB cannot read: what broke, what did not, what to do."""
    return RegistryError(
        f"the registry's metadata file {db_path} is damaged ({_first_line(detail)}); the "
        f"artifact files under {db_path.parent / 'objects'} are separate and not affected. "
        "Restore registry.duckdb from a backup; `modelbook check` (or modelbook.check()) "
        "verifies every artifact file and says what can be recovered without one."
    )


def translate_duckdb_error(exc: BaseException, db_path: Path) -> RegistryError | None:
    """A DuckDB error as the RegistryError users should see; None for other errors (bugs)."""
    if type(exc).__module__ not in {"_duckdb", "duckdb"}:
        return None
    name = type(exc).__name__
    message = str(exc)
    if name in _DAMAGE_TYPES or _DAMAGE.search(message) or name in {"Error", "DatabaseError"}:
        return damaged_error(db_path, message)
    if name in _IO_TYPES:
        return RegistryError(
            f"cannot use the registry {db_path}: {_first_line(message)}; check the disk (space, "
            "permissions) and retry."
        )
    return None


def connect(db_path: Path, *, read_only: bool, timeout: float | None = None) -> Any:
    """Open a DuckDB connection, retrying while another process holds the file."""
    import duckdb

    timeout = busy_timeout() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        try:
            return duckdb.connect(str(db_path), read_only=read_only)
        except duckdb.IOException as exc:
            message = str(exc)
            if not _LOCK_HINT.search(message):
                if _DAMAGE.search(message):
                    raise damaged_error(db_path, message) from exc
                if "Permission denied" in message:
                    raise RegistryPermissionError(
                        f"the registry file {db_path} is not writable; choose a writable folder "
                        "with MODELBOOK_HOME or `%modelbook use PATH`."
                    ) from exc
                raise RegistryError(f"cannot open the registry {db_path}: {message}") from exc
            if time.monotonic() >= deadline:
                pid = _PID.search(message)
                who = f"process {pid.group(1)}" if pid else "another process"
                raise RegistryBusyError(
                    f"the registry {db_path} stayed locked by {who} for {timeout:g} s; wait for "
                    "it to finish or stop it, then retry (MODELBOOK_BUSY_TIMEOUT sets the wait)."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)
        except duckdb.Error as exc:  # e.g. a failed checksum while opening
            translated = translate_duckdb_error(exc, db_path)
            if translated is None:
                raise
            raise translated from exc
