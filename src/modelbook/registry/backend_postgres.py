"""The team backend: the registry's tables in PostgreSQL, reached with psycopg 3.

Why these choices:

- Every write is one transaction that first takes ``pg_advisory_xact_lock``: writers queue as
  they do on the local lock file, so version numbers are read and written by one writer at a
  time (and the unique keys make a duplicate impossible even for a writer that skipped the
  lock). ``gc`` takes the same lock, so it never sees a blob a committing version names.
  A serialization failure or unique violation is retryable (:meth:`PostgresBackend.retryable`).
- Reads run in one ``REPEATABLE READ READ ONLY`` transaction (one snapshot, like a DuckDB
  read), on a connection kept per thread and process (a PostgreSQL connection costs a server
  process fork; unlike DuckDB it blocks nobody). A dropped connection is reopened with bounded
  backoff and the statement runs again.
- Store code is written once, with DuckDB's ``?`` placeholders; :class:`PgConnection` turns them
  into psycopg's ``%s`` and numpy scalars into Python values.
- Errors leave here as one line without credentials: a refused write names the missing
  privilege; a server that cannot be reached says so and what to check.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from modelbook.errors import (
    RegistryBusyError,
    RegistryError,
    RegistryPermissionError,
)
from modelbook.registry.location import Location, scrub, url_password
from modelbook.registry.schema import check_version, migrate

__all__ = ["PgConnection", "PostgresBackend", "translate_sql"]

# Any 64-bit number works; this one is "modelbk" in ASCII, so it is recognisable in pg_locks.
WRITE_LOCK_KEY = 0x6D6F64656C626B
_READ_ATTEMPTS = 5
_CONNECT_TIMEOUT = 10

_local = threading.local()


def translate_sql(sql: str) -> str:
    """DuckDB's ``?`` placeholders as psycopg's ``%s`` (outside quotes); ``%`` escaped."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
            out.append("%%" if char == "%" else char)
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values (DuckDB takes them; psycopg does not)."""
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and type(value).__module__ == "numpy":
        return tolist()
    return value


class PgCursor:
    """What store code uses of a DuckDB result: ``fetchall()``, ``fetchone()``, ``description``."""

    def __init__(self, rows: list[tuple[Any, ...]], description: list[tuple[Any, ...]]) -> None:
        self._rows = rows
        self.description = description

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None


class PgConnection:
    """A psycopg connection speaking the store's SQL (``?`` placeholders), errors translated."""

    dialect = "postgres"

    def __init__(self, backend: PostgresBackend, raw: Any, *, read_only: bool) -> None:
        self._backend = backend
        self.raw = raw
        self._read_only = read_only

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        args = [_plain(p) for p in params] if params else None
        text = translate_sql(sql) if args is not None else sql
        attempt = 0
        while True:
            try:
                with self.raw.cursor() as cursor:
                    cursor.execute(text, args)
                    if cursor.description is None:
                        return PgCursor([], [])
                    description = [tuple(column) for column in cursor.description]
                    return PgCursor(list(cursor.fetchall()), description)
            except Exception as exc:
                if self._read_only and self._backend.dropped(exc) and attempt < _READ_ATTEMPTS:
                    # A read may run again on a fresh connection (it changes nothing).
                    attempt += 1
                    time.sleep(min(0.1 * 2**attempt, 2.0))
                    with contextlib.suppress(RegistryError):
                        self.raw = self._backend.reopen(read_only=True)
                    continue
                raise self._backend.translate(exc, sql) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        text = translate_sql(sql)
        try:
            with self.raw.cursor() as cursor:
                cursor.executemany(text, [[_plain(v) for v in row] for row in rows])
        except Exception as exc:
            raise self._backend.translate(exc, sql) from exc


