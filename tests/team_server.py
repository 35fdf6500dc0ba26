"""A real PostgreSQL server for the tests: one throwaway cluster per test session.

``initdb`` and ``postgres`` refuse to run as root, so as root they run as the ``postgres``
system user (Debian's package creates it) on a data folder owned by it. The server listens on
127.0.0.1 at a free port (password authentication over TCP, so tests exercise credentials) and
on a Unix socket in the same temporary folder. Each test gets a fresh database copied from a
template that already holds the registry schema (``CREATE DATABASE ... TEMPLATE``: ~50 ms).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PASSWORD", "PgServer", "find_bin", "start_server"]

PASSWORD = "s3cret-Pw_4711"  # a distinctive string: tests grep output and rows for it
TEMPLATE = "modelbook_template"


def find_bin() -> Path | None:
    """The folder holding initdb/pg_ctl of the newest installed PostgreSQL, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major)
    return Path(found[-1]).parent if found else None


def _major(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    bin: Path
    data: Path
    port: int
    root: Path
    counter: int = 0

    def url(self, database: str, *, user: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres") -> list[tuple[object, ...]]:
        """Run ``sql`` as the superuser (autocommit: CREATE DATABASE cannot run in a txn)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as con:
            cur = con.execute(sql)
            return list(cur.fetchall()) if cur.description else []

    def fresh_database(self) -> str:
        """A new database holding an empty, migrated registry; returns its name."""
        self.counter += 1
        name = f"reg_{os.getpid()}_{self.counter}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return name

    def stop(self) -> None:
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c max_connections=200 -c full_page_writes=off -c synchronous_commit=off"
        _as_postgres(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "60",
             "-l", str(self.root / "server.log"), "start"],
        )  # fmt: skip


def _as_postgres(command: list[str]) -> None:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def start_server() -> Iterator[PgServer]:
    """Start a cluster in a temporary folder, yield it, stop it and remove the folder."""
    bin_dir = find_bin()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="modelbook-pg-"))
    os.chmod(root, 0o755)
    data = root / "data"
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    _as_postgres(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
         "--auth-local=trust", f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"],
    )  # fmt: skip
    server = PgServer(bin=bin_dir, data=data, port=_free_port(), root=root)
    server.start()
    try:
        _template(server)
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _template(server: PgServer) -> None:
    """The template database: the registry schema at the newest version, made by modelbook."""
    from modelbook.registry.location import parse_location
    from modelbook.registry.team import init_registry

    deadline = time.monotonic() + 30
    while True:
        try:
            server.admin(f"CREATE DATABASE {TEMPLATE}")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    init_registry(parse_location(server.url(TEMPLATE)))
    from modelbook.registry.backend_postgres import PostgresBackend

    # Close the pooled connection: a template with a session open cannot be copied.
    PostgresBackend(parse_location(server.url(TEMPLATE))).forget()


class registry_connection:  # lower case: used like duckdb.connect(...)
    """A read connection to the registry under test (its DuckDB file or its PostgreSQL
    database, whichever the test runs on), for assertions: ``.execute(sql).fetchall()``."""

    def __init__(self) -> None:
        from modelbook.registry import open_registry

        self._context = open_registry().read()
        self._con = self._context.__enter__()

    def execute(self, sql: str, params: list[object] | None = None) -> object:
        return self._con.execute(sql, params or [])

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    def __enter__(self) -> registry_connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
