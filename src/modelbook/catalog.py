"""The registry operations on models and datasets: register, load, show, resolve.

The facade (:mod:`modelbook.api`) and the engine (:mod:`modelbook.monitoring`,
:mod:`modelbook.version_diff`) both call these functions. This module sits below them: it never
imports ``api``, ``render``, ``display`` or IPython, so the import graph flows one way.
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
from modelbook.capture.datasets import (
    DEFAULT_TARGET,
    SUPPORTED_DATA,
    TableSource,
    is_dataset,
    label_array,
    label_name,
    to_arrow,
)
from modelbook.capture.models import SUPPORTED_MODELS, check_fitted, is_model
from modelbook.errors import (
    DataError,
    InvalidNameError,
    RegistryError,
    RegistryPermissionError,
    RegistryVersionError,
    UnsupportedObjectError,
)
from modelbook.registry import (
    Ref,
    Registry,
    Resolved,
    parse_ref,
    validate_alias,
    validate_name,
)
from modelbook.registry.store import now
from modelbook.results import DatasetVersion, ModelVersion

if TYPE_CHECKING:
    from modelbook.stats.estimation import EstimationState
    from modelbook.stats.profile import TableProfile

__all__ = [
    "StoredEstimation",
    "dataset_path",
    "dataset_profile",
    "load",
    "open_registry",
    "register",
    "resolve",
    "show",
    "stored_estimation",
]

PathLike = str | os.PathLike[str]


def open_registry(registry: PathLike | None = None) -> Registry:
    """The registry to use for one call (a folder, a team URL, or a ``Registry.location``)."""
    from modelbook.registry import find_location

    return Registry(find_location(registry))


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
    eval_data: object = None,
    eval_target: object = None,
    eval_scores: str | Sequence[str] | None = None,
    registry: PathLike | None = None,
) -> ModelVersion | DatasetVersion:
    """Store a model or a dataset as a new version and return what was stored.

    Models (anything with ``predict``) may come with ``data`` (and ``target``): that training
    data is registered as the dataset ``<name>-training`` and linked as the model's lineage,
    and its columns become the model's input signature. Datasets are stored as Parquet; data
    identical to a stored version of the same name returns that version instead of a new one.

    ``eval_data`` (labels in ``eval_target``: the labels, or a column of ``eval_data``) is a
    held-out evaluation set, stored as the dataset ``<name>-eval``: the model is scored on it
    once (the measured metrics are stored beside ``metrics``) and performance estimation is
    fitted on it. ``eval_scores`` names columns of ``eval_data`` holding the model's outputs
    (P(positive), one probability per class, or a regressor's prediction) for a model served
    elsewhere: then ``predict`` is not called on the evaluation set.
    """
    reg = open_registry(registry)
    # Every argument is checked here, before anything is read or written, so the magics, the
    # CLI and the API refuse the same things with the same messages.
    tags = _check_tags(tag)
    if notes is not None and not isinstance(notes, str):
        raise DataError(f"notes= must be a string; got {type(notes).__name__} {notes!r}.")
    if alias is not None:
        validate_alias(alias)
    if is_model(obj) and not is_dataset(obj):
        if name is None:
            raise InvalidNameError("a model needs a name: pass name='churn' (--name churn).")
        validate_name(name)
        metric_values = _check_metrics(metrics)
        if data is None and target is not None:
            raise DataError("target= needs data=: pass the training data the labels belong to.")
        if eval_data is None and eval_target is not None:
            raise DataError(
                "eval_target= needs eval_data=: pass the evaluation data the labels belong to."
            )
        if eval_data is None and eval_scores is not None:
            raise DataError(
                "eval_scores= needs eval_data=: pass the evaluation data whose columns hold the "
                "model's outputs."
            )
        from modelbook.evaluation import score_columns

        scores = score_columns(eval_scores)
        check_fitted(obj)
        return _register_model(
            reg,
            obj,
            name=name,
            data=data,
            target=target,
            metrics=metric_values,
            tags=tags,
            notes=notes,
            alias=alias,
            eval_data=eval_data,
            eval_target=eval_target,
            eval_scores=scores,
        )
    if is_dataset(obj):
        if data is not None:
            raise DataError("data= is for models; to register a dataset pass it as the object.")
        if eval_data is not None or eval_target is not None or eval_scores is not None:
            raise DataError(
                "eval_data=, eval_target= and eval_scores= are for models: a dataset is not scored."
            )
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
    out: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise DataError(f"tag names must be non-empty strings; got {key!r}.")
        if not isinstance(value, str):
            raise DataError(
                f"tag {key!r} must be a string; got {type(value).__name__} {value!r}: write "
                f"{{{key!r}: {str(value)!r}}}."
            )
        out[key] = value
    return out


def _check_metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    import math
    import numbers

    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise DataError("metrics= must be a mapping of names to numbers, e.g. {'auc': 0.91}.")
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if not isinstance(key, str) or not key:
            raise DataError(f"metric names must be non-empty strings; got {key!r}.")
        if isinstance(value, bool) or (
            type(value).__module__ == "numpy" and type(value).__name__ in {"bool", "bool_"}
        ):
            raise DataError(
                f"metric {key!r} is {bool(value)}, not a number: give a number, e.g. "
                f"{{{key!r}: 0.91}}."
            )
        if not isinstance(value, numbers.Real):
            raise DataError(f"metric {key!r} is not a number: {value!r}.")
        number = float(value)
        if not math.isfinite(number):
            raise DataError(
                f"metric {key!r} is {number}: give a finite number (leave out a metric that "
                "could not be computed)."
            )
        out[key] = number
    return out


def _with_target(source: TableSource, target: object, what: str) -> tuple[TableSource, str | None]:
    """Append the label column to an in-memory table; returns (source, target column name).

    Labels keep their own name (a named Series); labels without one (an unnamed Series, an
    array, a list) become the column ``target``; a name the data already has gets ``_target``.
    """
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
    labels = label_array(target)
    if len(labels) != table.num_rows:
        raise DataError(
            f"target has {len(labels):,} labels but {what} has {table.num_rows:,} rows: pass "
            "the labels that belong to this data."
        )
    column_name = label_name(target) or DEFAULT_TARGET
    while column_name in table.column_names:
        column_name = f"{column_name}_target"
    table = table.append_column(pa.field(column_name, labels.type), labels)
    return dataclasses.replace(source, table=table), column_name


@dataclasses.dataclass
class _Incoming:
    """Data on its way in: fingerprinted first; written and profiled only when new."""

    source: TableSource
    name: str
    target: str | None
    fingerprint: str
    n_rows: int
    schema: Any
    parquet: Path | None = None  # a file source copied to Parquet (temporary)

    def discard(self) -> None:
        if self.parquet is not None:
            self.parquet.unlink(missing_ok=True)
            self.parquet = None


def _incoming(reg: Registry, source: TableSource, *, name: str, target: object) -> _Incoming:
    from modelbook.capture.datasets import (
        copy_file_to_parquet,
        fingerprint_batches,
        parquet_fingerprint,
    )

    source, target_name = _with_target(source, target, f"dataset {name!r}")
    if source.table is not None:
        table = source.table
        fingerprint = fingerprint_batches(table.schema, [table])
        return _Incoming(source, name, target_name, fingerprint, table.num_rows, table.schema)
    reg.ensure_writable()
    tmp = reg.objects.temp_path(".parquet")
    try:
        copy_file_to_parquet(source, tmp)
        fingerprint, n_rows, schema = parquet_fingerprint(tmp)
        if n_rows == 0:
            raise DataError(f"{source.label} is empty: there is nothing to store.")
        if target_name is not None and target_name not in schema.names:
            raise DataError(f"target column {target_name!r} is not in {source.label}.")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _Incoming(source, name, target_name, fingerprint, n_rows, schema, parquet=tmp)


def _put_parquet(
    reg: Registry, tmp: Path, writing: concurrent.futures.Future[Any] | None
) -> tuple[int, str]:
    """Stage the Parquet file once written: (its size, its digest)."""
    if writing is not None:
        writing.result()
    size = tmp.stat().st_size
    return size, reg.objects.put_file(tmp)


def _stage(
    reg: Registry,
    incoming: _Incoming,
    *,
    tags: Mapping[str, str] | None = None,
    notes: str | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Write the Parquet blob (staged, not yet committed) and profile it: (row, profile rows)."""
    from modelbook.capture.datasets import write_parquet
    from modelbook.stats.multivariate import reference_json
    from modelbook.stats.profile import profile_table

    reg.ensure_writable()
    tmp, incoming.parquet = incoming.parquet, None
    exclude = [incoming.target] if incoming.target else []  # labels are not batch inputs
    staging: concurrent.futures.Future[tuple[int, str]] | None = None
    try:
        # Writing, the multivariate (PCA) statistics of a sample, the profile and staging the
        # blob (hashing and fsync; for a team registry, the upload) overlap.
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            if tmp is None:
                table = incoming.source.table
                assert table is not None
                tmp = reg.objects.temp_path(".parquet")
                writing = pool.submit(write_parquet, table, tmp)
                fitting = pool.submit(reference_json, table, exclude=exclude)
                staging = pool.submit(_put_parquet, reg, tmp, writing)
                profile = profile_table(table)
            else:
                staging = pool.submit(_put_parquet, reg, tmp, None)
                fitting = pool.submit(reference_json, tmp, exclude=exclude)
                profile = profile_table(tmp)
            multivariate = fitting.result()
            size, blob = staging.result()
    except BaseException:
        if staging is not None and staging.done() and staging.exception() is None:
            reg.objects.discard(staging.result()[1])  # staged, never to be committed
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    row = {
        "name": incoming.name,
        "fingerprint": incoming.fingerprint,
        "blob": blob,
        "size_bytes": size,
        "n_rows": incoming.n_rows,
        "n_columns": len(incoming.schema.names),
        "source": incoming.source.label,
        "target": incoming.target,
        "tags": json.dumps(dict(tags or {})),
        "notes": notes,
        "created_at": now(),
        "created_by": env.current_user(),
        "multivariate": multivariate,
    }
    return row, [_profile_row(c) for c in profile.columns]


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
    incoming = _incoming(reg, source, name=name, target=target)
    try:
        existing = reg.find_dataset(name, incoming.fingerprint)
        if existing is not None:
            return _reuse_dataset(reg, name, existing, alias)
        row, profiles = _stage(reg, incoming, tags=tags, notes=notes)
    finally:
        incoming.discard()
    version = reg.add_dataset_version(row, profiles)
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
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    notes: str | None,
    alias: str | None,
    eval_data: object = None,
    eval_target: object = None,
    eval_scores: tuple[str, ...] | None = None,
) -> ModelVersion:
    """All or nothing: the model is serialised, its training and evaluation data written and
    what estimation needs fitted (all staged) before anything is committed; then everything
    goes into the registry in one transaction.

    A model identical to a stored version (class, parameters, learned state, training data
    and evaluation set; see :func:`~modelbook.capture.models.model_identity`) returns that
    version.
    """
    from modelbook.capture.models import model_identity, serialize
    from modelbook.evaluation import Evaluation, evaluate

    training = f"{name}-training"
    evaluation = f"{name}-eval"
    if data is not None or eval_data is not None:  # before any work: names the commit refuses
        if reg.kind_of(name) == "dataset":
            raise InvalidNameError(
                f"{name!r} is already a dataset; register the model under another name."
            )
        for what, linked, given in (
            ("training", training, data),
            ("evaluation", evaluation, eval_data),
        ):
            if given is not None and reg.kind_of(linked) == "model":
                raise InvalidNameError(
                    f"{linked!r} is already a model, so the {what} data of {name!r} cannot be "
                    "stored under that name; register the model under another name."
                )
    incoming: _Incoming | None = None
    evaluated: _Incoming | None = None
    staged: list[str] = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            # The identity first (cheap: a hash of the model's state and the data's
            # fingerprint): an identical model stored before is returned without serialising.
            structure = pool.submit(model_identity, model)
            if data is not None:
                incoming = _incoming(reg, to_arrow(data, what="data"), name=training, target=target)
            if eval_data is not None:
                evaluated = _eval_incoming(
                    reg, eval_data, eval_target, name=evaluation, training=incoming
                )
            identity = _identity(structure.result(), incoming, evaluated, eval_scores)
            if identity is not None:
                existing = _find_model(reg, name, identity)
                if existing is not None:
                    return _reuse_model(reg, name, existing, alias)
            # Serialising (Python-bound) overlaps writing and profiling the training data
            # (Parquet and numpy work release the GIL).
            serializing = pool.submit(serialize, model)
            scored: Evaluation | None = None
            if evaluated is not None:  # scored once, before anything is written
                assert evaluated.target is not None
                scored = evaluate(
                    model,
                    _table_of(evaluated),
                    target=evaluated.target,
                    inputs=_model_inputs(model, incoming),
                    scores=eval_scores,
                )
            train_row: tuple[dict[str, Any], list[dict[str, Any]]] | None = None
            train_version: int | None = None
            columns: Sequence[Mapping[str, Any]] = ()
            if incoming is not None:
                train_version = reg.find_dataset(training, incoming.fingerprint)
                if train_version is None:
                    train_row = _stage(reg, incoming)
                    staged.append(train_row[0]["blob"])
                    columns = train_row[1]
                else:
                    columns = _dataset_result(reg, training, train_version).columns
            eval_row: tuple[dict[str, Any], list[dict[str, Any]]] | None = None
            eval_version: int | None = None
            if evaluated is not None:
                eval_version = reg.find_dataset(evaluation, evaluated.fingerprint)
                if eval_version is None:
                    eval_row = _stage(reg, evaluated)
                    staged.append(eval_row[0]["blob"])
            serialized = serializing.result()
        blob = reg.objects.put_bytes(serialized.payload)
        staged.append(blob)
        fitted: list[str] = []  # the estimation state and the loss model, staged like the model
        estimator = loss_model = None
        if scored is not None and scored.state is not None:
            estimator = reg.objects.put_bytes(scored.state)
            fitted.append(estimator)
        if scored is not None and scored.loss_model is not None:
            loss_model = reg.objects.put_bytes(scored.loss_model)
            fitted.append(loss_model)
        staged.extend(fitted)
        commit, dirty = env.capture_git()
        signature = _signature(model, columns, incoming.target) if incoming is not None else None
        row = {
            "name": name,
            "flavor": serialized.flavor,
            "class_name": serialized.class_name,
            "blob": blob,
            "size_bytes": len(serialized.payload),
            "trusted": serialized.trusted,
            "params": json.dumps(serialized.params),
            "metrics": json.dumps(dict(metrics)),
            "signature": json.dumps(signature) if signature is not None else None,
            "train_dataset": training if incoming is not None else None,
            "train_version": train_version,
            "eval_dataset": evaluation if evaluated is not None else None,
            "eval_version": eval_version,
            "measured_metrics": json.dumps(scored.measured) if scored is not None else None,
            "estimator": estimator,
            "loss_model": loss_model,
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
        version, _train, reused = reg.commit_model(
            row,
            alias=alias,
            by=env.current_user(),
            identity=identity,
            training=train_row,
            evaluation=eval_row,
            blobs=tuple(fitted),
        )
        staged.clear()
    finally:
        if incoming is not None:
            incoming.discard()
        if evaluated is not None:
            evaluated.discard()
        for digest in staged:  # staged but never committed (a failure above)
            reg.objects.discard(digest)
    if reused:
        return _reuse_model(reg, name, version, None)
    return _model_result(reg, name, version, with_changes=True)


def _find_model(reg: Registry, name: str, identity: str) -> int | None:
    """The stored version with this identity, looked up before any work; None when unsure.

    Only a shortcut: ``commit_model`` checks the identity again inside its transaction, so a
    read that fails here (a writer checkpointing the file at that moment) costs time, never a
    duplicate version.
    """
    try:
        return reg.find_model(name, identity)
    except RegistryError as exc:
        if isinstance(exc, (RegistryVersionError, RegistryPermissionError)):
            raise
        return None


def _identity(
    structure: str | None,
    incoming: _Incoming | None,
    evaluated: _Incoming | None = None,
    scores: tuple[str, ...] | None = None,
) -> str | None:
    """The model's identity: its structure digest, its training data's fingerprint and (when
    given) its evaluation set's; without one the identity is what it was before issue 11."""
    if structure is None:
        return None
    import xxhash

    data = incoming.fingerprint if incoming is not None else "none"
    target = incoming.target if incoming is not None else None
    text = f"{structure}|data={data}|target={target}"
    if evaluated is not None:
        text += f"|eval={evaluated.fingerprint}|eval_target={evaluated.target}"
        text += f"|eval_scores={','.join(scores or ())}"
    return "xxh3:" + xxhash.xxh3_128(text.encode()).hexdigest()


def _eval_incoming(
    reg: Registry, eval_data: object, eval_target: object, *, name: str, training: _Incoming | None
) -> _Incoming:
    """The evaluation set on its way in, its labels checked (``eval_target``, or a column of
    the training target's name), and refused when it is the training data."""
    source = to_arrow(eval_data, what="eval_data")
    table = source.table
    if isinstance(eval_target, str):
        if table is not None and eval_target not in table.column_names:
            raise DataError(
                f"eval_target column {eval_target!r} is not in eval_data; columns: "
                f"{', '.join(table.column_names[:20])}."
            )
    elif eval_target is not None:
        if table is None:
            raise DataError(
                f"eval_target= for a file must name one of its columns ({source.label})."
            )
        labels = label_array(eval_target, what="eval_target", looked_in="eval_data")
        if len(labels) != table.num_rows:
            raise DataError(
                f"eval_target has {len(labels):,} labels but eval_data has {table.num_rows:,} "
                "rows: pass the labels that belong to the evaluation data."
            )
    evaluated = _incoming(reg, source, name=name, target=eval_target)
    try:
        if evaluated.target is None:
            guess = training.target if training is not None else None
            if guess is None or guess not in evaluated.schema.names:
                raise DataError(
                    "eval_data needs its labels: pass eval_target= (the labels, or the name of "
                    "their column in eval_data)."
                )
            evaluated.target = guess
        if training is not None and _same_rows(training, evaluated):
            raise DataError(
                "eval_data is the training data: training data is not a substitute for an "
                "evaluation set (metrics measured on it are optimistic and a calibrator fitted "
                "on it is biased); pass held-out rows the model never saw, e.g. a validation "
                "split (X_val, y_val)."
            )
    except BaseException:
        evaluated.discard()
        raise
    return evaluated


def _same_rows(training: _Incoming, evaluated: _Incoming) -> bool:
    """Whether the evaluation set is the training data (labels aside)."""
    if training.fingerprint == evaluated.fingerprint:
        return True
    a, b = training.source.table, evaluated.source.table
    if a is None or b is None or a.num_rows != b.num_rows:
        return False
    from modelbook.capture.datasets import fingerprint_batches

    features = [c for c in a.column_names if c != training.target]
    if not features or any(c not in b.column_names for c in features):
        return False
    a, b = a.select(features), b.select(features)
    return fingerprint_batches(a.schema, [a]) == fingerprint_batches(b.schema, [b])


def _table_of(incoming: _Incoming) -> Any:
    """The data as an Arrow table (a file source: the Parquet copy, read once)."""
    if incoming.source.table is not None:
        return incoming.source.table
    import pyarrow.parquet as pq

    assert incoming.parquet is not None
    return pq.read_table(incoming.parquet)


def _model_inputs(model: object, incoming: _Incoming | None) -> list[str] | None:
    """The model's input columns: ``feature_names_in_``, else the training data's columns."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    if incoming is not None:
        return [str(n) for n in incoming.schema.names if n != incoming.target]
    return None


def _reuse_model(reg: Registry, name: str, version: int, alias: str | None) -> ModelVersion:
    if alias is not None:
        reg.set_alias(Ref(name, version=version), alias, by=env.current_user())
    return dataclasses.replace(_model_result(reg, name, version), reused=True)


def _signature(
    model: object, columns: Sequence[Mapping[str, Any]], target: str | None
) -> dict[str, Any]:
    """Input columns with types, ranges and categories, from the training data's profile.

    The training dataset's reference is added when the version is read (``_model_from_row``):
    its version is only known inside the transaction that stores both.
    """
    inputs = []
    for c in columns:
        if c["name"] == target:
            continue
        categorical = c["kind"] in {"categorical", "boolean"}
        inputs.append(
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
        "target": target,
        "columns": inputs,
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
    signature = json.loads(row["signature"]) if row["signature"] else None
    if signature is not None and train is not None:
        signature = {"dataset": train, **signature}
    return ModelVersion(
        name=row["name"],
        version=int(row["version"]),
        flavor=row["flavor"],
        class_name=row["class_name"],
        size_bytes=int(row["size_bytes"]),
        trusted=bool(row["trusted"]),
        params=json.loads(row["params"]),
        metrics=json.loads(row["metrics"]),
        signature=signature,
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
        evaluation=_evaluation_ref(row),
        measured_metrics=json.loads(row.get("measured_metrics") or "{}"),
    )


def _evaluation_ref(row: Mapping[str, Any]) -> str | None:
    """``<name>-eval@<v>`` of a model_versions row (None: no evaluation set; older schemas)."""
    if not row.get("eval_dataset"):
        return None
    return f"{row['eval_dataset']}@{row['eval_version']}"


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
    if old.evaluation != new.evaluation:
        changes.append(f"evaluation set: {old.evaluation} → {new.evaluation}")
    if not changes:
        changes.append(f"no parameter, metric or data change since v{old.version}")
    return tuple(changes)


@dataclasses.dataclass(frozen=True)
class StoredEstimation:
    """What estimation fitted on a model version's evaluation set at registration."""

    state: EstimationState
    loss_model: Any | None  # the regression loss model (HistGradientBoostingRegressor)
    evaluation: str  # "<name>-eval@<v>"
    measured: Mapping[str, float]  # metrics measured on the evaluation set at registration


_ESTIMATION_CACHE: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def stored_estimation(reg: Registry, row: Mapping[str, Any]) -> StoredEstimation | None:
    """The estimation fitted at registration of this model version (a model_versions row),
    blobs hash-verified on read; None when the version has no evaluation set (or one on which
    nothing could be fitted: a classifier without probabilities).

    Never refitted: a monitor run estimates from what was stored, so the same batch gets the
    same estimate whenever it is checked. The loss model loads with skops, scikit-learn types
    only (it is our own HistGradientBoostingRegressor; anything else is refused).
    """
    digest = row.get("estimator")
    if not digest:
        return None
    from modelbook.capture.models import deserialize
    from modelbook.stats.estimation import EstimationState

    what = f"model {row['name']}@{row['version']}"
    key = (str(reg.home), str(digest), str(row.get("loss_model") or ""))
    loaded = _ESTIMATION_CACHE.get(key)
    if loaded is None:
        # Content-addressed and verified once: a timeline's chunks (and a scheduled run's
        # repeated calls) reuse the loaded state and loss model instead of deserialising again.
        state = EstimationState.from_bytes(reg.objects.read_verified(digest))
        loss_model = None
        if row.get("loss_model"):
            payload = reg.objects.read_verified(row["loss_model"])
            loss_model = deserialize(
                "sklearn", payload, trust=False, what=f"the loss model of {what}"
            )
        if len(_ESTIMATION_CACHE) >= 8:
            _ESTIMATION_CACHE.pop(next(iter(_ESTIMATION_CACHE)))
        loaded = _ESTIMATION_CACHE[key] = (state, loss_model)
    state, loss_model = loaded
    return StoredEstimation(
        state=state,
        loss_model=loss_model,
        evaluation=_evaluation_ref(row) or "",
        measured=json.loads(row.get("measured_metrics") or "{}"),
    )


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