class PostgresBackend:
    """Connections to the team registry at ``location.url``."""

    name = "postgres"

    def __init__(self, location: Location) -> None:
        assert location.url is not None
        self.location = location
        self.url: str = location.url
        self._password = url_password(location.url)

    # -- connections ------------------------------------------------------------------------

    def _pool(self) -> dict[str, Any]:
        pool: dict[str, Any] | None = getattr(_local, "pool", None)
        if pool is None or getattr(_local, "pid", None) != os.getpid():
            pool = {}  # a forked child never reuses its parent's sockets
            _local.pool = pool
            _local.pid = os.getpid()
        return pool

    def _connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=_CONNECT_TIMEOUT,
                application_name="modelbook",
            )
        except Exception as exc:
            raise self.translate(exc, None) from exc

    def connection(self) -> Any:
        """This thread's open connection to the registry (opened or reopened when needed)."""
        pool = self._pool()
        raw = pool.get(self.url)
        if raw is not None and not raw.closed and _idle(raw):
            return raw
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.close()
        raw = self._connect()
        for other in [u for u in pool if u != self.url]:  # one open connection per thread
            with contextlib.suppress(Exception):
                pool.pop(other).close()
        pool[self.url] = raw
        return raw

    def reopen(self, *, read_only: bool) -> Any:
        """A fresh connection in place of a dropped one, inside a new read transaction."""
        pool = self._pool()
        old = pool.pop(self.url, None)
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        raw = self.connection()
        if read_only:
            raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return raw

    def forget(self) -> None:
        """Close this thread's connection (after an error that may have left it unusable)."""
        raw = self._pool().pop(self.url, None)
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.close()

    def _begin(self, statement: str) -> Any:
        """A connection with ``statement`` (a BEGIN) run; retried with backoff while the
        server cannot be reached (nothing has happened yet, so retrying is always safe)."""
        delay = 0.2
        for attempt in range(_READ_ATTEMPTS + 1):
            try:
                raw = self.connection()
                raw.execute(statement)
                return raw
            except Exception as exc:
                self.forget()
                if attempt >= _READ_ATTEMPTS or not self.dropped(exc):
                    if isinstance(exc, RegistryError):
                        raise
                    raise self.translate(exc, None) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def exists(self) -> bool:
        with self.read() as con:
            return con is not None

    @contextlib.contextmanager
    def read(self) -> Iterator[PgConnection | None]:
        """One read-only snapshot; None when the database holds no registry yet."""
        raw = self._begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        con = PgConnection(self, raw, read_only=True)
        try:
            version = check_version(con, str(self.location))
            yield None if version == 0 else con
        except BaseException:
            self._end(con, "ROLLBACK")
            raise
        else:
            self._end(con, "COMMIT")

    @contextlib.contextmanager
    def write(self) -> Iterator[PgConnection]:
        """One transaction holding the registry's write lock; migrates an older schema."""
        from modelbook.registry.locking import busy_timeout

        raw = self._begin("BEGIN")
        con = PgConnection(self, raw, read_only=False)
        try:
            con.execute(f"SET LOCAL lock_timeout = '{int(busy_timeout() * 1000)}ms'")
            con.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
            version = check_version(con, str(self.location))
            migrate(con, from_version=version)
            yield con
            con.execute("COMMIT")
        except BaseException:
            self._end(con, "ROLLBACK")
            raise

    def _end(self, con: PgConnection, statement: str) -> None:
        try:
            con.raw.execute(statement)
        except Exception:
            self.forget()

    # -- errors ---------------------------------------------------------------------------

    @staticmethod
    def dropped(exc: BaseException) -> bool:
        """Whether ``exc`` means the server could not be reached or the connection broke."""
        import psycopg

        cause = exc.__cause__ if isinstance(exc, RegistryError) else exc
        if cause is None or isinstance(cause, RegistryError):
            return False
        return isinstance(cause, (psycopg.OperationalError, psycopg.InterfaceError)) and not (
            isinstance(
                cause,
                (
                    psycopg.errors.LockNotAvailable,
                    psycopg.errors.QueryCanceled,
                    psycopg.errors.InsufficientPrivilege,
                    psycopg.errors.InvalidCatalogName,
                ),
            )
            or _auth_failure(cause)
        )

    @staticmethod
    def retryable(exc: BaseException) -> bool:
        """A conflict another attempt resolves: serialization failure, deadlock, duplicate key."""
        import psycopg

        cause = exc.__cause__ if isinstance(exc, RegistryError) else exc
        return isinstance(
            cause,
            (
                psycopg.errors.SerializationFailure,
                psycopg.errors.DeadlockDetected,
                psycopg.errors.UniqueViolation,
            ),
        )

    def clean(self, text: str) -> str:
        return scrub(text, self._password)

    def translate(self, exc: BaseException, sql: str | None) -> BaseException:
        """``exc`` as the one-line RegistryError users see (never with credentials)."""
        import psycopg

        if isinstance(exc, RegistryError):
            return exc
        where = str(self.location)
        detail = self.clean(_first_line(str(exc)))
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            return RegistryPermissionError(self._privilege_message(exc, sql))
        if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
            return RegistryPermissionError(
                f"the team registry {where} is read-only here ({detail}); ask its owner for a "
                "role that may write, or use a local registry."
            )
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return RegistryBusyError(
                f"the team registry {where} stayed busy: another writer held its write lock "
                "past the bound; retry (MODELBOOK_BUSY_TIMEOUT sets the wait)."
            )
        if re.search(r'database "[^"]*" does not exist', str(exc)):
            return RegistryError(
                f"the team registry {where} does not exist ({detail}); create the database "
                "(createdb), then run `modelbook init URL`."
            )
        if _auth_failure(exc):
            return RegistryPermissionError(
                f"cannot sign in to the team registry {where} ({detail}); check the user and "
                "password (in the URL, ~/.pgpass or PGPASSWORD)."
            )
        if isinstance(exc, psycopg.errors.InvalidCatalogName):
            return RegistryError(
                f"the team registry {where} does not exist ({detail}); create the database "
                "(createdb), then run `modelbook init URL`."
            )
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            return RegistryError(
                f"cannot reach the team registry {where} ({detail}); check that the PostgreSQL "
                "server is running and reachable, then retry: nothing was written by the "
                "failed call."
            )
        if isinstance(exc, psycopg.Error):
            return RegistryError(f"the team registry {where} refused a query: {detail}")
        return exc

    def _privilege_message(self, exc: BaseException, sql: str | None) -> str:
        role = "this role"
        diag = getattr(exc, "diag", None)
        with contextlib.suppress(Exception):
            role = repr(str(self._pool()[self.url].info.user))
        words = (sql or "").split()
        verb = words[0].upper() if words else ""
        privilege = {
            "INSERT": "INSERT",
            "UPDATE": "UPDATE",
            "DELETE": "DELETE",
            "SELECT": "SELECT",
            "CREATE": "CREATE",
            "ALTER": "CREATE",
        }.get(verb, "the privilege")
        if verb == "SELECT" and "nextval" in (sql or ""):
            privilege = "USAGE"
        text = str(getattr(diag, "message_primary", None) or exc)
        match = re.search(r"permission denied for (\w+) (\S+)", text)
        if match:
            target = f"{match.group(1)} {match.group(2)}"
        elif table := _table(sql or ""):
            target = f"table {table}"
        else:
            target = "the registry"
        if match and match.group(1) == "sequence":
            privilege = "USAGE"
        if match and match.group(1) == "schema":
            privilege = "CREATE"
        return (
            f"the PostgreSQL role {role} lacks {privilege} on {target} of the team registry "
            f"{self.location}: ask the registry's owner to GRANT it, or use a local registry."
        )


def _table(sql: str) -> str | None:
    match = re.search(r"\b(?:INTO|UPDATE|FROM|TABLE)\s+(\w+)", sql, re.IGNORECASE)
    return match.group(1) if match else None


def _idle(raw: Any) -> bool:
    """Whether a pooled connection can start a transaction (not left inside one, not broken)."""
    import psycopg

    status = raw.info.transaction_status
    return bool(status == psycopg.pq.TransactionStatus.IDLE)


def _auth_failure(exc: BaseException) -> bool:
    """A connection refused for who we are (sign-in, unknown role or database): not retried."""
    text = str(exc)
    return bool(
        "authentication failed" in text
        or "no password supplied" in text
        or re.search(r'(role|database) "[^"]*" does not exist', text)
    )


def _first_line(message: str, limit: int = 240) -> str:
    text = " ".join(message.strip().split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
