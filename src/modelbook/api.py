"""The one Python API. Magics and the CLI are thin shells over these functions.

Every function takes ``registry=`` (a path) to override the registry for one call; otherwise the
registry is found as described in :mod:`modelbook.registry.paths`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelbook.capture import environment as env
from modelbook.capture.datasets import SUPPORTED_DATA, TableSource, is_dataset, to_arrow
from modelbook.capture.models import SUPPORTED_MODELS, is_model
from modelbook.errors import DataError, InvalidNameError, NotFoundError, UnsupportedObjectError
from modelbook.registry import (
    Ref,
    Registry,
    Resolved,
    find_home,
    parse_ref,
    set_session_home,
    validate_alias,
    validate_name,
)
from modelbook.registry.store import now
from modelbook.results import AliasChange, DatasetVersion, GcReport, Listing, ModelVersion

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from modelbook.monitoring.report import MonitorReport
    from modelbook.run_history import HistoryReport
    from modelbook.stats.profile import TableProfile
    from modelbook.version_diff import DatasetDiff, ModelDiff

__all__ = [
    "alias",
    "alias_history",
    "gc",
    "history",
    "load",
    "ls",
    "monitor",
    "open_registry",
    "register",
    "requirements",
    "show",
    "use",
    "where",
]

PathLike = str | os.PathLike[str]


def open_registry(registry: PathLike | None = None) -> Registry:
    """The registry to use for one call."""
    return Registry(find_home(registry))


def use(path: PathLike | None) -> Path | None:
    """Use the registry at ``path`` for the rest of this session (None: back to discovery)."""
    return set_session_home(path)


def where(*, registry: PathLike | None = None) -> Path:
    """The registry folder that calls would use now."""
    return find_home(registry)


# -- register -----------------------------------------------------------------------------------


def register(
    obj: object,
    *,
    name: str | None = None,
    data: object = None,
    target: object = None,
    metrics: Mapping[str, float] | None = None,
    tag: Mapping[str, str] | None = None,
    notes: str | None = None,
    alias: str | None = None,
    registry: PathLike | None = None,
) -> ModelVersion | DatasetVersion:
    """Store a model or a dataset as a new version and return what was stored.

    Models (anything with ``predict``) may come with ``data`` (and ``target``): that training
    data is registered as the dataset ``<name>-training`` and linked as the model's lineage,
    and its columns become the model's input signature. Datasets are stored as Parquet; data
    identical to a stored version of the same name returns that version instead of a new one.
    """
    reg = open_registry(registry)
    tags = _check_tags(tag)
    if alias is not None:
        validate_alias(alias)
    if is_model(obj) and not is_dataset(obj):
        if name is None:
            raise InvalidNameError("a model needs a name: pass name='churn' (--name churn).")
        validate_name(name)
        return _register_model(
            reg,
            obj,
            name=name,
            data=data,
            target=target,
            metrics=metrics,
            tags=tags,
            notes=notes,
            alias=alias,
        )
    if is_dataset(obj):
        if data is not None:
            raise DataError("data= is for models; to register a dataset pass it as the object.")
        if metrics:
            raise DataError("metrics= is for models; a dataset has no metrics.")
        if name is None and isinstance(obj, (str, os.PathLike)):
            name = Path(obj).stem
        if name is None:
            raise InvalidNameError(
                "a dataset needs a name: pass name='customers' (--name customers)."
            )
        validate_name(name)
        source = to_arrow(obj, what=f"dataset {name!r}")
        return _register_dataset(
            reg, source, name=name, target=target, tags=tags, notes=notes, alias=alias
        )
    raise UnsupportedObjectError(
        f"cannot register a {type(obj).__module__}.{type(obj).__qualname__}: modelbook stores "
        f"models ({SUPPORTED_MODELS}) and datasets ({SUPPORTED_DATA})."
    )


def _check_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise DataError("tag= must be a mapping of strings, e.g. {'team': 'risk'}.")
    return {str(k): str(v) for k, v in tags.items()}


def _with_target(source: TableSource, target: object, what: str) -> tuple[TableSource, str | None]:
    """Append the label column to an in-memory table; returns (source, target column name)."""
    if target is None:
        return source, None
    import pyarrow as pa

    if source.table is None:
        if isinstance(target, str):  # a column of the file
            return source, target
        raise DataError(f"target= for a file must name one of its columns ({what}).")
    table = source.table
    if isinstance(target, str):
        if target not in table.column_names:
            raise DataError(
                f"target column {target!r} is not in {what}; columns: "
                f"{', '.join(table.column_names[:20])}."
            )
        return source, target
    label = to_arrow(target, what="target")
    assert label.table is not None
    if label.table.num_columns != 1:
        raise DataError(f"target must be one column; got {label.table.num_columns}.")
    if label.table.num_rows != table.num_rows:
        raise DataError(
            f"target has {label.table.num_rows:,} rows but {what} has {table.num_rows:,}: "
            "pass the labels that belong to this data."
        )
    column_name = getattr(target, "name", None)
    column_name = column_name if isinstance(column_name, str) and column_name else "target"
    if column_name in table.column_names:
        column_name = f"{column_name}_target"
    table = table.append_column(
        pa.field(column_name, label.table.schema.field(0).type), label.table.column(0)
    )
    return dataclasses.replace(source, table=table), column_name


def _register_dataset(
    reg: Registry,
    source: TableSource,
    *,
    name: str,
    target: object = None,
    tags: Mapping[str, str] | None = None,
    notes: str | None = None,
    alias: str | None = None,
) -> DatasetVersion:
    from modelbook.capture.datasets import (
        copy_file_to_parquet,
        fingerprint_batches,
        parquet_fingerprint,
        write_parquet,
    )
    from modelbook.stats.profile import profile_table

    source, target_name = _with_target(source, target, f"dataset {name!r}")
    reg.ensure_writable()
    tmp: Path | None = None
    try:
        if source.table is not None:
            table = source.table
            fingerprint = fingerprint_batches(table.schema, [table])
            existing = reg.find_dataset(name, fingerprint)
            if existing is not None:
                return _reuse_dataset(reg, name, existing, alias)
            tmp = reg.objects.temp_path(".parquet")
            n_rows, schema = table.num_rows, table.schema
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                writing = pool.submit(write_parquet, table, tmp)
                profile = profile_table(table)
                writing.result()
        else:
            tmp = reg.objects.temp_path(".parquet")
            copy_file_to_parquet(source, tmp)
            fingerprint, n_rows, schema = parquet_fingerprint(tmp)
            if n_rows == 0:
                raise DataError(f"{source.label} is empty: there is nothing to store.")
            if target_name is not None and target_name not in schema.names:
                raise DataError(f"target column {target_name!r} is not in {source.label}.")
            existing = reg.find_dataset(name, fingerprint)
            if existing is not None:
                return _reuse_dataset(reg, name, existing, alias)
            profile = profile_table(tmp)
        size = tmp.stat().st_size
        blob = reg.objects.put_file(tmp)
        tmp = None
        row = {
            "name": name,
            "fingerprint": fingerprint,
            "blob": blob,
            "size_bytes": size,
            "n_rows": n_rows,
            "n_columns": len(schema.names),
            "source": source.label,
            "target": target_name,
            "tags": json.dumps(dict(tags or {})),
            "notes": notes,
            "created_at": now(),
            "created_by": env.current_user(),
        }
        version = reg.add_dataset_version(row, [_profile_row(c) for c in profile.columns])
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    if alias is not None:
        reg.set_alias(Ref(name, version=version), alias, by=env.current_user())
    return _dataset_result(reg, name, version, with_changes=True)


def _reuse_dataset(reg: Registry, name: str, version: int, alias: str | None) -> DatasetVersion:
    if alias is not None:
        reg.set_alias(Ref(name, version=version), alias, by=env.current_user())
    return dataclasses.replace(_dataset_result(reg, name, version), reused=True)


def _profile_row(column: Any) -> dict[str, Any]:
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(column).items()
    }


def _register_model(
    reg: Registry,
    model: object,
    *,
    name: str,
    data: object,
    target: object,
    metrics: Mapping[str, float] | None,
    tags: Mapping[str, str],
    notes: str | None,
    alias: str | None,
) -> ModelVersion:
    from modelbook.capture.models import serialize

    if data is not None and reg.kind_of(name) == "dataset":  # before storing the training data
        raise InvalidNameError(
            f"{name!r} is already a dataset; register the model under another name."
        )
    metric_values = _check_metrics(metrics)
    if data is None and target is not None:
        raise DataError("target= needs data=: pass the training data the labels belong to.")
    train: DatasetVersion | None = None
    # Serialising (Python-bound) overlaps storing the training data (Parquet and numpy work
    # release the GIL), which roughly halves a registration with data.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        serializing = pool.submit(serialize, model)
        if data is not None:
            source = to_arrow(data, what="data")
            train = _register_dataset(reg, source, name=f"{name}-training", target=target)
        serialized = serializing.result()
    blob = reg.objects.put_bytes(serialized.payload)
    commit, dirty = env.capture_git()
    signature = _signature(model, train) if train is not None else None
    row = {
        "name": name,
        "flavor": serialized.flavor,
        "class_name": serialized.class_name,
        "blob": blob,
        "size_bytes": len(serialized.payload),
        "trusted": serialized.trusted,
        "params": json.dumps(serialized.params),
        "metrics": json.dumps(metric_values),
        "signature": json.dumps(signature) if signature is not None else None,
        "train_dataset": train.name if train else None,
        "train_version": train.version if train else None,
        "environment": json.dumps(env.capture_environment()),
        "code": env.capture_code(),
        "notebook": env.notebook_path(),
        "git_commit": commit,
        "git_dirty": dirty,
        "tags": json.dumps(dict(tags)),
        "notes": notes,
        "created_at": now(),
        "created_by": env.current_user(),
    }
    version = reg.add_model_version(row, alias=alias, by=env.current_user())
    return _model_result(reg, name, version, with_changes=True)


def _check_metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise DataError("metrics= must be a mapping of names to numbers, e.g. {'auc': 0.91}.")
    out: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError) as exc:
            raise DataError(f"metric {key!r} is not a number: {value!r}.") from exc
    return out


def _signature(model: object, train: DatasetVersion) -> dict[str, Any]:
    """Input columns with types, ranges and categories, from the training data's profile."""
    columns = []
    for c in train.columns:
        if c["name"] == train.target:
            continue
        categorical = c["kind"] in {"categorical", "boolean"}
        columns.append(
            {
                "name": c["name"],
                "type": c["arrow_type"],
                "kind": c["kind"],
                "nullable": c["nulls"] > 0,
                "min": c["min"],
                "max": c["max"],
                "categories": list(c["top_values"])
                if categorical and c["other_count"] == 0
                else None,
            }
        )
    feature_names = getattr(model, "feature_names_in_", None)
    return {
        "dataset": train.ref,
        "target": train.target,
        "columns": columns,
        "feature_names_in": [str(f) for f in feature_names] if feature_names is not None else None,
    }


