"""The registry: the only code that runs SQL against the registry's tables.

One class, two backends (:mod:`~modelbook.registry.backend_duckdb` for a local folder,
:mod:`~modelbook.registry.backend_postgres` for a team registry): each method takes a connection
from ``read()`` or ``write()``, does its work in one transaction and gives it back, because
DuckDB lets only one process at a time hold the file and a notebook kernel must never block a
scheduled run. The SQL here is the common subset of DuckDB and PostgreSQL, with ``?``
placeholders. Writes run under the backend's write lock and in one transaction, after the blobs
they name are safely stored; so a crash at any moment leaves either the old or the new state.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from modelbook.errors import InvalidNameError, NotFoundError, RegistryPermissionError
from modelbook.registry.backend_duckdb import DuckDBBackend
from modelbook.registry.location import Location
from modelbook.registry.objects import BlobStore, ObjectStore
from modelbook.registry.paths import check_home
from modelbook.registry.refs import Ref
from modelbook.registry.schema import current_version

T = TypeVar("T")
_WRITE_ATTEMPTS = 5

__all__ = ["Registry", "Resolved", "now"]

PROFILE_FIELDS = (
    "position", "name", "arrow_type", "kind", "count", "nulls", "nan", "pos_inf", "neg_inf",
    "distinct", "min", "max", "mean", "std", "quantiles", "hist_edges", "hist_counts",
    "top_values", "top_counts", "other_count",
)  # fmt: skip


def now() -> datetime:
    """Naive UTC timestamp (DuckDB TIMESTAMP); fetching TIMESTAMPTZ would need pytz."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Resolved:
    """A reference resolved against the registry."""

    kind: str  # 'model' | 'dataset'
    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


#: Columns of ``Registry.monitor_history``'s rows: the fields of ``run_history.HistoryRun`` in
#: their order (``id`` is its ``run_id``, ``target_version`` its ``version``).
HISTORY_COLUMNS = (
    "id", "target_version", "status", "source", "started_at", "finished_at", "n_rows",
    "drift_share", "n_alerts", "metrics", "reference", "batch_dataset", "notebook", "parameters",
    "created_by", "timeline", "chunk_index", "period_start", "period_end",
)  # fmt: skip
_TIMELINE = HISTORY_COLUMNS.index("timeline")  # then the chunk's columns (``_periods``)


