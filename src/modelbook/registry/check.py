"""``modelbook check``: verify a registry end to end, and say what can be recovered.

Three passes, in an order that stays right while other processes write:

1. The metadata (read-only, one short connection): every table is read in full, so a damaged
   block anywhere is found, and every reference between tables is followed (versions → names,
   model → training data, aliases → versions, monitor runs → versions, check results → runs,
   column profiles ↔ dataset versions, cached reference predictions → versions).
2. The connection is closed (a reader held open would block writers), then every file under
   ``objects/`` is hashed: a blob's name is the SHA-256 of its bytes, so blobs are verified even
   when the metadata cannot be read. Referenced blobs were committed before pass 1 read the
   metadata, so a registration committing meanwhile cannot look like a missing file.
3. What the two passes found is matched: missing and corrupted artifact files of versions,
   unreferenced files (``gc`` removes them), temporary files of finished processes.

The result is plain data (:func:`check_registry`); :func:`modelbook.api.check` wraps it in a
:class:`~modelbook.results.CheckReport`.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from pathlib import Path
from typing import Any

from modelbook.errors import NotFoundError, RegistryError
from modelbook.registry.locking import connect, translate_duckdb_error
from modelbook.registry.objects import sha256_file
from modelbook.registry.paths import check_home
from modelbook.registry.schema import check_version
from modelbook.registry.store import Registry

__all__ = ["TABLES", "check_registry", "sniff_format"]

TABLES = (
    "meta",
    "entries",
    "dataset_versions",
    "column_profiles",
    "model_versions",
    "aliases",
    "alias_events",
    "monitor_runs",
    "check_results",
    "reference_predictions",
)

_NO_REPAIR = "modelbook cannot rebuild this"
_SQL_HINT = (
    "with no modelbook process running, back up registry.duckdb, then in the duckdb CLI "
    "(`duckdb registry.duckdb`) run: "
)


def sniff_format(path: Path) -> str:
    """What an artifact file holds, from its first bytes (for recovery without metadata).

    ``parquet`` (a dataset), or a model flavor: ``sklearn`` (a skops zip), ``xgboost`` and
    ``lightgbm`` (modelbook's frame: the class name, then the library's own format), ``pickle``;
    else ``unknown``.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(520)
    except OSError:
        return "unreadable"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "sklearn"
    if head[:1] == b"\x80":
        return "pickle"
    size = int.from_bytes(head[:8], "big") if len(head) >= 8 else 0
    if 0 < size <= 512:
        class_path = head[8 : 8 + size]
        for flavor in ("xgboost", "lightgbm"):
            if class_path.startswith(flavor.encode()):
                return flavor
    return "unknown"


def _problem(check: str, subject: str, message: str, fix: str) -> dict[str, str]:
    return {"check": check, "subject": subject, "message": message, "fix": fix}