# -- reading ------------------------------------------------------------------------------------


def _dataset_result(
    reg: Registry, name: str, version: int, *, with_changes: bool = False
) -> DatasetVersion:
    details = reg.details("dataset", name, version)
    row, columns = details["row"], tuple(details["profiles"])
    previous = details["previous"]
    changes: tuple[str, ...] = ()
    if with_changes and previous is not None:
        changes = _dataset_changes(
            previous, details["previous_profiles"], row, columns, int(previous["version"])
        )
    return DatasetVersion(
        name=name,
        version=version,
        fingerprint=row["fingerprint"],
        n_rows=int(row["n_rows"]),
        n_columns=int(row["n_columns"]),
        size_bytes=int(row["size_bytes"]),
        source=row["source"],
        target=row["target"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        tags=json.loads(row["tags"]),
        notes=row["notes"],
        aliases=tuple(details["aliases"]),
        columns=columns,
        changes=changes,
    )


def _dataset_changes(
    old: Mapping[str, Any],
    old_columns: Sequence[Mapping[str, Any]],
    new: Mapping[str, Any],
    new_columns: Sequence[Mapping[str, Any]],
    previous: int,
) -> tuple[str, ...]:
    changes = []
    delta = int(new["n_rows"]) - int(old["n_rows"])
    if delta:
        changes.append(
            f"rows: {int(old['n_rows']):,} → {int(new['n_rows']):,} ({delta:+,}) since v{previous}"
        )
    old_types = {c["name"]: c["arrow_type"] for c in old_columns}
    new_types = {c["name"]: c["arrow_type"] for c in new_columns}
    added = [c for c in new_types if c not in old_types]
    removed = [c for c in old_types if c not in new_types]
    retyped = [
        f"{c} ({old_types[c]} → {new_types[c]})"
        for c in new_types
        if c in old_types and old_types[c] != new_types[c]
    ]
    if added:
        changes.append(f"columns added: {', '.join(added)}")
    if removed:
        changes.append(f"columns removed: {', '.join(removed)}")
    if retyped:
        changes.append(f"columns retyped: {', '.join(retyped)}")
    if not changes:
        changes.append(f"same shape as v{previous}; values differ")
    return tuple(changes)


def _model_result(
    reg: Registry, name: str, version: int, *, with_changes: bool = False
) -> ModelVersion:
    details = reg.details("model", name, version)
    result = _model_from_row(details["row"], tuple(details["aliases"]))
    if with_changes and details["previous"] is not None:
        old = _model_from_row(details["previous"], ())
        result = dataclasses.replace(result, changes=_model_changes(old, result))
    return result


def _model_from_row(row: Mapping[str, Any], aliases: tuple[str, ...]) -> ModelVersion:
    train = f"{row['train_dataset']}@{row['train_version']}" if row["train_dataset"] else None
    return ModelVersion(
        name=row["name"],
        version=int(row["version"]),
        flavor=row["flavor"],
        class_name=row["class_name"],
        size_bytes=int(row["size_bytes"]),
        trusted=bool(row["trusted"]),
        params=json.loads(row["params"]),
        metrics=json.loads(row["metrics"]),
        signature=json.loads(row["signature"]) if row["signature"] else None,
        train_dataset=train,
        environment=json.loads(row["environment"]),
        code=row["code"],
        notebook=row["notebook"],
        git_commit=row["git_commit"],
        git_dirty=row["git_dirty"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        tags=json.loads(row["tags"]),
        notes=row["notes"],
        aliases=aliases,
    )


def _model_changes(old: ModelVersion, new: ModelVersion) -> tuple[str, ...]:
    changes = []
    if old.class_name != new.class_name:
        changes.append(f"class: {old.class_name} → {new.class_name}")
    changed = [
        f"{k}: {old.params.get(k)!r} → {new.params.get(k)!r}"
        for k in sorted(set(old.params) | set(new.params))
        if old.params.get(k) != new.params.get(k)
    ]
    if changed:
        changes.append(
            "parameters: " + "; ".join(changed[:10]) + (" …" if len(changed) > 10 else "")
        )
    for key in sorted(set(old.metrics) | set(new.metrics)):
        a, b = old.metrics.get(key), new.metrics.get(key)
        if a is not None and b is not None and a != b:
            changes.append(f"{key}: {a:.4g} → {b:.4g} ({b - a:+.4g})")
        elif a is None and b is not None:
            changes.append(f"{key}: new, {b:.4g}")
    if old.train_dataset != new.train_dataset:
        changes.append(f"training data: {old.train_dataset} → {new.train_dataset}")
    if not changes:
        changes.append(f"no parameter, metric or data change since v{old.version}")
    return tuple(changes)


def show(ref: str, *, registry: PathLike | None = None) -> ModelVersion | DatasetVersion:
    """The stored version ``ref`` names (``churn``, ``churn@3``, ``churn@production``)."""
    reg = open_registry(registry)
    resolved = reg.resolve(parse_ref(ref))
    if resolved.kind == "model":
        return _model_result(reg, resolved.name, resolved.version, with_changes=True)
    return _dataset_result(reg, resolved.name, resolved.version, with_changes=True)


def resolve(ref: str, *, kind: str | None = None, registry: PathLike | None = None) -> Resolved:
    """Resolve a reference to (kind, name, version)."""
    return open_registry(registry).resolve(parse_ref(ref), kind=kind)


def load(
    ref: str,
    *,
    trust: bool = False,
    format: str = "pandas",
    registry: PathLike | None = None,
) -> Any:
    """The model, or the dataset as a DataFrame (``format='arrow'``/``'polars'`` also work).

    The artifact's hash is verified before anything is read from it; pickled models need
    ``trust=True`` because unpickling can run arbitrary code.
    """
    reg = open_registry(registry)
    resolved = reg.resolve(parse_ref(ref))
    row = reg.version_row(resolved)
    if resolved.kind == "model":
        from modelbook.capture.models import deserialize

        payload = reg.objects.read_verified(row["blob"])
        return deserialize(row["flavor"], payload, trust=trust, what=f"model {resolved}")
    path = reg.objects.verified_path(row["blob"])
    return _read_table(path, format)


def _read_table(path: Path, format: str) -> Any:
    import pyarrow.parquet as pq

    if format not in {"pandas", "arrow", "polars"}:
        raise DataError(f"format={format!r} is not supported: use 'pandas', 'arrow' or 'polars'.")
    table = pq.read_table(path)
    if format == "arrow":
        return table
    if format == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table.to_pandas()


def dataset_path(ref: str, *, registry: PathLike | None = None) -> Path:
    """The verified Parquet file of a dataset version (for DuckDB queries over stored data)."""
    reg = open_registry(registry)
    resolved = reg.resolve(parse_ref(ref), kind="dataset")
    return reg.objects.verified_path(reg.dataset_version(resolved.name, resolved.version)["blob"])


def dataset_profile(ref: str, *, registry: PathLike | None = None) -> TableProfile:
    """The stored per-column profile of a dataset version."""
    from modelbook.stats.profile import ColumnProfile, TableProfile

    reg = open_registry(registry)
    resolved = reg.resolve(parse_ref(ref), kind="dataset")
    row = reg.dataset_version(resolved.name, resolved.version)
    columns = tuple(
        ColumnProfile(**_profile_kwargs(c))
        for c in reg.column_profiles(resolved.name, resolved.version)
    )
    return TableProfile(rows=int(row["n_rows"]), columns=columns)


def _profile_kwargs(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}


# -- listing, aliases, environment, gc ----------------------------------------------------------


def ls(name: str | None = None, *, registry: PathLike | None = None) -> Listing:
    """Every model and dataset, or the versions of ``name``."""
    reg = open_registry(registry)
    if name is None:
        rows = reg.entries()
        return Listing(
            title=f"registry {reg.home}",
            columns=("name", "kind", "versions", "latest", "aliases", "size", "updated"),
            rows=tuple(
                (
                    r["name"],
                    r["kind"],
                    r["versions"],
                    r["latest"],
                    r["aliases"] or "",
                    _size(r["size_bytes"]),
                    r["updated_at"],
                )
                for r in rows
            ),
        )
    validate_name(name)
    rows = reg.versions(name)
    if not rows:
        raise NotFoundError(f"no model or dataset named {name!r}.")
    if rows[0]["kind"] == "model":
        return Listing(
            title=f"model {name}",
            columns=(
                "version",
                "aliases",
                "class",
                "flavor",
                "trained on",
                "metrics",
                "size",
                "created",
                "by",
            ),
            rows=tuple(
                (
                    r["version"],
                    r["aliases"],
                    str(r["class_name"]).rpartition(".")[2],
                    r["flavor"],
                    f"{r['train_dataset']}@{r['train_version']}" if r["train_dataset"] else "",
                    _metrics_text(r["metrics"]),
                    _size(r["size_bytes"]),
                    r["created_at"],
                    r["created_by"],
                )
                for r in rows
            ),
        )
    return Listing(
        title=f"dataset {name}",
        columns=("version", "aliases", "rows", "columns", "size", "source", "created", "by"),
        rows=tuple(
            (
                r["version"],
                r["aliases"],
                r["n_rows"],
                r["n_columns"],
                _size(r["size_bytes"]),
                r["source"],
                r["created_at"],
                r["created_by"],
            )
            for r in rows
        ),
    )


def _size(size: Any) -> str:
    from modelbook.render.format import fmt_bytes

    return fmt_bytes(int(size)) if size is not None else ""


def _metrics_text(metrics_json: str) -> str:
    values = json.loads(metrics_json)
    return ", ".join(f"{k}={v:.4g}" for k, v in values.items())


def alias(ref: str, name: str, *, registry: PathLike | None = None) -> AliasChange:
    """Point alias ``name`` at the version ``ref`` names; recorded in the alias history."""
    validate_alias(name)
    reg = open_registry(registry)
    target, previous = reg.set_alias(parse_ref(ref), name, by=env.current_user())
    return AliasChange(name=target.name, alias=name, version=target.version, previous=previous)


def unalias(ref: str, *, registry: PathLike | None = None) -> AliasChange:
    """Remove the alias in ``name@alias``."""
    parsed = parse_ref(ref)
    if parsed.alias is None:
        raise InvalidNameError(f"{ref!r} names no alias: write NAME@ALIAS, e.g. churn@production.")
    reg = open_registry(registry)
    previous = reg.remove_alias(parsed.name, parsed.alias, by=env.current_user())
    return AliasChange(name=parsed.name, alias=parsed.alias, version=None, previous=previous)


def alias_history(name: str | None = None, *, registry: PathLike | None = None) -> Listing:
    """Who moved which alias when, from which version to which: the audit trail."""
    reg = open_registry(registry)
    rows = reg.alias_events(validate_name(name) if name else None)
    return Listing(
        title="alias history" + (f" of {name}" if name else ""),
        columns=("when", "name", "alias", "from", "to", "by"),
        rows=tuple(
            (
                r["changed_at"],
                r["name"],
                r["alias"],
                r["from_version"],
                r["to_version"],
                r["changed_by"],
            )
            for r in rows
        ),
    )


def requirements(ref: str, *, registry: PathLike | None = None) -> str:
    """The environment recorded with a model version, as a pip requirements text."""
    reg = open_registry(registry)
    resolved = reg.resolve(parse_ref(ref), kind="model")
    row = reg.model_version(resolved.name, resolved.version)
    return env.requirements_text(
        json.loads(row["environment"]), header=f"environment of {resolved}"
    )


def gc(*, grace_seconds: float = 3600.0, registry: PathLike | None = None) -> GcReport:
    """Remove blobs no version references (older than ``grace_seconds``, default one hour).

    The grace period protects blobs a concurrent registration has written but not committed.
    """
    reg = open_registry(registry)
    if not reg.exists():
        return GcReport(0, 0)
    removed, freed = reg.collect_garbage(grace_seconds=grace_seconds)
    return GcReport(removed, freed)


def history(
    ref: str,
    *,
    since: str | datetime | timedelta | None = None,
    limit: int | None = None,
    registry: PathLike | None = None,
) -> HistoryReport:
    """Every monitor run of a model or dataset, newest first: status, drift share, metrics.

    ``ref`` is a name (all versions) or one version (``churn@3``, ``churn@production``);
    ``since`` keeps recent runs (``'30d'``, ``'12h'``, a date); ``limit`` the newest N.
    """
    from modelbook.run_history import history as _history

    return _history(ref, since=since, limit=limit, registry=registry)


def diff(
    a: str | ModelVersion | DatasetVersion,
    b: str | ModelVersion | DatasetVersion,
    *,
    key: str | Sequence[str] | None = None,
    on: object = None,
    trust: bool = False,
    registry: PathLike | None = None,
) -> ModelDiff | DatasetDiff:
    """What changed from version ``a`` to ``b`` of a model or a dataset.

    Models: parameters, metrics, signature, environment, training code and training-data drift;
    ``on=`` an evaluation table adds prediction disagreement. Datasets: schema, rows, column
    statistics and drift; ``key=`` adds added/removed/changed rows (DuckDB over stored Parquet).
    """
    from modelbook.version_diff import diff as _diff

    return _diff(a, b, key=key, on=on, trust=trust, registry=registry)


def monitor(
    ref: str,
    *,
    data: object,
    target: object = None,
    reference: str | None = None,
    columns: Sequence[str] | None = None,
    store: str | None = None,
    fail_on_alert: bool = False,
    rules: Mapping[str, Any] | None = None,
    trust: bool = False,
    registry: PathLike | None = None,
) -> MonitorReport:
    """Check a batch against a model (or dataset) version and record the run.

    ``ref``: a model (``churn`` means its ``production`` alias if set, else the latest
    version) or a dataset version. ``data``: the batch (DataFrame, Arrow, polars, numpy, or a
    Parquet/CSV path, streamed and never loaded whole). ``target``: labels (an array, or the name
    of a batch column) for quality metrics. ``reference``: a dataset version to compare against
    instead of the model's training data. ``columns``: limit the column checks and drift to
    these. ``store``: ``'profile'`` (the run and its results; default), ``'data'`` (also the
    batch, as dataset ``<name>-batches``) or ``'none'``. ``rules``: alert rules, shaped like
    ``[tool.modelbook.monitor]`` (docs/monitoring.md), over pyproject.toml and monitor.toml.
    ``trust``: allow loading a pickled model. ``fail_on_alert``: raise
    :class:`~modelbook.errors.AlertError` (after storing) unless the run is ok.
    """
    from modelbook.monitoring.run import monitor as _monitor

    return _monitor(
        ref,
        data=data,
        target=target,
        reference=reference,
        columns=columns,
        store=store,
        fail_on_alert=fail_on_alert,
        rules=rules,
        trust=trust,
        registry=registry,
    )
