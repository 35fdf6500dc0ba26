"""Copy a version, with everything it references, from one registry to another (push / pull).

The everyday flow is "experiment locally, publish to the team": ``push churn@3 --to URL``. A
model version takes along its training and evaluation dataset versions (with their column
profiles and multivariate statistics, which are columns of the dataset row), its reference
predictions, the derived statistics stored for it and for those datasets, and every blob those
rows name (the artifact, the estimation state, the loss model, the Parquet snapshots). Monitor
runs, prediction logs and labels stay where they happened.

Rules:

* Content hashes are kept: a blob is copied under its digest, read through
  ``verified_path`` (so a damaged source is refused, never spread) and written through the
  destination's ``put_file``/``install`` protocol.
* Identity decides what is there already: a model version of the same name with the same
  ``identity`` (class, learned state, training data), a dataset version with the same
  ``fingerprint``. Pushing what is there copies nothing and says so.
* Version numbers on the destination are the destination's own next numbers; the rows record
  where they came from in the tag ``origin`` (``churn@3 at <source>``, never a credential).
* Blobs go first (outside any lock); then one write transaction on the destination inserts the
  rows (installing the blobs inside it), so a failure at any point leaves no half version.

Only ``read()``/``write()`` connections and portable SQL with ``?`` placeholders are used, so it
works between any two registries: local↔local, local↔team, team↔team.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelbook.errors import ConfigError, InvalidNameError, NotFoundError
from modelbook.registry.refs import parse_ref
from modelbook.registry.store import Registry, Resolved
from modelbook.results import CopiedVersion, TransferReport

__all__ = ["CopiedVersion", "TransferReport", "transfer"]

_DATASET_BLOB = "blob"
_MODEL_BLOBS = ("blob", "estimator", "loss_model")


# -- reading the source -------------------------------------------------------------------------


def _rows(con: Any, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_table(con: Any, table: str) -> bool:
    from modelbook.registry.schema import current_version

    needs = {"derived_statistics": 5, "reference_predictions": 1}
    return current_version(con) >= needs.get(table, 1)


@dataclass
class _Dataset:
    row: dict[str, Any]
    profiles: list[dict[str, Any]]
    derived: list[dict[str, Any]]
    role: str


@dataclass
class _Bundle:
    """Everything one version takes along, read from the source in one connection."""

    target: Resolved
    model: dict[str, Any] | None
    datasets: list[_Dataset]
    predictions: list[dict[str, Any]]
    derived: list[dict[str, Any]]  # of the model

    def blobs(self) -> list[str]:
        found: list[str] = []
        if self.model is not None:
            found += [str(self.model[c]) for c in _MODEL_BLOBS if self.model.get(c)]
            found += [str(r["blob"]) for r in self.derived if r.get("blob")]
        for ds in self.datasets:
            found.append(str(ds.row[_DATASET_BLOB]))
            found += [str(r["blob"]) for r in ds.derived if r.get("blob")]
        return list(dict.fromkeys(found))


def _read_dataset(con: Any, name: str, version: int, role: str) -> _Dataset:
    rows = _rows(
        con, "SELECT * FROM dataset_versions WHERE name = ? AND version = ?", [name, version]
    )
    if not rows:
        raise NotFoundError(f"dataset {name}@{version} does not exist.")
    profiles = _rows(
        con,
        "SELECT * FROM column_profiles WHERE dataset = ? AND version = ? ORDER BY position",
        [name, version],
    )
    return _Dataset(rows[0], profiles, _derived(con, name, version), role)


def _derived(con: Any, name: str, version: int) -> list[dict[str, Any]]:
    if not _has_table(con, "derived_statistics"):
        return []
    return _rows(
        con,
        "SELECT * FROM derived_statistics WHERE name = ? AND version = ? ORDER BY kind, key",
        [name, version],
    )


def _read_bundle(src: Registry, ref: str) -> _Bundle:
    with src.read() as con:
        target = src._resolve(con, parse_ref(ref))
        assert con is not None  # _resolve raised NotFoundError otherwise
        if target.kind == "dataset":
            ds = _read_dataset(con, target.name, target.version, "target")
            return _Bundle(target, None, [ds], [], [])
        model = _rows(
            con,
            "SELECT * FROM model_versions WHERE name = ? AND version = ?",
            [target.name, target.version],
        )[0]
        datasets = [
            _read_dataset(con, str(model[f"{part}_dataset"]), int(model[f"{part}_version"]), role)
            for part, role in (("train", "training"), ("eval", "evaluation"))
            if model.get(f"{part}_dataset") and model.get(f"{part}_version") is not None
        ]
        predictions = _rows(
            con,
            "SELECT * FROM reference_predictions WHERE model = ? AND model_version = ?",
            [target.name, target.version],
        )
        return _Bundle(
            target, model, datasets, predictions, _derived(con, target.name, target.version)
        )


# -- writing the destination --------------------------------------------------------------------


def _columns(con: Any, table: str) -> list[str]:
    cursor = con.execute(f"SELECT * FROM {table} WHERE 1 = 0", [])
    return [str(d[0]) for d in cursor.description]


def _insert(con: Any, table: str, rows: Sequence[Mapping[str, Any]], columns: list[str]) -> int:
    """Insert ``rows`` (only the destination's columns; a column it lacks is dropped)."""
    if not rows:
        return 0
    names = [c for c in columns if c in rows[0]]
    quoted = ", ".join(f'"{c}"' for c in names)
    marks = ", ".join("?" for _ in names)
    con.executemany(
        f"INSERT INTO {table} ({quoted}) VALUES ({marks})", [[r[c] for c in names] for r in rows]
    )
    return len(rows)


def _claim(con: Any, name: str, kind: str, created_at: Any) -> None:
    found = con.execute("SELECT kind FROM entries WHERE name = ?", [name]).fetchall()
    if not found:
        con.execute(
            "INSERT INTO entries (name, kind, created_at) VALUES (?, ?, ?)",
            [name, kind, created_at],
        )
    elif str(found[0][0]) != kind:
        raise InvalidNameError(
            f"{name!r} is a {found[0][0]} in the destination registry, not a {kind}: rename one "
            "of them before copying."
        )


def _next_version(con: Any, table: str, name: str) -> int:
    rows = con.execute(
        f"SELECT coalesce(max(version), 0) + 1 FROM {table} WHERE name = ?", [name]
    ).fetchall()
    return int(rows[0][0])


def _find_model(con: Any | None, model: Mapping[str, Any]) -> int | None:
    """The destination's version of this model (same identity, else the same artifact)."""
    if con is None:
        return None
    if model.get("identity"):
        sql = "SELECT max(version) FROM model_versions WHERE name = ? AND identity = ?"
        params = [model["name"], model["identity"]]
    else:
        sql = "SELECT max(version) FROM model_versions WHERE name = ? AND blob = ?"
        params = [model["name"], model["blob"]]
    found = con.execute(sql, params).fetchall()
    return None if not found or found[0][0] is None else int(found[0][0])


def _find_dataset(con: Any | None, row: Mapping[str, Any]) -> int | None:
    if con is None:
        return None
    found = con.execute(
        "SELECT max(version) FROM dataset_versions WHERE name = ? AND fingerprint = ?",
        [row["name"], row["fingerprint"]],
    ).fetchall()
    return None if not found or found[0][0] is None else int(found[0][0])


def _with_origin(row: Mapping[str, Any], origin: str) -> dict[str, Any]:
    out = dict(row)
    try:
        tags = json.loads(out.get("tags") or "{}")
    except ValueError:
        tags = {}
    if not isinstance(tags, dict):
        tags = {}
    tags["origin"] = origin
    out["tags"] = json.dumps(tags, sort_keys=True)
    return out


@dataclass
class _Copy:
    """The state of one transaction on the destination: version renumbering and row counts."""

    dst: Registry
    con: Any
    origin: str
    derived_ok: bool
    mapped: dict[tuple[str, int], int] = field(default_factory=dict)  # source → dest version
    rows: int = 0
    tables: dict[str, int] = field(default_factory=dict)

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows or (table == "derived_statistics" and not self.derived_ok):
            return
        n = _insert(self.con, table, rows, _columns(self.con, table))
        self.rows += n
        self.tables[table] = self.tables.get(table, 0) + n

    def install(
        self, row: Mapping[str, Any], columns: Sequence[str], derived: Sequence[Any]
    ) -> None:
        """Install (inside this transaction) the blobs a row and its derived statistics name."""
        digests = [row[c] for c in columns if row.get(c)] + [
            d["blob"] for d in derived if d.get("blob")
        ]
        for digest in digests:
            self.dst.objects.install(str(digest))

    def dataset(self, ds: _Dataset) -> CopiedVersion:
        """The dataset version on the destination: found by fingerprint, or inserted."""
        name, version = str(ds.row["name"]), int(ds.row["version"])
        _claim(self.con, name, "dataset", ds.row["created_at"])
        found = _find_dataset(self.con, ds.row)
        if found is not None:
            self.mapped[(name, version)] = found
            return CopiedVersion("dataset", name, version, found, False, ds.role)
        self.install(ds.row, (_DATASET_BLOB,), ds.derived)
        new = _next_version(self.con, "dataset_versions", name)
        self.mapped[(name, version)] = new
        row = dict(_with_origin(ds.row, f"{name}@{version} at {self.origin}"), version=new)
        self.insert("dataset_versions", [row])
        self.insert("column_profiles", [dict(p, version=new) for p in ds.profiles])
        self.insert("derived_statistics", [dict(d, version=new) for d in ds.derived])
        return CopiedVersion("dataset", name, version, new, True, ds.role)

    def model(self, bundle: _Bundle) -> CopiedVersion:
        """Insert the model version (its datasets copied first), renumbered for the lineage."""
        model, target = bundle.model, bundle.target
        assert model is not None
        _claim(self.con, target.name, "model", model["created_at"])
        self.install(model, _MODEL_BLOBS, bundle.derived)
        version = _next_version(self.con, "model_versions", target.name)
        row = dict(_with_origin(model, f"{target} at {self.origin}"), version=version)
        for part in ("train", "eval"):
            if model.get(f"{part}_dataset") and model.get(f"{part}_version") is not None:
                key = (str(model[f"{part}_dataset"]), int(model[f"{part}_version"]))
                row[f"{part}_version"] = self.mapped[key]
        self.insert("model_versions", [row])
        self.insert(
            "reference_predictions",
            [
                dict(p, model_version=version, dataset_version=self.mapped[key])
                for p in bundle.predictions
                if (key := (str(p["dataset"]), int(p["dataset_version"]))) in self.mapped
            ],
        )
        self.insert("derived_statistics", [dict(d, version=version) for d in bundle.derived])
        return CopiedVersion("model", target.name, target.version, version, True)


_Result = tuple[int, list[CopiedVersion], bool, dict[str, int], bool]


def _commit(dst: Registry, bundle: _Bundle, *, origin: str, alias: str | None, by: str) -> _Result:
    """One transaction on ``dst``: (version, versions, copied, rows by table, alias moved)."""

    def body(con: Any) -> _Result:
        target = bundle.target
        if bundle.model is not None:
            existing = _find_model(con, bundle.model)
            if existing is not None:  # pushed meanwhile by someone else: nothing to do
                return existing, [], False, {}, _alias(dst, con, target.name, alias, existing, by)
        copy = _Copy(dst, con, origin, _has_table(con, "derived_statistics"))
        versions = [copy.dataset(ds) for ds in bundle.datasets]
        if bundle.model is None:
            version, copied = versions[0].version, versions[0].copied
        else:
            versions.insert(0, copy.model(bundle))
            version, copied = versions[0].version, True
        moved = _alias(dst, con, target.name, alias, version, by)
        return version, versions, copied, dict(copy.tables), moved

    return dst._write_retry(body)


def _alias(dst: Registry, con: Any, name: str, alias: str | None, version: int, by: str) -> bool:
    if alias is None:
        return False
    previous = dst._set_alias(con, name, alias, version, by)
    return previous != version


# -- the operation ------------------------------------------------------------------------------


def _upload(src: Registry, dst: Registry, digests: Sequence[str]) -> tuple[list[str], int]:
    """Copy the blobs ``dst`` lacks, verified on the way; returns (staged digests, bytes)."""
    staged: list[str] = []
    sent = 0
    try:
        for digest in digests:
            if dst.objects.exists(digest):
                continue
            source = src.objects.verified_path(digest)
            tmp = dst.objects.temp_path()
            try:
                shutil.copyfile(source, tmp)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            sent += tmp.stat().st_size
            dst.objects.put_file(tmp, digest=digest)
            staged.append(digest)
    except BaseException:
        for digest in staged:
            dst.objects.discard(digest)
        raise
    return staged, sent


def transfer(
    ref: str,
    src: Registry,
    dst: Registry,
    *,
    action: str,
    alias: str | None = None,
    by: str = "",
) -> TransferReport:
    """Copy version ``ref`` of ``src`` (with what it references) into ``dst``; see the module."""
    if str(src.location) == str(dst.location):
        raise ConfigError(
            f"{action} copies between two registries, but both are {src.location}: name the "
            f"other one with {'--to' if action == 'push' else '--from'}."
        )
    if alias is not None:
        from modelbook.registry.refs import validate_alias

        validate_alias(alias)
    bundle = _read_bundle(src, ref)
    target = bundle.target
    # Already there? Then nothing is read or sent (an alias may still move).
    with dst.read() as con:
        existing = (
            _find_model(con, bundle.model)
            if bundle.model is not None
            else _find_dataset(con, bundle.datasets[0].row)
        )
    base: dict[str, Any] = {
        "action": action,
        "entry": target.kind,
        "name": target.name,
        "source": str(src.location),
        "destination": str(dst.location),
        "source_version": target.version,
        "alias": alias,
    }
    if existing is not None:
        moved = False
        if alias is not None:
            moved = dst._write_retry(lambda con: _alias(dst, con, target.name, alias, existing, by))
        return TransferReport(**base, version=existing, copied=False, alias_moved=moved)
    staged, sent = _upload(src, dst, bundle.blobs())
    with contextlib.ExitStack() as stack:
        for digest in staged:
            stack.callback(dst.objects.discard, digest)
        version, versions, copied, tables, moved = _commit(
            dst, bundle, origin=str(src.location), alias=alias, by=by
        )
    return TransferReport(
        **base,
        version=version,
        copied=copied,
        versions=tuple(versions),
        files=len(staged) if copied else 0,
        bytes=sent if copied else 0,
        rows=sum(tables.values()),
        alias_moved=moved,
        tables=tables,
    )
