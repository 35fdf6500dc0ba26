"""The local backend: one DuckDB file, written by one process at a time.

DuckDB lets only one process hold the file, and a notebook kernel must never block a scheduled
run, so no connection outlives a call: writers queue on the inter-process lock file, then open a
short read-write connection inside one transaction; readers open read-only and retry briefly
while a writer is inside (see :mod:`modelbook.registry.locking`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelbook.errors import RegistryError
from modelbook.registry.locking import connect, translate_duckdb_error, write_lock
from modelbook.registry.schema import check_version, migrate

__all__ = ["DuckDBBackend"]


class DuckDBBackend:
    """Connections to ``home/registry.duckdb``; the DuckDB connection is the adapter itself."""

    name = "duckdb"

    def __init__(self, home: Path) -> None:
        self.home = home
        self.db_path = home / "registry.duckdb"
        self.lock_path = home / "registry.lock"

    def exists(self) -> bool:
        return self.db_path.exists()

    def translate(self, exc: BaseException) -> RegistryError | None:
        return translate_duckdb_error(exc, self.db_path)

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """DuckDB errors (a damaged file, a full disk) as RegistryError; bugs stay as they are."""
        try:
            yield
        except Exception as exc:
            translated = self.translate(exc)
            if translated is None:
                raise
            raise translated from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Any | None]:
        """A read-only connection, or None when the registry has not been created yet."""
        if not self.db_path.exists():
            yield None
            return
        with self.translated():
            con = connect(self.db_path, read_only=True)
            try:
                if check_version(con, str(self.home)) == 0:
                    yield None
                else:
                    yield con
            finally:
                con.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A read-write connection inside the write lock and one transaction."""
        with write_lock(self.lock_path), self.translated():
            con = connect(self.db_path, read_only=False)
            try:
                version = check_version(con, str(self.home))  # outside: a failed probe aborts a txn
                con.execute("BEGIN TRANSACTION")
                migrate(con, from_version=version)
                yield con
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()

    @staticmethod
    def retryable(exc: BaseException) -> bool:
        """Never: the write lock admits one writer, so a conflict is a bug, not a race."""
        return False