def _scan_table(con: Any, table: str) -> int:
    """Read every value of ``table`` (hashing each row finds damaged blocks); returns rows."""
    return int(con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {table} t").fetchall()[0][0])


def _detail(exc: BaseException) -> str:
    """DuckDB's own words for what failed (the cause of a translated error), one line."""
    cause = exc.__cause__ or exc
    text = str(cause).strip()
    line = text.splitlines()[0] if text else type(cause).__name__
    return line if len(line) <= 200 else line[:199] + "…"


def _read_metadata(reg: Registry) -> dict[str, Any]:
    """Pass 1: tables, references and the blobs versions name, over one read-only connection."""
    out: dict[str, Any] = {
        "tables": {},
        "counts": {},
        "problems": [],
        "notes": [],
        "versions": [],
        "error": None,
    }
    try:
        con = connect(reg.db_path, read_only=True)
    except RegistryError as exc:
        if type(exc) is not RegistryError:  # busy, permission: not damage; say so as it is
            raise
        out["error"] = f"registry.duckdb cannot be opened: {_detail(exc)}"
        return out
    try:
        try:
            version = check_version(con, str(reg.home))
        except Exception as exc:
            if translate_duckdb_error(exc, reg.db_path) is None:
                raise
            out["error"] = f"registry.duckdb cannot be read: {_detail(exc)}"
            return out
        if version == 0:
            out["error"] = f"{reg.db_path} holds no registry tables (an empty file)"
            return out
        for table in TABLES:
            try:
                out["counts"][table] = _scan_table(con, table)
                out["tables"][table] = "ok"
            except Exception as exc:
                translated = translate_duckdb_error(exc, reg.db_path)
                if translated is None and type(exc).__name__ != "CatalogException":
                    raise
                out["tables"][table] = _detail(exc)
        readable = {t for t, state in out["tables"].items() if state == "ok"}
        if readable != set(TABLES):
            out["error"] = "registry.duckdb is damaged; tables it cannot read: " + "; ".join(
                f"{t} ({out['tables'][t]})" for t in TABLES if t not in readable
            )
        indexes = _probe_indexes(con, readable)
        if indexes:
            damage = "; ".join(f"{name} ({detail})" for name, detail in indexes.items())
            out["error"] = out["error"] + "; " if out["error"] else "registry.duckdb is damaged; "
            out["error"] += f"indexes it cannot read: {damage}"
        out["schema"] = version
        _references(con, readable, out)
    finally:
        con.close()
    return out


def _read_team_metadata(reg: Registry) -> dict[str, Any]:
    """Pass 1 on a team registry: PostgreSQL keeps its own pages checksummed and its keys
    enforced, so every table is counted and the references are followed as locally."""
    out: dict[str, Any] = {
        "tables": {},
        "counts": {},
        "problems": [],
        "notes": [],
        "versions": [],
        "error": None,
    }
    with reg.read() as con:
        if con is None:
            raise NotFoundError(reg.missing_message())
        from modelbook.registry.schema import current_version

        out["schema"] = current_version(con)
        for table in TABLES:
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()
            out["counts"][table] = int(rows[0][0])
            out["tables"][table] = "ok"
        _references(con, set(TABLES), out)
    return out


def _damage_detail(exc: Exception) -> str:
    """DuckDB's words when ``exc`` means a damaged file; re-raise anything else (a bug)."""
    if translate_duckdb_error(exc, Path("registry.duckdb")) is None:
        raise exc
    return _detail(exc)


# Primary keys and indexes: table scans never read index blocks, so each is probed by looking
# up stored keys (every key up to this many per table, else an even sample of this many).
_KEYS = {
    "meta": ("key",),
    "entries": ("name",),
    "dataset_versions": ("name", "version"),
    "column_profiles": ("dataset", "version", "position"),
    "model_versions": ("name", "version"),
    "aliases": ("name", "alias"),
    "alias_events": ("id",),
    "monitor_runs": ("id",),
    "check_results": ("run_id", "position"),
    "reference_predictions": ("model", "model_version", "dataset", "dataset_version"),
}
_INDEXES = {"monitor_runs_target": ("monitor_runs", ("target", "started_at"))}
PROBES_PER_INDEX = 5_000


def _probe_indexes(con: Any, readable: set[str]) -> dict[str, str]:
    """Look stored keys up through each index; returns {index: what failed} for damaged ones."""
    damaged: dict[str, str] = {}
    probes = [(f"{t} primary key", t, cols) for t, cols in _KEYS.items()]
    probes += [(name, t, cols) for name, (t, cols) in _INDEXES.items()]
    for label, table, cols in probes:
        if table not in readable:
            continue
        quoted = ", ".join(f'"{c}"' for c in cols)
        where = " AND ".join(f'"{c}" = ?' for c in cols)
        try:
            keys = con.execute(f"SELECT {quoted} FROM {table}").fetchall()
            step = max(1, len(keys) // PROBES_PER_INDEX)
            for key in keys[::step]:
                con.execute(f"SELECT 1 FROM {table} WHERE {where}", list(key)).fetchall()
        except Exception as exc:
            damaged[label] = _damage_detail(exc)
    return damaged


def _references(con: Any, readable: set[str], out: dict[str, Any]) -> None:
    problems: list[dict[str, str]] = out["problems"]
    notes: list[str] = out["notes"]

    def can(*tables: str) -> bool:
        return set(tables) <= readable

    def q(sql: str) -> list[tuple[Any, ...]]:
        """Rows of ``sql``; a damaged block on the way becomes part of the metadata error."""
        try:
            rows: list[tuple[Any, ...]] = con.execute(sql).fetchall()
        except Exception as exc:
            detail = _damage_detail(exc)
            if not out["error"]:
                out["error"] = f"registry.duckdb is damaged: {detail}"
            return []
        return rows

    version_sql = (
        "SELECT 'model', name, version FROM model_versions "
        "UNION ALL SELECT 'dataset', name, version FROM dataset_versions"
    )
    if can("model_versions", "dataset_versions"):
        # Schema 3: a model version also names its estimation state and loss model blobs.
        fitted = (
            "UNION ALL SELECT 'model', name, version, estimator, 'estimation state' "
            "FROM model_versions WHERE estimator IS NOT NULL "
            "UNION ALL SELECT 'model', name, version, loss_model, 'loss model' "
            "FROM model_versions WHERE loss_model IS NOT NULL "
            if out.get("schema", 0) >= 3
            else ""
        )
        if out.get("schema", 0) >= 4:  # issue 12: a run's prediction log
            fitted += (
                "UNION ALL SELECT 'model', model, model_version, blob, 'prediction log' "
                "FROM prediction_logs "
                "UNION ALL SELECT 'label set', model, "
                "CAST(row_number() OVER (PARTITION BY model ORDER BY received_at) AS INTEGER), "
                "blob, 'label set' FROM label_sets "
            )
        out["versions"] = q(
            "SELECT 'model', name, version, blob, 'artifact' FROM model_versions "
            "UNION ALL SELECT 'dataset', name, version, blob, 'artifact' FROM dataset_versions "
            f"{fitted}ORDER BY 1, 2, 3, 5",
        )
    if can("meta") and not q("SELECT 1 FROM meta WHERE key = 'schema_version'"):
        problems.append(
            _problem(
                "metadata.schema",
                "meta",
                "the schema version row is missing",
                f"{_SQL_HINT}INSERT INTO meta VALUES ('schema_version', '1');",
            )
        )
    if can("entries", "model_versions", "dataset_versions"):
        for kind, table in (("model", "model_versions"), ("dataset", "dataset_versions")):
            rows = q(
                f"SELECT v.name, e.kind, min(v.created_at) FROM {table} v "
                f"LEFT JOIN entries e ON e.name = v.name "
                f"WHERE e.name IS NULL OR e.kind <> '{kind}' GROUP BY v.name, e.kind ORDER BY 1",
            )
            for name, found, _first in rows:
                if found is None:
                    problems.append(
                        _problem(
                            "ref.entries",
                            f"{kind} {name}",
                            "its versions exist but the name is missing from the names table "
                            "(entries), so no reference to it resolves",
                            f"rebuildable from its versions: {_SQL_HINT}INSERT INTO entries "
                            f"SELECT name, '{kind}', min(created_at) FROM {table} "
                            f"WHERE name = '{name}' GROUP BY name;",
                        )
                    )
                else:
                    problems.append(
                        _problem(
                            "ref.entries",
                            f"{kind} {name}",
                            f"the names table (entries) calls it a {found}, but it has {kind} "
                            "versions",
                            f"{_NO_REPAIR}: one name cannot be both; restore registry.duckdb "
                            "from a backup.",
                        )
                    )
    if can("model_versions", "dataset_versions"):
        rows = q(
            "SELECT m.name, m.version, m.train_dataset, m.train_version FROM model_versions m "
            "WHERE m.train_dataset IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dataset_versions d "
            "WHERE d.name = m.train_dataset AND d.version = m.train_version) ORDER BY 1, 2",
        )
        for name, version, ds, ds_version in rows:
            problems.append(
                _problem(
                    "ref.training_data",
                    f"model {name}@{version}",
                    f"its training data {ds}@{ds_version} does not exist",
                    f"{_NO_REPAIR} (the link is all that records it): the model still loads; "
                    f"monitor it against another dataset with --reference NAME@VERSION.",
                )
            )
    if can("aliases", "model_versions", "dataset_versions"):
        rows = q(
            f"SELECT a.name, a.alias, a.version FROM aliases a WHERE NOT EXISTS "
            f"(SELECT 1 FROM ({version_sql}) v(kind, name, version) "
            f"WHERE v.name = a.name AND v.version = a.version) ORDER BY 1, 2",
        )
        for name, alias, version in rows:
            problems.append(
                _problem(
                    "ref.alias",
                    f"alias {name}@{alias}",
                    f"points at version {version}, which does not exist",
                    f"point it at an existing version (`modelbook alias {name}@N {alias}`) or "
                    f"remove it (`modelbook alias --remove {name}@{alias}`).",
                )
            )
    if can("check_results", "monitor_runs"):
        rows = q(
            "SELECT c.run_id, count(*) FROM check_results c WHERE NOT EXISTS "
            "(SELECT 1 FROM monitor_runs r WHERE r.id = c.run_id) GROUP BY 1 ORDER BY 1",
        )
        for run_id, n in rows:
            problems.append(
                _problem(
                    "ref.check_results",
                    f"monitor run {run_id}",
                    f"{n} check results belong to a monitor run that does not exist",
                    f"the run cannot be rebuilt from its results; drop them: {_SQL_HINT}"
                    f"DELETE FROM check_results WHERE run_id = '{run_id}';",
                )
            )
    if can("monitor_runs", "model_versions", "dataset_versions"):
        rows = q(
            f"SELECT r.id, r.target, r.target_version FROM monitor_runs r WHERE NOT EXISTS "
            f"(SELECT 1 FROM ({version_sql}) v(kind, name, version) "
            f"WHERE v.name = r.target AND v.version = r.target_version) ORDER BY 2, 3, 1",
        )
        for run_id, target, version in rows:
            problems.append(
                _problem(
                    "ref.monitor_target",
                    f"monitor run {run_id}",
                    f"checked {target}@{version}, which does not exist",
                    f"{_NO_REPAIR}: the run stays readable in its history; to drop it: "
                    f"{_SQL_HINT}DELETE FROM check_results WHERE run_id = '{run_id}'; "
                    f"DELETE FROM monitor_runs WHERE id = '{run_id}';",
                )
            )
        for column, what in (("reference", "compared against"), ("batch_dataset", "stored as")):
            rows = q(
                f"SELECT r.id, r.{column} FROM monitor_runs r WHERE r.{column} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM dataset_versions d WHERE "
                f"d.name || '@' || d.version = r.{column}) ORDER BY 2, 1",
            )
            for run_id, ref in rows:
                problems.append(
                    _problem(
                        f"ref.monitor_{'reference' if column == 'reference' else 'batch'}",
                        f"monitor run {run_id}",
                        f"{what} dataset {ref}, which does not exist",
                        f"{_NO_REPAIR}: the run's report keeps its results; only the link to "
                        "the dataset is lost.",
                    )
                )
    if can("column_profiles", "dataset_versions"):
        rows = q(
            "SELECT p.dataset, p.version, count(*) FROM column_profiles p WHERE NOT EXISTS "
            "(SELECT 1 FROM dataset_versions d WHERE d.name = p.dataset AND d.version = p.version)"
            " GROUP BY 1, 2 ORDER BY 1, 2",
        )
        for name, version, n in rows:
            problems.append(
                _problem(
                    "ref.profiles",
                    f"dataset {name}@{version}",
                    f"{n} column profiles belong to a dataset version that does not exist",
                    f"drop them: {_SQL_HINT}DELETE FROM column_profiles WHERE dataset = "
                    f"'{name}' AND version = {version};",
                )
            )
        rows = q(
            "SELECT d.name, d.version, d.n_columns, count(p.position) FROM dataset_versions d "
            "LEFT JOIN column_profiles p ON p.dataset = d.name AND p.version = d.version "
            "GROUP BY 1, 2, 3 HAVING count(p.position) <> d.n_columns ORDER BY 1, 2",
        )
        for name, version, n_columns, n in rows:
            problems.append(
                _problem(
                    "ref.profiles",
                    f"dataset {name}@{version}",
                    f"has {n} column profiles for {n_columns} columns",
                    f"{_NO_REPAIR} yet: a profile could be recomputed from the version's intact "
                    "Parquet file, but no command does it; monitoring and diffs against this "
                    "version fail until registry.duckdb is restored from a backup.",
                )
            )
    if can("reference_predictions", "model_versions", "dataset_versions"):
        found = q(
            "SELECT count(*) FROM reference_predictions p WHERE NOT EXISTS (SELECT 1 FROM "
            "model_versions m WHERE m.name = p.model AND m.version = p.model_version) OR NOT "
            "EXISTS (SELECT 1 FROM dataset_versions d WHERE d.name = p.dataset AND "
            "d.version = p.dataset_version)",
        )
        n = found[0][0] if found else 0
        if n:
            notes.append(
                f"{n} cached reference predictions name versions that do not exist (a cache: "
                "harmless, recomputed when needed)"
            )


def _hash_all(paths: list[Path]) -> dict[Path, str | None]:
    """SHA-256 of each file (None if unreadable), on a few threads (hashlib releases the GIL)."""

    def one(path: Path) -> str | None:
        try:
            return sha256_file(path)
        except OSError:
            return None

    workers = min(8, (os.cpu_count() or 2) + 2)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(paths, pool.map(one, paths), strict=True))


def _relative(reg: Registry, path: Path) -> str:
    # A team registry's files are in a shared folder: named from it, as objects/ab/cd… .
    base = reg.objects.root.parent if reg.is_team else reg.home
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def check_registry(reg: Registry) -> dict[str, Any]:
    """Verify ``reg``; plain data for :class:`~modelbook.results.CheckReport` (see module doc)."""
    if reg.is_team:
        meta = _read_team_metadata(reg)
        state = "ok"
    else:
        check_home(reg.home)
    has_objects = reg.objects.root.is_dir() and any(reg.objects.iter_digests())
    if reg.is_team:
        pass
    elif not reg.db_path.exists() and not has_objects:
        raise NotFoundError(reg.missing_message())
    elif reg.db_path.exists():
        meta = _read_metadata(reg)
        state = "damaged" if meta["error"] else "ok"
    else:
        meta = {"tables": {}, "counts": {}, "problems": [], "notes": [], "versions": []}
        meta["error"] = f"{reg.db_path} is missing"
        state = "missing"
    problems: list[dict[str, str]] = []
    if meta["error"]:
        problems.append(
            _problem(
                "metadata",
                "registry.duckdb",
                meta["error"],
                "restore registry.duckdb from a backup (see recovery below).",
            )
        )
    problems.extend(meta["problems"])
    notes: list[str] = list(meta["notes"])

    # Pass 2: hash every file under objects/ (after the metadata connection is closed).
    files = [path for _name, path in reg.objects.iter_digests() if path.is_file()]
    hashes = _hash_all(files)
    present: dict[str, Path] = {}
    corrupt: dict[str, Path] = {}
    size = 0
    for path in files:
        name = path.parent.name + path.name
        size += path.stat().st_size if path.exists() else 0
        if hashes[path] == name:
            present[name] = path
        else:
            corrupt[name] = path

    # Pass 3: match.
    referenced: set[str] = set()
    for kind, name, version, blob, role in meta["versions"]:
        referenced.add(blob)
        rel = _relative(reg, reg.objects.path_for(blob))
        role = "artifact" if role == "artifact" else f"{role} artifact"
        restore = (
            f"restore {rel} from a backup (the file's name is the SHA-256 of its bytes, so any "
            "copy with those bytes is right); without one this version cannot be loaded (its "
            f"metadata stays): register the {kind} again as a new version."
        )
        if role == "prediction log artifact":
            restore = (
                f"restore {rel} from a backup; without one, that run's prediction log is lost "
                "(labels cannot be joined to it): its row can be removed with a retention, "
                "prediction_log_days, and `modelbook gc`."
            )
        if role == "label set artifact":
            restore = (
                f"restore {rel} from a backup; without one, remove its row ({_SQL_HINT}DELETE "
                f"FROM label_sets WHERE blob = '{blob}';) and send those labels again with "
                "mb.feedback: realized quality is recomputed from the label sets that remain."
            )
        if blob in corrupt:
            problems.append(
                _problem(
                    "blob.corrupt",
                    f"{kind} {name}@{version}",
                    f"its {role} file {rel} does not match its hash: modified or corrupted",
                    restore,
                )
            )
        elif blob not in present:
            problems.append(
                _problem(
                    "blob.missing",
                    f"{kind} {name}@{version}",
                    f"its {role} file {rel} is missing",
                    restore,
                )
            )
    if state == "ok":
        orphans = [p for d, p in {**present, **corrupt}.items() if d not in referenced]
        if orphans:
            freed = sum(p.stat().st_size for p in orphans if p.exists())
            notes.append(
                f"{len(orphans)} artifact files ({_size(freed)}) belong to no version (left by "
                "an interrupted registration): `modelbook gc` removes them"
            )
    else:
        for _digest, path in sorted(corrupt.items()):
            problems.append(
                _problem(
                    "blob.corrupt",
                    _relative(reg, path),
                    "this artifact file does not match its hash: modified or corrupted",
                    "restore it from a backup.",
                )
            )
    stale = 0
    if reg.objects.tmp.is_dir():
        now = time.time()
        for path in reg.objects.tmp.iterdir():
            try:
                age = now - path.stat().st_mtime
            except OSError:
                continue
            if reg.objects.removable_temp(path, age=age, grace_seconds=0):
                stale += 1
    if stale:
        notes.append(
            f"{stale} temporary files of finished processes in objects/tmp/: `modelbook gc` "
            "removes them"
        )

    listing: list[dict[str, Any]] = []
    recovery = None
    if state != "ok":
        listing = [
            {
                "path": _relative(reg, path),
                "bytes": path.stat().st_size,
                "format": sniff_format(path),
                "intact": digest in present,
            }
            for digest, path in sorted({**present, **corrupt}.items())
        ]
        recovery = _recovery(reg, state, meta, listing)
    return {
        "registry": str(reg.location),
        "metadata": state,
        "tables": dict(meta["tables"]),
        "counts": dict(meta["counts"]),
        "files_checked": len(files),
        "bytes_checked": size,
        "problems": problems,
        "notes": notes,
        "files": listing,
        "recovery": recovery,
    }


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


REBUILD = (
    'python -c "import duckdb; c = duckdb.connect(); '
    "c.execute(\\\"ATTACH 'registry.duckdb' AS old (READ_ONLY)\\\"); "
    "c.execute(\\\"ATTACH 'rebuilt.duckdb' AS new\\\"); "
    "c.execute('COPY FROM DATABASE old TO new')\""
)


def _recovery(reg: Registry, state: str, meta: dict[str, Any], files: list[dict[str, Any]]) -> str:
    formats: dict[str, int] = {}
    for f in files:
        if f["intact"]:
            formats[f["format"]] = formats.get(f["format"], 0) + 1
    held = ", ".join(f"{n} {fmt}" for fmt, n in sorted(formats.items())) or "none"
    readable = [t for t, s in meta["tables"].items() if s == "ok"]
    parts = []
    if state == "damaged" and len(readable) == len(TABLES):
        parts.append(
            "Every table is still readable, so the metadata can be rebuilt from it (the "
            "indexes are rebuilt on the way): stop every modelbook process, then in the "
            f"registry folder run {REBUILD}, move registry.duckdb aside, rename rebuilt.duckdb "
            "to registry.duckdb and run `modelbook check` again. If that fails:"
        )
    parts.append(
        "Restore registry.duckdb from a backup (a copy of the registry folder taken while "
        "nothing wrote to it): that brings everything back, and the artifact files here are "
        "already verified."
        if state == "damaged"
        else "registry.duckdb is gone: restore it from a backup to bring everything back."
    )
    if state == "damaged" and 0 < len(readable) < len(TABLES):
        parts.append(
            "Tables DuckDB can still read in full: "
            + ", ".join(readable)
            + '; save them first, e.g. with python -c "import duckdb; '
            "duckdb.connect('registry.duckdb', read_only=True).execute("
            '\\"COPY model_versions TO \'model_versions.csv\'\\")".'
        )
    parts.append(
        f"Without a backup, what the files on disk still hold: {len(files)} artifact files "
        f"under objects/; intact ones by format: {held} (each listed with its format in "
        "`modelbook check --json`). Parquet files are datasets (pandas.read_parquet(path)); "
        "the others are models: `from modelbook.capture.models import deserialize; "
        "deserialize(FORMAT, open(path, 'rb').read(), trust=False, what=path)` (a pickle needs "
        "trust=True: only for files from people you trust). Register them again, in a new "
        "registry folder or here after moving registry.duckdb aside."
    )
    parts.append(
        "What only registry.duckdb held cannot be rebuilt from the files: names, version "
        "numbers, aliases and their history, metrics, parameters, tags, lineage, environments, "
        "column profiles and monitor runs."
    )
    return " ".join(parts)