def _rows(con: Any, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Registry:
    """A registry: a local folder (``registry.duckdb`` plus ``objects/``) or a team registry
    (PostgreSQL tables plus a shared object store); see :mod:`modelbook.registry.location`."""

    def __init__(self, where: Path | str | Location) -> None:
        from modelbook.registry.location import parse_location

        if isinstance(where, Location):
            location = where
        elif isinstance(where, Path):
            location = Location(str(where), path=where)  # as given: callers pass a folder
        else:
            location = parse_location(where)
        self.location = location
        #: The local folder for files: the registry folder, or a team registry's cache.
        self.home = location.home()
        self.db_path = self.home / "registry.duckdb"
        self.lock_path = self.home / "registry.lock"
        self.backend: Any
        self._objects: BlobStore | None = None
        if location.is_team:
            from modelbook.registry.backend_postgres import PostgresBackend

            self.backend = PostgresBackend(location)
        else:
            self.backend = DuckDBBackend(self.home)
            self._objects = ObjectStore(self.home / "objects")

    @property
    def is_team(self) -> bool:
        return self.location.is_team

    @property
    def objects(self) -> BlobStore:
        """The blob store (local ``objects/``, or the team registry's shared store)."""
        if self._objects is None:
            from modelbook.registry.team import team_objects

            self._objects = team_objects(self)
        return self._objects

    @objects.setter
    def objects(self, store: BlobStore) -> None:
        self._objects = store

    # -- connections --------------------------------------------------------------------------

    def exists(self) -> bool:
        if self.is_team:
            return bool(self.backend.exists())
        return self.db_path.exists()

    def missing_message(self) -> str:
        """Why there is no registry here, and what to do (for reads of a registry-less path)."""
        if self.is_team:
            return (
                f"no registry at {self.location} (the database holds no modelbook tables): "
                f"create them with `modelbook init {self.location}` (the URL with your "
                "credentials), or register something there first."
            )
        why = (
            "the folder holds no registry.duckdb"
            if self.home.is_dir()
            else "the folder does not exist"
        )
        return (
            f"no registry at {self.home} ({why}): check the path (--registry, MODELBOOK_HOME or "
            "`%modelbook use`); the first registration creates a registry there."
        )

    def require(self) -> None:
        """Raise NotFoundError when there is no registry here (reads that would answer nothing)."""
        if self.is_team:
            if not self.exists():
                raise NotFoundError(self.missing_message())
            return
        check_home(self.home)
        if not self.db_path.exists():
            raise NotFoundError(self.missing_message())

    @contextlib.contextmanager
    def read(self) -> Iterator[Any | None]:
        """A read-only connection, or None when the registry has not been created yet."""
        if not self.is_team:
            check_home(self.home)
        with self.backend.read() as con:
            yield con

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A read-write connection inside the write lock and one transaction."""
        self.ensure_writable()
        with self.backend.write() as con:
            yield con

    def _write_retry(self, body: Callable[[Any], T]) -> T:
        """``body(con)`` in one write transaction, run again on a conflict another attempt
        resolves (PostgreSQL: a serialization failure or duplicate key; never for DuckDB)."""
        attempt = 0
        while True:
            try:
                with self.write() as con:
                    return body(con)
            except Exception as exc:
                attempt += 1
                if attempt >= _WRITE_ATTEMPTS or not self.backend.retryable(exc):
                    raise

    def _clean(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """``row`` with any password removed from its text values (papermill parameters or a
        report that quote a registry URL): stored metadata never holds a credential."""
        from modelbook.registry.location import scrub, url_password

        secret = url_password(self.location.url) if self.location.url else None
        return {
            key: scrub(value, secret) if isinstance(value, str) and value else value
            for key, value in row.items()
        }

    def ensure_writable(self) -> None:
        if self.is_team:
            return  # the server decides (roles); blobs were staged before this
        check_home(self.home)
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            self.objects.tmp.mkdir(parents=True, exist_ok=True)
            probe = self.objects.temp_path(".probe")
            probe.unlink()
        except OSError as exc:
            raise RegistryPermissionError(
                f"the registry at {self.home} is not writable ({exc.strerror or exc}); choose a "
                "writable folder with MODELBOOK_HOME or `%modelbook use PATH`."
            ) from exc

    # -- names and references -----------------------------------------------------------------

    def _kind_of(self, con: Any | None, name: str) -> str | None:
        if con is None:
            return None
        rows = con.execute("SELECT kind FROM entries WHERE name = ?", [name]).fetchall()
        return str(rows[0][0]) if rows else None

    def kind_of(self, name: str) -> str | None:
        with self.read() as con:
            return self._kind_of(con, name)

    def resolve(self, ref: Ref, *, kind: str | None = None) -> Resolved:
        with self.read() as con:
            return self._resolve(con, ref, kind=kind)

    def _resolve(self, con: Any | None, ref: Ref, *, kind: str | None = None) -> Resolved:
        found = self._kind_of(con, ref.name)
        if found is None or con is None:
            names = self._names(con, kind)
            hint = f"; registered: {', '.join(names[:20])}" if names else "; the registry is empty"
            what = kind or "model or dataset"
            raise NotFoundError(f"no {what} named {ref.name!r}{hint}.")
        if kind is not None and found != kind:
            raise NotFoundError(f"{ref.name!r} is a {found}, not a {kind}.")
        table = "model_versions" if found == "model" else "dataset_versions"
        versions = [
            int(r[0])
            for r in con.execute(
                f"SELECT version FROM {table} WHERE name = ? ORDER BY version", [ref.name]
            ).fetchall()
        ]
        if ref.alias is not None:
            rows = con.execute(
                "SELECT version FROM aliases WHERE name = ? AND alias = ?", [ref.name, ref.alias]
            ).fetchall()
            if not rows:
                aliases = [
                    str(r[0])
                    for r in con.execute(
                        "SELECT alias FROM aliases WHERE name = ? ORDER BY alias", [ref.name]
                    ).fetchall()
                ]
                hint = (
                    f"aliases of {ref.name}: {', '.join(aliases)}"
                    if aliases
                    else (
                        f"{ref.name} has no aliases; set one with `%modelbook alias {ref.name}@N "
                        f"{ref.alias}`"
                    )
                )
                raise NotFoundError(f"{ref.name} has no alias {ref.alias!r}; {hint}.")
            return Resolved(found, ref.name, int(rows[0][0]))
        if ref.version is None:
            return Resolved(found, ref.name, versions[-1])
        if ref.version not in versions:
            raise NotFoundError(
                f"{ref.name} has no version {ref.version}; versions: {_ranges(versions)}."
            )
        return Resolved(found, ref.name, ref.version)

    def _names(self, con: Any | None, kind: str | None = None) -> list[str]:
        if con is None:
            return []
        if kind is None:
            return [
                str(r[0]) for r in con.execute("SELECT name FROM entries ORDER BY name").fetchall()
            ]
        return [
            str(r[0])
            for r in con.execute(
                "SELECT name FROM entries WHERE kind = ? ORDER BY name", [kind]
            ).fetchall()
        ]

    def _claim_name(self, con: Any, name: str, kind: str) -> None:
        found = self._kind_of(con, name)
        if found is None:
            con.execute("INSERT INTO entries VALUES (?, ?, ?)", [name, kind, now()])
        elif found != kind:
            raise InvalidNameError(
                f"{name!r} is already a {found}; register the {kind} under another name."
            )

    @staticmethod
    def _next_version(con: Any, table: str, name: str) -> int:
        row = con.execute(
            f"SELECT coalesce(max(version), 0) + 1 FROM {table} WHERE name = ?", [name]
        ).fetchall()
        return int(row[0][0])

    @contextlib.contextmanager
    def _staged(self, digest: str) -> Iterator[None]:
        """Drop the staged copy of ``digest`` if the commit did not install it (failed, reused)."""
        try:
            yield
        finally:
            self.objects.discard(digest)

    # -- datasets -------------------------------------------------------------------------------

    def find_dataset(self, name: str, fingerprint: str) -> int | None:
        """The version of ``name`` holding exactly this data, if any."""
        with self.read() as con:
            if con is None:
                return None
            rows = con.execute(
                "SELECT max(version) FROM dataset_versions WHERE name = ? AND fingerprint = ?",
                [name, fingerprint],
            ).fetchall()
        return None if rows[0][0] is None else int(rows[0][0])

    def add_dataset_version(
        self, row: Mapping[str, Any], profiles: Sequence[Mapping[str, Any]]
    ) -> int:
        """Insert a dataset version and its column profiles; returns the new version number.

        If another process stored the same data under this name meanwhile, its version is
        returned instead, so identical data is never stored twice. The blob ``row["blob"]``
        (staged with ``objects.put_file``) is installed in the same transaction, under the
        lock ``gc`` takes, so gc never sees it unreferenced.
        """
        with self._staged(row["blob"]):
            return self._write_retry(lambda con: self._insert_dataset(con, row, profiles))

    def _insert_dataset(
        self, con: Any, row: Mapping[str, Any], profiles: Sequence[Mapping[str, Any]]
    ) -> int:
        """Inside a write: the version holding this data, inserted unless stored already."""
        self._claim_name(con, row["name"], "dataset")
        existing = con.execute(
            "SELECT max(version) FROM dataset_versions WHERE name = ? AND fingerprint = ?",
            [row["name"], row["fingerprint"]],
        ).fetchall()[0][0]
        if existing is not None:
            return int(existing)
        self.objects.install(row["blob"])
        version = self._next_version(con, "dataset_versions", row["name"])
        values = self._clean(dict(row, version=version))
        columns = list(values)
        con.execute(
            f"INSERT INTO dataset_versions ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            [values[c] for c in columns],
        )
        if profiles:
            quoted = ", ".join(f'"{f}"' for f in PROFILE_FIELDS)
            con.executemany(
                f"INSERT INTO column_profiles (dataset, version, {quoted}) "
                f"VALUES (?, ?, {', '.join('?' for _ in PROFILE_FIELDS)})",
                [[row["name"], version, *[p[f] for f in PROFILE_FIELDS]] for p in profiles],
            )
        return version

    def dataset_version(self, name: str, version: int) -> dict[str, Any]:
        with self.read() as con:
            rows = (
                _rows(
                    con,
                    "SELECT * FROM dataset_versions WHERE name = ? AND version = ?",
                    [name, version],
                )
                if con is not None
                else []
            )
        if not rows:
            raise NotFoundError(f"dataset {name}@{version} does not exist.")
        return rows[0]

    def column_profiles(self, name: str, version: int) -> list[dict[str, Any]]:
        quoted = ", ".join(f'"{f}"' for f in PROFILE_FIELDS)
        with self.read() as con:
            if con is None:
                return []
            return _rows(
                con,
                f"SELECT {quoted} FROM column_profiles WHERE dataset = ? AND version = ? "
                "ORDER BY position",
                [name, version],
            )

    def store_multivariate(self, name: str, version: int, statistics: str) -> None:
        """Store statistics computed on first use (a short write; the first writer wins)."""
        with self.write() as con:
            con.execute(
                "UPDATE dataset_versions SET multivariate = ? "
                "WHERE name = ? AND version = ? AND multivariate IS NULL",
                [statistics, name, version],
            )

    # -- models ---------------------------------------------------------------------------------

    def add_model_version(self, row: Mapping[str, Any], *, alias: str | None, by: str) -> int:
        """Insert a model version (its staged blob installed in the same transaction)."""
        version, _train, _reused = self.commit_model(row, alias=alias, by=by)
        return version

    def find_model(self, name: str, identity: str) -> int | None:
        """The newest version of model ``name`` with this identity (class, state, data), if any."""
        with self.read() as con:
            if con is None or current_version(con) < 2:
                return None
            rows = con.execute(
                "SELECT max(version) FROM model_versions WHERE name = ? AND identity = ?",
                [name, identity],
            ).fetchall()
        return None if rows[0][0] is None else int(rows[0][0])

    def commit_model(
        self,
        row: Mapping[str, Any],
        *,
        alias: str | None,
        by: str,
        identity: str | None = None,
        training: tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]] | None = None,
        evaluation: tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]] | None = None,
        blobs: Sequence[str] = (),
    ) -> tuple[int, int | None, bool]:
        """Store a model version and its training data in one transaction: all or nothing.

        ``training`` is the training dataset's (row, column profiles): identical data already
        stored under that name is reused, and the model row's ``train_version`` is set to the
        version; ``evaluation`` the same for the evaluation set (``eval_version``). ``blobs``:
        more staged blobs the row names (the estimation state, the loss model). A model version
        of the same name with the same ``identity`` is returned instead of a new one: nothing
        is written, and ``alias`` moves to it only if it points elsewhere. Staged blobs are
        installed inside the transaction (see ``ObjectStore``).
        Returns (model version, training version or None, reused).
        """
        digests = [row["blob"], *blobs] + [
            part[0]["blob"] for part in (training, evaluation) if part is not None
        ]
        with contextlib.ExitStack() as stack:
            for digest in digests:
                stack.enter_context(self._staged(digest))
            return self._write_retry(
                lambda con: self._commit_model(
                    con, row, alias=alias, by=by, identity=identity, training=training,
                    evaluation=evaluation, blobs=blobs,
                )
            )  # fmt: skip

    def _commit_model(
        self,
        con: Any,
        row: Mapping[str, Any],
        *,
        alias: str | None,
        by: str,
        identity: str | None,
        training: tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]] | None,
        evaluation: tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]] | None,
        blobs: Sequence[str],
    ) -> tuple[int, int | None, bool]:
        """Inside a write: the body of :meth:`commit_model` (run again on a conflict)."""
        name = row["name"]
        if identity is not None:
            found = con.execute(
                "SELECT version, train_version FROM model_versions "
                "WHERE name = ? AND identity = ? ORDER BY version DESC LIMIT 1",
                [name, identity],
            ).fetchall()
            if found:
                version, train = int(found[0][0]), found[0][1]
                if alias is not None:
                    self._set_alias(con, name, alias, version, by)
                return version, None if train is None else int(train), True
        train_version = self._insert_dataset(con, *training) if training is not None else None
        values = dict(row, identity=identity)
        if training is not None:
            values.update(train_dataset=training[0]["name"], train_version=train_version)
        if evaluation is not None:
            eval_version = self._insert_dataset(con, *evaluation)
            values.update(eval_dataset=evaluation[0]["name"], eval_version=eval_version)
        self._claim_name(con, name, "model")
        self.objects.install(row["blob"])
        for digest in blobs:
            self.objects.install(digest)
        version = self._next_version(con, "model_versions", name)
        values["version"] = version
        values = self._clean(values)
        columns = list(values)
        con.execute(
            f"INSERT INTO model_versions ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            [values[c] for c in columns],
        )
        if alias is not None:
            self._set_alias(con, name, alias, version, by)
        return version, train_version, False

    def model_version(self, name: str, version: int) -> dict[str, Any]:
        with self.read() as con:
            rows = (
                _rows(
                    con,
                    "SELECT * FROM model_versions WHERE name = ? AND version = ?",
                    [name, version],
                )
                if con is not None
                else []
            )
        if not rows:
            raise NotFoundError(f"model {name}@{version} does not exist.")
        return rows[0]

    def details(self, kind: str, name: str, version: int) -> dict[str, Any]:
        """A version's row, aliases and (for datasets) profiles, plus the previous version's,
        read over one connection (each open costs ~20 ms and competes with writers)."""
        table = "model_versions" if kind == "model" else "dataset_versions"
        quoted = ", ".join(f'"{f}"' for f in PROFILE_FIELDS)
        with self.read() as con:
            rows = (
                _rows(con, f"SELECT * FROM {table} WHERE name = ? AND version = ?", [name, version])
                if con is not None
                else []
            )
            if con is None or not rows:
                raise NotFoundError(f"{kind} {name}@{version} does not exist.")
            previous = _rows(
                con,
                f"SELECT * FROM {table} WHERE name = ? AND version < ? ORDER BY version DESC LIMIT 1",
                [name, version],
            )
            aliases = [
                str(r[0])
                for r in con.execute(
                    "SELECT alias FROM aliases WHERE name = ? AND version = ? ORDER BY alias",
                    [name, version],
                ).fetchall()
            ]
            result: dict[str, Any] = {
                "row": rows[0],
                "aliases": aliases,
                "previous": previous[0] if previous else None,
            }
            if kind == "dataset":
                profile_sql = (
                    f"SELECT {quoted} FROM column_profiles WHERE dataset = ? AND version = ? "
                    "ORDER BY position"
                )
                result["profiles"] = _rows(con, profile_sql, [name, version])
                result["previous_profiles"] = (
                    _rows(con, profile_sql, [name, previous[0]["version"]]) if previous else []
                )
        return result

    def version_row(self, resolved: Resolved) -> dict[str, Any]:
        if resolved.kind == "model":
            return self.model_version(resolved.name, resolved.version)
        return self.dataset_version(resolved.name, resolved.version)

    # -- aliases ----------------------------------------------------------------------------------

    def _set_alias(
        self,
        con: Any,
        name: str,
        alias: str,
        version: int | None,
        by: str,
        *,
        reason: str | None = None,
        trigger_runs: Sequence[str] | None = None,
    ) -> int | None:
        rows = con.execute(
            "SELECT version FROM aliases WHERE name = ? AND alias = ?", [name, alias]
        ).fetchall()
        previous = int(rows[0][0]) if rows else None
        if previous == version:
            return previous
        con.execute("DELETE FROM aliases WHERE name = ? AND alias = ?", [name, alias])
        if version is not None:
            con.execute(
                "INSERT INTO aliases VALUES (?, ?, ?, ?, ?)", [name, alias, version, now(), by]
            )
        runs = json.dumps(list(trigger_runs)) if trigger_runs is not None else None
        con.execute(
            "INSERT INTO alias_events (name, alias, from_version, to_version, changed_at, "
            "changed_by, reason, trigger_runs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [name, alias, previous, version, now(), by, reason, runs],
        )
        return previous

    def set_alias(self, ref: Ref, alias: str, *, by: str) -> tuple[Resolved, int | None]:
        """Point ``alias`` at the version ``ref`` names; returns (target, previous version)."""
        with self.write() as con:
            target = self._resolve(con, ref)
            previous = self._set_alias(con, target.name, alias, target.version, by)
            return target, previous

    def remove_alias(self, name: str, alias: str, *, by: str) -> int:
        with self.write() as con:
            rows = con.execute(
                "SELECT version FROM aliases WHERE name = ? AND alias = ?", [name, alias]
            ).fetchall()
            if not rows:
                raise NotFoundError(f"{name} has no alias {alias!r}.")
            self._set_alias(con, name, alias, None, by)
            return int(rows[0][0])

    def aliases(self, name: str | None = None) -> list[dict[str, Any]]:
        with self.read() as con:
            if con is None:
                return []
            where = "WHERE name = ?" if name else ""
            return _rows(
                con, f"SELECT * FROM aliases {where} ORDER BY name, alias", [name] if name else []
            )

    def alias_events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The alias trail, oldest first; NotFoundError for a ``name`` that was never stored."""
        with self.read() as con:
            if name is not None and self._kind_of(con, name) is None:
                self._resolve(con, Ref(name))  # raises NotFoundError naming what exists
            if con is None:
                return []
            where = "WHERE name = ?" if name else ""
            return _rows(
                con, f"SELECT * FROM alias_events {where} ORDER BY id", [name] if name else []
            )

    # -- listings -------------------------------------------------------------------------------

    def entries(self) -> list[dict[str, Any]]:
        """One row per name: kind, number of versions, latest version, aliases."""
        with self.read() as con:
            if con is None:
                return []
            return _rows(
                con,
                """
                WITH v AS (
                    SELECT name, version, created_at, size_bytes FROM model_versions
                    UNION ALL
                    SELECT name, version, created_at, size_bytes FROM dataset_versions
                )
                SELECT e.name, e.kind, count(v.version) AS versions,
                       max(v.version) AS latest, max(v.created_at) AS updated_at,
                       CAST(sum(v.size_bytes) AS BIGINT) AS size_bytes,
                       (SELECT string_agg(a.alias || '→' || a.version, ', ' ORDER BY a.alias)
                        FROM aliases a WHERE a.name = e.name) AS aliases
                FROM entries e LEFT JOIN v ON v.name = e.name
                GROUP BY e.name, e.kind ORDER BY e.kind DESC, e.name
                """,
            )

    def versions(self, name: str) -> list[dict[str, Any]]:
        with self.read() as con:
            kind = self._kind_of(con, name)
            if con is None or kind is None:
                self._resolve(con, Ref(name))
                return []
            if kind == "model":
                sql = """SELECT name, version, flavor, class_name, size_bytes, trusted,
                                train_dataset, train_version, metrics, created_at, created_by
                         FROM model_versions WHERE name = ? ORDER BY version"""
            else:
                sql = """SELECT name, version, n_rows, n_columns, size_bytes, source,
                                fingerprint, created_at, created_by
                         FROM dataset_versions WHERE name = ? ORDER BY version"""
            rows = _rows(con, sql, [name])
            aliases = _rows(con, "SELECT alias, version FROM aliases WHERE name = ?", [name])
        by_version: dict[int, list[str]] = {}
        for a in aliases:
            by_version.setdefault(int(a["version"]), []).append(str(a["alias"]))
        joined = {v: ", ".join(sorted(names)) for v, names in by_version.items()}
        for r in rows:
            r["kind"] = kind
            r["aliases"] = joined.get(r["version"], "")
        return rows

    # -- garbage collection ---------------------------------------------------------------------

    def collect_garbage(
        self, *, grace_seconds: float, log_days: float | None = None
    ) -> tuple[int, int]:
        """Remove unreferenced blobs under the write lock, so no registration commits midway.

        ``log_days``: prediction logs older than that many days are removed first (their rows,
        in this transaction); their blobs are then unreferenced and go with the grace period.
        """
        with self.write() as con:
            logged = ""
            if current_version(con) >= 4:
                if log_days is not None:
                    self._expire_prediction_logs(con, log_days)
                logged = " UNION SELECT blob FROM prediction_logs UNION SELECT blob FROM label_sets"
            if current_version(con) >= 5:  # derived statistics kept as a blob (push copies them)
                logged += " UNION SELECT blob FROM derived_statistics WHERE blob IS NOT NULL"
            rows = con.execute(
                "SELECT blob FROM model_versions UNION SELECT blob FROM dataset_versions "
                "UNION SELECT estimator FROM model_versions WHERE estimator IS NOT NULL "
                "UNION SELECT loss_model FROM model_versions WHERE loss_model IS NOT NULL" + logged
            ).fetchall()
            referenced = {str(r[0]) for r in rows}
            return self.objects.collect(referenced, grace_seconds=grace_seconds)

    # -- monitor runs ---------------------------------------------------------------------------

    def add_monitor_run(
        self,
        run: Mapping[str, Any],
        checks: Sequence[Mapping[str, Any]],
        *,
        log: Mapping[str, Any] | None = None,
    ) -> None:
        self.add_monitor_runs([(run, checks)], logs=[log] if log is not None else [])

    def add_monitor_runs(
        self,
        runs: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
        *,
        logs: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Runs and their checks (a timeline's chunks) in one transaction: all or none.

        ``logs``: ``prediction_logs`` rows of these runs; their staged blobs are installed in
        the same transaction (see ``ObjectStore``), and dropped if it fails.
        """
        if not runs:
            return
        with contextlib.ExitStack() as stack:
            for log in logs:
                stack.enter_context(self._staged(str(log["blob"])))
            con = stack.enter_context(self.write())
            self._insert_prediction_logs(con, logs)
            columns = list(runs[0][0])
            con.executemany(
                f"INSERT INTO monitor_runs ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                [[self._clean(run)[c] for c in columns] for run, _ in runs],
            )
            checks = [c for _, found in runs for c in found]
            if checks:
                names = list(checks[0])
                con.executemany(
                    f"INSERT INTO check_results ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})",
                    [[c[n] for n in names] for c in checks],
                )

    def monitor_runs(
        self,
        target: str | None = None,
        *,
        version: int | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Monitor runs without their report JSON, newest first (history, ``modelbook run``)."""
        clauses: list[str] = []
        params: list[Any] = []
        if target is not None:
            clauses.append("target = ?")
            params.append(target)
        if version is not None:
            clauses.append("target_version = ?")
            params.append(version)
        if since is not None:
            clauses.append("started_at >= ?")
            params.append(since)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        tail = f"LIMIT {int(limit)}" if limit else ""
        with self.read() as con:
            if con is None:
                return []
            return _rows(
                con,
                f"""SELECT id, target, target_version, reference, status, source, n_rows,
                           drift_share, n_alerts, metrics, batch_dataset, notebook, parameters,
                           started_at, finished_at, created_by
                    FROM monitor_runs {where} ORDER BY started_at DESC, id {tail}""",
                params,
            )

    def monitor_history(
        self, ref: Ref, *, since: datetime | None = None, limit: int | None = None
    ) -> tuple[Resolved, bool, list[tuple[Any, ...]], int]:
        """Resolve ``ref`` and fetch its monitor runs, newest first, on one connection.

        Returns (resolved, every_version, rows, total): a bare name means every version's runs,
        a version or alias only that version's; ``total`` counts the matching runs beyond
        ``limit``. Rows are tuples in the order of :data:`HISTORY_COLUMNS` (a dict per row
        costs as much as the query at 10,000 runs). One connection because opening one costs
        more than the query.
        """
        every = ref.version is None and ref.alias is None
        with self.read() as con:
            resolved = self._resolve(con, ref)
            assert con is not None  # _resolve raised NotFoundError otherwise
            clauses = ["target = ?"]
            params: list[Any] = [resolved.name]
            if not every:
                clauses.append("target_version = ?")
                params.append(resolved.version)
            if since is not None:
                clauses.append("started_at >= ?")
                params.append(since)
            tail = f"LIMIT {int(limit)}" if limit else ""
            rows = con.execute(
                f"""SELECT {", ".join(HISTORY_COLUMNS[:_TIMELINE])}, {_periods(con)}
                    FROM monitor_runs WHERE {" AND ".join(clauses)}
                    ORDER BY started_at DESC, chunk_index DESC NULLS LAST, id {tail}""",
                params,
            ).fetchall()
            total = len(rows)
            if limit and total == limit:
                total = int(
                    con.execute(
                        f"SELECT count(*) FROM monitor_runs WHERE {' AND '.join(clauses)}", params
                    ).fetchall()[0][0]
                )
        return resolved, every, rows, total

    def monitor_report_json(self, run_id: str) -> str:
        with self.read() as con:
            rows = (
                con.execute("SELECT report FROM monitor_runs WHERE id = ?", [run_id]).fetchall()
                if con is not None
                else []
            )
        if not rows:
            raise NotFoundError(f"no monitor run {run_id!r}.")
        return str(rows[0][0])

    def latest_monitor_runs(self) -> list[dict[str, Any]]:
        """The newest run of every monitored name, in one query (the lab sidebar's status)."""
        with self.read() as con:
            if con is None:
                return []
            return _rows(
                con,
                """SELECT id, target, target_version, status, n_alerts, drift_share, started_at
                   FROM (SELECT id, target, target_version, status, n_alerts, drift_share,
                                started_at, row_number() OVER (
                                    PARTITION BY target ORDER BY started_at DESC) AS newest
                         FROM monitor_runs) AS runs
                   WHERE newest = 1
                   ORDER BY target""",
            )

    def monitor_inputs(
        self, ref: Ref, reference: Ref | None, *, default_alias: str = "production"
    ) -> dict[str, Any]:
        """Everything a monitor run reads, over one read-only connection.

        Returns ``target`` (Resolved; a bare model name means its ``default_alias`` when set,
        else the latest version), ``model`` (its model_versions row or None), ``reference``
        (the Resolved dataset: ``reference`` if given, else the model's training data, else
        the target dataset itself; None when a model has no training data), ``dataset`` (that
        dataset_versions row) and ``profiles`` (its column profile rows).
        """
        with self.read() as con:
            if (
                con is not None
                and ref.version is None
                and ref.alias is None
                and self._kind_of(con, ref.name) == "model"
                and con.execute(
                    "SELECT 1 FROM aliases WHERE name = ? AND alias = ?", [ref.name, default_alias]
                ).fetchall()
            ):
                ref = Ref(ref.name, alias=default_alias)
            target = self._resolve(con, ref)
            assert con is not None
            model = None
            if target.kind == "model":
                model = _rows(
                    con,
                    "SELECT * FROM model_versions WHERE name = ? AND version = ?",
                    [target.name, target.version],
                )[0]
            if reference is not None:
                ds: Resolved | None = self._resolve(con, reference, kind="dataset")
            elif model is None:
                ds = target
            elif model["train_dataset"]:
                ds = Resolved("dataset", model["train_dataset"], int(model["train_version"]))
            else:
                ds = None
            dataset: dict[str, Any] | None = None
            profiles: list[dict[str, Any]] = []
            if ds is not None:
                dataset = _rows(
                    con,
                    "SELECT * FROM dataset_versions WHERE name = ? AND version = ?",
                    [ds.name, ds.version],
                )[0]
                quoted = ", ".join(f'"{f}"' for f in PROFILE_FIELDS)
                profiles = _rows(
                    con,
                    f"SELECT {quoted} FROM column_profiles WHERE dataset = ? AND version = ? "
                    "ORDER BY position",
                    [ds.name, ds.version],
                )
        return {
            "target": target,
            "model": model,
            "reference": ds,
            "dataset": dataset,
            "profiles": profiles,
        }

    def reference_predictions(self, model: Resolved, dataset: Resolved) -> dict[str, Any] | None:
        with self.read() as con:
            if con is None:
                return None
            rows = con.execute(
                "SELECT profile FROM reference_predictions WHERE model = ? AND model_version = ? "
                "AND dataset = ? AND dataset_version = ?",
                [model.name, model.version, dataset.name, dataset.version],
            ).fetchall()
        return json.loads(rows[0][0]) if rows else None

    def store_reference_predictions(
        self, model: Resolved, dataset: Resolved, profile: Mapping[str, Any]
    ) -> None:
        with self.write() as con:
            con.execute(
                "INSERT INTO reference_predictions VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (model, model_version, dataset, dataset_version) "
                "DO UPDATE SET profile = excluded.profile",
                [model.name, model.version, dataset.name, dataset.version, json.dumps(profile)],
            )

    # -- statistics derived on first use (schema v5) ---------------------------------------------

    def derived_statistic(
        self, kind: str, name: str, version: int, key: str
    ) -> dict[str, Any] | None:
        """A statistic computed once and kept (JSON ``value``), e.g. a fairness baseline."""
        with self.read() as con:
            if con is None:
                return None
            rows = con.execute(
                "SELECT value FROM derived_statistics WHERE kind = ? AND name = ? "
                "AND version = ? AND key = ?",
                [kind, name, version, key],
            ).fetchall()
        return json.loads(rows[0][0]) if rows and rows[0][0] is not None else None

    def store_derived_statistic(
        self, kind: str, name: str, version: int, key: str, value: Mapping[str, Any]
    ) -> None:
        """Keep a derived statistic (replacing one of the same key), in one transaction."""
        where = "kind = ? AND name = ? AND version = ? AND key = ?"
        with self.write() as con:
            con.execute(f"DELETE FROM derived_statistics WHERE {where}", [kind, name, version, key])
            con.execute(
                "INSERT INTO derived_statistics (kind, name, version, key, value, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [kind, name, version, key, json.dumps(value), now()],
            )

    # -- prediction log (issue 12) ---------------------------------------------------------------

    def _insert_prediction_logs(self, con: Any, logs: Sequence[Mapping[str, Any]]) -> None:
        """Install the logs' staged blobs and insert their rows (inside the caller's write)."""
        if not logs:
            return
        for log in logs:
            self.objects.install(str(log["blob"]))
        names = list(logs[0])
        con.executemany(
            f"INSERT INTO prediction_logs ({', '.join(names)}) "
            f"VALUES ({', '.join('?' for _ in names)})",
            [[log[n] for n in names] for log in logs],
        )

    @staticmethod
    def _expire_prediction_logs(con: Any, days: float) -> int:
        """Delete the rows of prediction logs older than ``days`` (the blobs go with gc)."""
        cutoff = now() - timedelta(days=days)
        found = con.execute(
            "DELETE FROM prediction_logs WHERE created_at < ? RETURNING run_id", [cutoff]
        ).fetchall()
        return len(found)

    def prediction_logs(self, model: str) -> list[dict[str, Any]]:
        """The ``prediction_logs`` rows of a model name, every version, oldest first."""
        with self.read() as con:
            if con is None or current_version(con) < 4:
                return []
            return _rows(
                con,
                "SELECT * FROM prediction_logs WHERE model = ? ORDER BY created_at, run_id",
                [model],
            )

    # -- late labels (issue 12) -------------------------------------------------------------------

    def feedback_inputs(self, model: str) -> dict[str, Any]:
        """What a feedback reads, on one read-only connection (schema 4).

        ``label_sets``: the model's stored label sets, oldest first (the later wins);
        ``latest``: run id → the ``labels_state`` of its newest feedback result;
        ``runs``: run id → (target_version, started_at, batch_id) of the model's runs;
        ``versions``: version → its model_versions row.
        """
        with self.read() as con:
            if con is None or current_version(con) < 4:
                return {"label_sets": [], "latest": {}, "runs": {}, "versions": {}}
            sets = _rows(
                con,
                "SELECT * FROM label_sets WHERE model = ? ORDER BY received_at, fingerprint",
                [model],
            )
            latest = {
                str(r[0]): str(r[1])
                for r in con.execute(
                    """SELECT run_id, labels_state FROM (
                           SELECT f.run_id, f.labels_state, row_number() OVER (
                               PARTITION BY f.run_id ORDER BY f.created_at DESC, f.id) AS newest
                           FROM feedback_results f
                           JOIN monitor_runs m ON m.id = f.run_id WHERE m.target = ?) AS latest
                       WHERE newest = 1""",
                    [model],
                ).fetchall()
            }
            runs = {
                str(r[0]): (int(r[1]), r[2], r[3])
                for r in con.execute(
                    "SELECT id, target_version, started_at, batch_id FROM monitor_runs "
                    "WHERE target = ?",
                    [model],
                ).fetchall()
            }
            versions = {
                int(r["version"]): r
                for r in _rows(con, "SELECT * FROM model_versions WHERE name = ?", [model])
            }
        return {"label_sets": sets, "latest": latest, "runs": runs, "versions": versions}

    def add_feedback(
        self, label_set: Mapping[str, Any] | None, results: Sequence[Mapping[str, Any]]
    ) -> bool:
        """A label set (its staged blob installed) and the feedback results, in one transaction.

        Returns False, writing nothing, when the same label set was stored meanwhile by another
        process (the same file sent twice): the key (model, fingerprint) makes it idempotent.
        """
        blob = label_set["blob"] if label_set is not None else None
        with contextlib.ExitStack() as stack:
            if blob is not None:
                stack.enter_context(self._staged(blob))
            con = stack.enter_context(self.write())
            if label_set is not None:
                found = con.execute(
                    "SELECT 1 FROM label_sets WHERE model = ? AND fingerprint = ?",
                    [label_set["model"], label_set["fingerprint"]],
                ).fetchall()
                if found:
                    return False
                self.objects.install(str(blob))
                columns = list(label_set)
                con.execute(
                    f"INSERT INTO label_sets ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [label_set[c] for c in columns],
                )
            if results:
                names = list(results[0])
                con.executemany(
                    f"INSERT INTO feedback_results ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})",
                    [[r[n] for n in names] for r in results],
                )
        return True

    def latest_feedback(self, model: str) -> dict[str, dict[str, Any]]:
        """Run id → its newest feedback result row (history's coverage and realized quality)."""
        with self.read() as con:
            if con is None or current_version(con) < 4:
                return {}
            rows = _rows(
                con,
                """SELECT f.*, row_number() OVER (
                       PARTITION BY f.run_id ORDER BY f.created_at DESC, f.id) AS newest
                   FROM feedback_results f JOIN monitor_runs m ON m.id = f.run_id
                   WHERE m.target = ?""",
                [model],
            )
        latest: dict[str, dict[str, Any]] = {}
        for r in rows:
            if r.pop("newest") == 1:
                latest[str(r["run_id"])] = r
        return latest

    # -- policies (issue 12) ----------------------------------------------------------------------

    def policy_observations(
        self, name: str, alias: str, *, policy: str
    ) -> tuple[int | None, datetime | None, list[dict[str, Any]], list[dict[str, Any]]]:
        """What a policy judges, on one connection: the alias's holder, when it took the alias,
        the holder's runs since then (and since the policy's last action), oldest first, each
        with its checks and its latest feedback report, and the policy's past events.

        Returns (holder version or None, moved_at, runs, events newest first).
        """
        with self.read() as con:
            if con is None:
                return None, None, [], []
            held = con.execute(
                "SELECT version FROM aliases WHERE name = ? AND alias = ?", [name, alias]
            ).fetchall()
            events = _rows(
                con,
                "SELECT * FROM policy_events WHERE policy = ? ORDER BY created_at DESC, id DESC",
                [policy],
            )
            if not held:
                return None, None, [], events
            version = int(held[0][0])
            moved = con.execute(
                "SELECT max(changed_at) FROM alias_events WHERE name = ? AND alias = ?",
                [name, alias],
            ).fetchall()[0][0]
            since = moved
            if events and (since is None or events[0]["created_at"] > since):
                since = events[0]["created_at"]
            params: list[Any] = [name, version]
            clause = ""
            if since is not None:
                clause = "AND started_at >= ?"
                params.append(since)
            runs = _rows(
                con,
                f"""SELECT id, status, role, started_at FROM monitor_runs
                    WHERE target = ? AND target_version = ? {clause}
                    ORDER BY started_at, chunk_index NULLS FIRST, id""",
                params,
            )
            if runs:
                ids = [r["id"] for r in runs]
                marks = ", ".join("?" for _ in ids)
                checks: dict[str, list[tuple[str, str]]] = {}
                for run_id, check, status in con.execute(
                    f"SELECT run_id, check_name, status FROM check_results "
                    f"WHERE run_id IN ({marks}) ORDER BY run_id, position",
                    ids,
                ).fetchall():
                    checks.setdefault(str(run_id), []).append((str(check), str(status)))
                feedback = {
                    str(r[0]): str(r[1])
                    for r in con.execute(
                        f"""SELECT run_id, report FROM (
                                SELECT run_id, report, row_number() OVER (
                                    PARTITION BY run_id ORDER BY created_at DESC, id DESC
                                ) AS newest
                                FROM feedback_results WHERE run_id IN ({marks})) AS latest
                            WHERE newest = 1""",
                        ids,
                    ).fetchall()
                }
                for r in runs:
                    r["checks"] = checks.get(str(r["id"]), [])
                    r["feedback"] = feedback.get(str(r["id"]))
        return version, moved, runs, events

    def previous_holder(self, name: str, alias: str) -> tuple[int, int]:
        """(current holder, the version to roll back to) from the alias trail.

        Walks the trail newest first and takes the latest earlier holder that is neither the
        current one nor a version a rollback moved away from (so rolling back twice never
        returns to the version the first rollback left). NotFoundError when there is none.
        """
        with self.read() as con:
            return self._previous_holder(con, name, alias)

    def _previous_holder(self, con: Any | None, name: str, alias: str) -> tuple[int, int]:
        held = (
            con.execute(
                "SELECT version FROM aliases WHERE name = ? AND alias = ?", [name, alias]
            ).fetchall()
            if con is not None
            else []
        )
        if not held or con is None:
            self._resolve(con, Ref(name, alias=alias))  # raises NotFoundError naming the aliases
            raise NotFoundError(f"{name} has no alias {alias!r}.")
        current = int(held[0][0])
        trail = con.execute(
            "SELECT from_version, reason FROM alias_events WHERE name = ? AND alias = ? "
            "ORDER BY id DESC",
            [name, alias],
        ).fetchall()
        rolled = [(f, reason) for f, reason in trail if (reason or "").startswith("rollback")]
        left = {int(f) for f, _reason in rolled if f is not None}
        for from_version, _reason in trail:
            if from_version is None or int(from_version) == current or int(from_version) in left:
                continue
            return current, int(from_version)
        raise NotFoundError(
            f"cannot roll back {name}@{alias}: no earlier version held it before version "
            f"{current} (see `modelbook alias --history {name}`); point it by hand with "
            f"`%modelbook alias {name}@N {alias}`."
        )

    def rollback_alias(
        self,
        name: str,
        alias: str,
        *,
        by: str,
        reason: str,
        trigger_runs: Sequence[str] = (),
        expected: int | None = None,
    ) -> tuple[int, int]:
        """Move ``alias`` back to its previous holder in one transaction: (from, to).

        ``expected``: the holder the caller judged; if another process moved the alias since,
        nothing moves and (current, current) is returned (two policies never roll back twice).
        """
        with self.write() as con:
            current, target = self._previous_holder(con, name, alias)
            if expected is not None and current != expected:
                return current, current
            self._set_alias(
                con, name, alias, target, by, reason=reason, trigger_runs=list(trigger_runs)
            )
            return current, target

    def add_policy_event(self, row: Mapping[str, Any]) -> None:
        with self.write() as con:
            columns = list(row)
            con.execute(
                f"INSERT INTO policy_events ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                [row[c] for c in columns],
            )

    def policy_events(self, policy: str | None = None) -> list[dict[str, Any]]:
        """Policy actions, newest first."""
        with self.read() as con:
            if con is None:
                return []
            where = "WHERE policy = ?" if policy else ""
            return _rows(
                con,
                f"SELECT * FROM policy_events {where} ORDER BY created_at DESC, id DESC",
                [policy] if policy else [],
            )

    # -- challenger (issue 12) ----------------------------------------------------------------------

    def add_compared_runs(
        self,
        runs: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
        *,
        logs: Sequence[Mapping[str, Any]],
        comparison: Mapping[str, Any],
    ) -> None:
        """A champion's and a challenger's runs, their checks and prediction logs, and their
        ``comparisons`` row, in one transaction: all or none."""
        with contextlib.ExitStack() as stack:
            for log in logs:
                stack.enter_context(self._staged(str(log["blob"])))
            con = stack.enter_context(self.write())
            self._insert_prediction_logs(con, logs)
            for table, rows in (
                ("monitor_runs", [self._clean(run) for run, _ in runs]),
                ("check_results", [c for _, found in runs for c in found]),
                ("comparisons", [comparison]),
            ):
                if not rows:
                    continue
                names = list(rows[0])
                con.executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})",
                    [[r[n] for n in names] for r in rows],
                )

    def comparison_row(self, batch_id: str) -> dict[str, Any]:
        with self.read() as con:
            rows = (
                _rows(con, "SELECT * FROM comparisons WHERE batch_id = ?", [batch_id])
                if con is not None and current_version(con) >= 4
                else []
            )
        if not rows:
            raise NotFoundError(f"no champion/challenger comparison with batch id {batch_id!r}.")
        return rows[0]

    def update_comparison_row(self, batch_id: str, comparison: str, verdict: str) -> None:
        with self.write() as con:
            con.execute(
                "UPDATE comparisons SET comparison = ?, verdict = ?, updated_at = ? "
                "WHERE batch_id = ?",
                [comparison, verdict, now(), batch_id],
            )

    def prediction_log_rows(self, run_ids: Sequence[str]) -> list[dict[str, Any]]:
        with self.read() as con:
            if con is None or current_version(con) < 4 or not run_ids:
                return []
            marks = ", ".join("?" for _ in run_ids)
            return _rows(
                con, f"SELECT * FROM prediction_logs WHERE run_id IN ({marks})", list(run_ids)
            )

    def label_set_blobs(self, models: Sequence[str]) -> list[dict[str, Any]]:
        """The label sets of these model names, oldest first (a later one wins)."""
        with self.read() as con:
            if con is None or current_version(con) < 4 or not models:
                return []
            marks = ", ".join("?" for _ in models)
            return _rows(
                con,
                f"SELECT blob, received_at FROM label_sets WHERE model IN ({marks}) "
                "ORDER BY received_at, fingerprint",
                list(models),
            )

    def batch_ids(self, run_ids: Sequence[str]) -> list[str]:
        """The comparison batches these runs belong to (for feedback: what to update)."""
        with self.read() as con:
            if con is None or current_version(con) < 4 or not run_ids:
                return []
            marks = ", ".join("?" for _ in run_ids)
            rows = con.execute(
                f"SELECT DISTINCT batch_id FROM comparisons WHERE champion_run IN ({marks}) "
                f"OR challenger_run IN ({marks}) ORDER BY batch_id",
                [*run_ids, *run_ids],
            ).fetchall()
        return [str(r[0]) for r in rows]


def _periods(con: Any) -> str:
    """A chunk's timeline and period (schema 3), as NULLs in a registry not yet migrated."""
    from modelbook.registry.schema import current_version

    if current_version(con) >= 3:
        return "timeline, chunk_index, period_start, period_end"
    return "NULL AS timeline, NULL AS chunk_index, NULL AS period_start, NULL AS period_end"


def _ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` → ``'1-3, 5'``: readable even for hundreds of versions."""
    if not numbers:
        return "none"
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)
