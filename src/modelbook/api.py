"""The one Python API. Magics and the CLI are thin shells over these functions.

Every function takes ``registry=`` (a path) to override the registry for one call; otherwise the
registry is found as described in :mod:`modelbook.registry.paths`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelbook import catalog
from modelbook.capture import environment as env
from modelbook.errors import ConfigError, InvalidNameError, NotFoundError
from modelbook.registry import (
    Location,
    Registry,
    Resolved,
    find_home,
    find_location,
    parse_ref,
    set_session_home,
    validate_alias,
    validate_name,
)
from modelbook.results import (
    AliasChange,
    CheckProblem,
    CheckReport,
    DatasetVersion,
    GcReport,
    Listing,
    ModelVersion,
    json_objects,
)

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from modelbook.late_labels import FeedbackReport
    from modelbook.monitoring.challenger import ChallengerComparison
    from modelbook.monitoring.report import MonitorReport
    from modelbook.monitoring.timeline import MonitorTimeline
    from modelbook.policies import PolicyStatus
    from modelbook.registry.team import InitResult
    from modelbook.results import TransferReport
    from modelbook.run_history import HistoryReport
    from modelbook.stats.profile import TableProfile
    from modelbook.version_diff import DatasetDiff, ModelDiff

__all__ = [
    "alias",
    "alias_history",
    "check",
    "feedback",
    "gc",
    "history",
    "init",
    "load",
    "ls",
    "monitor",
    "open_registry",
    "policy_status",
    "pull",
    "push",
    "register",
    "requirements",
    "rollback",
    "show",
    "use",
    "where",
]

PathLike = str | os.PathLike[str]


def open_registry(registry: PathLike | None = None) -> Registry:
    """The registry to use for one call."""
    return Registry(find_location(registry))


def init(registry: PathLike | None = None, *, objects: str | None = None) -> InitResult:
    """Create the registry's tables (or migrate them to this modelbook's schema).

    ``registry``: a ``postgresql://`` URL (a team registry; the database must exist) or a
    folder; default: the registry calls would use now. ``objects``: where a team registry's
    files go (a shared folder or ``s3://bucket/prefix``), recorded in the registry so every
    member finds it. Running it again is harmless; a newer schema is refused
    (:class:`~modelbook.errors.RegistryVersionError`).
    """
    from modelbook.registry.team import init_registry

    return init_registry(find_location(registry), objects=objects)


def use(path: PathLike | None) -> Path | Location | None:
    """Use the registry at ``path`` for the rest of this session (None: back to discovery).

    ``path`` is a registry folder, or one to create on the first registration; a file is
    refused (:class:`~modelbook.errors.ConfigError`). A ``postgresql://`` URL uses a team
    registry: its :class:`~modelbook.registry.Location` is returned (shown without password).
    """
    home = set_session_home(path)
    return find_location() if home is not None and find_location().is_team else home


def where(*, registry: PathLike | None = None) -> Path | Location:
    """The registry folder that calls would use now (ConfigError if that path is a file); a
    team registry's Location (its str is the URL without password)."""
    from modelbook.registry.paths import check_home

    location = find_location(registry)
    if location.is_team:
        return location
    return check_home(find_home(registry))


# -- register and read (the operations live in modelbook.catalog) ------------------------------


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

    ``eval_data`` with ``eval_target`` (the labels, or a column of ``eval_data``) is a held-out
    evaluation set, stored as ``<name>-eval``: the model is scored on it once (measured metrics,
    stored beside ``metrics``; ``quality.*`` checks compare with them) and performance
    estimation is fitted on it. ``eval_scores`` names columns of ``eval_data`` holding the
    outputs of a model served elsewhere (then ``predict`` is not called on it).
    """
    return catalog.register(
        obj,
        name=name,
        data=data,
        target=target,
        metrics=metrics,
        tag=tag,
        notes=notes,
        alias=alias,
        eval_data=eval_data,
        eval_target=eval_target,
        eval_scores=eval_scores,
        registry=registry,
    )


def show(ref: str, *, registry: PathLike | None = None) -> ModelVersion | DatasetVersion:
    """The stored version ``ref`` names (``churn``, ``churn@3``, ``churn@production``)."""
    return catalog.show(ref, registry=registry)


def resolve(ref: str, *, kind: str | None = None, registry: PathLike | None = None) -> Resolved:
    """Resolve a reference to (kind, name, version)."""
    return catalog.resolve(ref, kind=kind, registry=registry)


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
    return catalog.load(ref, trust=trust, format=format, registry=registry)


def dataset_path(ref: str, *, registry: PathLike | None = None) -> Path:
    """The verified Parquet file of a dataset version (for DuckDB queries over stored data)."""
    return catalog.dataset_path(ref, registry=registry)


def dataset_profile(ref: str, *, registry: PathLike | None = None) -> TableProfile:
    """The stored per-column profile of a dataset version."""
    return catalog.dataset_profile(ref, registry=registry)


# -- listing, aliases, environment, gc ----------------------------------------------------------


def ls(name: str | None = None, *, registry: PathLike | None = None) -> Listing:
    """Every model and dataset, or the versions of ``name``."""
    reg = open_registry(registry)
    reg.require()  # a path holding no registry is an error (a typo), not "nothing yet"
    if name is None:
        rows = reg.entries()
        return Listing(
            title=f"registry {reg.location}",
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
    # Formatted once per distinct value: a name's versions share their class, often their size.
    sizes = {size: _size(size) for size in {r["size_bytes"] for r in rows}}
    if rows[0]["kind"] == "model":
        classes = {c: str(c).rpartition(".")[2] for c in {r["class_name"] for r in rows}}
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
                    classes[r["class_name"]],
                    r["flavor"],
                    f"{r['train_dataset']}@{r['train_version']}" if r["train_dataset"] else "",
                    ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()),
                    sizes[r["size_bytes"]],
                    r["created_at"],
                    r["created_by"],
                )
                for r, metrics in zip(rows, json_objects([r["metrics"] for r in rows]), strict=True)
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
                sizes[r["size_bytes"]],
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
    """Who moved which alias when, from which version to which: the audit trail.

    An unknown ``name`` is a :class:`~modelbook.errors.NotFoundError` naming what exists.
    """
    reg = open_registry(registry)
    if not name:
        reg.require()
    rows = reg.alias_events(validate_name(name) if name else None)
    return Listing(
        title="alias history" + (f" of {name}" if name else ""),
        columns=("when", "name", "alias", "from", "to", "by", "reason", "runs"),
        rows=tuple(
            (
                r["changed_at"],
                r["name"],
                r["alias"],
                r["from_version"],
                r["to_version"],
                r["changed_by"],
                r.get("reason"),  # why a rollback moved it (issue 12)
                ", ".join(run[:8] for run in json.loads(r.get("trigger_runs") or "[]")) or None,
            )
            for r in rows
        ),
    )


def rollback(
    ref: str, *, reason: str | None = None, registry: PathLike | None = None
) -> AliasChange:
    """Move ``name@alias`` back to the version that held it before, from the alias trail.

    The same move a ``rollback`` policy makes, by hand: recorded with your user name and the
    reason. A :class:`~modelbook.errors.NotFoundError` when no earlier version held the alias.
    """
    from modelbook import policies

    reg = open_registry(registry)
    reg.require()
    parsed = parse_ref(ref)
    moved_from, moved_to = policies.rollback(reg, ref, by=env.current_user(), reason=reason)
    return AliasChange(name=parsed.name, alias=str(parsed.alias), version=moved_to,
                       previous=moved_from)  # fmt: skip


def policy_status(*, registry: PathLike | None = None) -> PolicyStatus:
    """Every rollback/retraining policy: its streak now, its last action, its cooldown left."""
    from modelbook import policies

    reg = open_registry(registry)
    reg.require()
    return policies.policy_status(reg)


def requirements(ref: str, *, registry: PathLike | None = None) -> str:
    """The environment recorded with a model version, as a pip requirements text."""
    reg = open_registry(registry)
    resolved = reg.resolve(parse_ref(ref), kind="model")
    row = reg.model_version(resolved.name, resolved.version)
    return env.requirements_text(
        json.loads(row["environment"]), header=f"environment of {resolved}"
    )


def gc(*, grace_seconds: float = 3600.0, registry: PathLike | None = None) -> GcReport:
    """Remove artifact files no version references, and temporary files of finished processes.

    Safe at any grace, also while other processes register: gc decides and deletes under the
    writers' lock, and a registration moves its files into place only inside the transaction
    that commits them; temporary files of running processes are never touched. Files younger
    than ``grace_seconds`` (default one hour; ``0`` removes all garbage now) are kept anyway.
    A negative or non-numeric grace is a :class:`~modelbook.errors.ConfigError`.
    Prediction logs older than ``prediction_log_days`` (monitor settings: ``[tool.modelbook.
    monitor]`` or the registry's ``monitor.toml``) are removed first; model artifacts never are.
    """
    import math
    import numbers

    if (
        isinstance(grace_seconds, bool)
        or not isinstance(grace_seconds, numbers.Real)
        or math.isnan(grace_seconds)
        or grace_seconds < 0
    ):
        raise ConfigError(
            f"grace_seconds must be a number of seconds >= 0 (0 removes all garbage now), "
            f"not {grace_seconds!r}."
        )
    reg = open_registry(registry)
    reg.require()
    from modelbook.monitoring.inputs import read_rules

    log_days = read_rules(reg, None, None)[0].prediction_log_days
    removed, freed = reg.collect_garbage(grace_seconds=float(grace_seconds), log_days=log_days)
    return GcReport(removed, freed)


def push(
    ref: str, *, to: PathLike, alias: str | None = None, registry: PathLike | None = None
) -> TransferReport:
    """Copy version ``ref`` of this registry to the registry ``to`` (a folder or a
    ``postgresql://`` URL), with everything it references: training and evaluation data with
    their profiles, reference predictions, derived statistics and every file, hashes kept.

    What ``to`` holds already (the same model identity, the same data fingerprint) is not
    copied again; pushing a version that is there copies nothing and says so. The copy gets the
    destination's next version number and the tag ``origin``. ``alias`` points an alias of the
    destination at the copy. Files are uploaded first, then the rows in one transaction.
    """
    from modelbook.capture.environment import current_user
    from modelbook.registry.transfer import transfer

    src = open_registry(registry)
    src.require()
    return transfer(ref, src, open_registry(to), action="push", alias=alias, by=current_user())


def pull(
    ref: str, *, from_: PathLike, alias: str | None = None, registry: PathLike | None = None
) -> TransferReport:
    """Copy version ``ref`` of the registry ``from_`` (a folder or a ``postgresql://`` URL) into
    this registry: the mirror of :func:`push` (``--from`` on the command line)."""
    from modelbook.capture.environment import current_user
    from modelbook.registry.transfer import transfer

    src = open_registry(from_)
    src.require()
    return transfer(
        ref, src, open_registry(registry), action="pull", alias=alias, by=current_user()
    )


def check(*, registry: PathLike | None = None) -> CheckReport:
    """Verify the registry: every artifact file's hash and every reference between tables.

    Returns a :class:`~modelbook.results.CheckReport` (``report.ok``; ``report.problems``, each
    with what to do). It never changes the registry. When ``registry.duckdb`` is damaged, the
    artifact files are still verified (a file's name is its hash) and ``report.recovery`` says
    what can be recovered from them and what cannot.
    """
    from modelbook.registry.check import check_registry

    data = check_registry(open_registry(registry))
    return CheckReport(
        registry=data["registry"],
        metadata=data["metadata"],
        files_checked=data["files_checked"],
        bytes_checked=data["bytes_checked"],
        problems=tuple(CheckProblem(**p) for p in data["problems"]),
        notes=tuple(data["notes"]),
        counts=data["counts"],
        tables=data["tables"],
        recovery=data["recovery"],
        files=tuple(data["files"]),
    )


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


def feedback(
    model: str,
    *,
    labels: object,
    id: str,
    target: str,
    min_labels: int | None = None,
    registry: PathLike | None = None,
) -> FeedbackReport:
    """Join labels that arrived late to every stored prediction of ``model`` (all versions).

    ``labels``: a table or a Parquet/CSV path with the ``id`` column (the one the runs were
    monitored with, ``id=``) and the ``target`` column. Each run with newly labelled predictions
    gets its realized quality appended (``source='feedback'``; the run itself is never
    rewritten); runs report predictions, labelled, coverage and matched. Unmatched ids are
    counted and kept nowhere; duplicates are counted once; the same id with two values in one
    file is a :class:`~modelbook.errors.DataError`, across files the later wins (listed). The same
    labels twice change nothing. ``min_labels`` (default 100, ``[tool.modelbook.feedback]``):
    fewer labelled rows give ``insufficient``, never ``ok``.
    """
    from modelbook.late_labels import feedback as _feedback

    return _feedback(
        model, labels=labels, id=id, target=target, min_labels=min_labels, registry=registry
    )


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
    scores: str | Sequence[str] | None = None,
    predicted: str | None = None,
    time: str | None = None,
    chunk: int | str | None = None,
    multivariate: str | None = None,
    id: str | None = None,
    challenger: str | None = None,
    segments: Sequence[str | Sequence[str]] | None = None,
    sensitive: Sequence[str | Sequence[str]] | None = None,
    registry: PathLike | None = None,
) -> MonitorReport | MonitorTimeline | ChallengerComparison:
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
    ``scores`` / ``predicted``: for a model served elsewhere, the batch columns holding its
    outputs (binary: P(positive class); multiclass: one column per class in ``classes_`` order;
    the predicted class or value): used instead of calling ``predict``, never as input features.
    With an evaluation set registered (``eval_data=``), every run estimates performance without
    labels (``performance.estimated.<metric>``; ``report.estimated``).
    ``time`` / ``chunk``: monitor over time: the batch cut into chunks by calendar period of
    the ``time`` column (``chunk='month'``, ``'week'``, ``'1d'``, ``'6h'``, ``'quarter'``) or
    by rows (``chunk=5000``; in ``time`` order when given), one run per chunk, returned as a
    :class:`~modelbook.monitoring.timeline.MonitorTimeline` (one pass over the data).
    ``multivariate``: ``'pca'`` (the default: the batch's PCA reconstruction error against the
    reference band, ``drift.multivariate``), ``'classifier'`` (a domain classifier's AUC,
    ``drift.domain_classifier``), ``'both'`` or ``'off'``; over the rules' ``multivariate`` table.
    ``id``: the batch's id column (default: ``id_column`` of the monitor settings): the run
    keeps a prediction log, each row's id, prediction and score (and its ``time``, when
    ``time=`` is given without ``chunk=``), for labels that arrive later
    (:mod:`modelbook.prediction_log`). Ids must be unique integers or strings without nulls.
    ``challenger``: another model version (``'churn@candidate'``) scored on the same batch:
    two linked runs (roles champion / challenger, one batch id) and their comparison are
    stored, and a :class:`~modelbook.monitoring.challenger.ChallengerComparison` is returned
    (disagreement, |Δscore|, both distributions, latency, quality with n on the labelled rows,
    exact McNemar test, verdict better / worse / inconclusive). Not with ``chunk=``.
    ``segments``: slices to judge one by one, e.g. ``["region", ("region", "plan")]`` (a tuple
    is an intersection; default: ``segments`` of the monitor settings): per value, rows, drift
    against the same segment of the reference, prediction drift, quality with n, NaN/inf
    (``report.segments``; :mod:`~modelbook.monitoring.segments`). ``sensitive``: sensitive
    features for fairness measures, same shape (``report.fairness``; models only). Neither
    combines with ``chunk=`` or ``challenger=``.
    """
    from modelbook.monitoring.run import monitor as _monitor

    if (segments or sensitive) and (chunk is not None or (time is not None and id is None)):
        raise ConfigError(
            "segments=/sensitive= judge one batch; they do not combine with chunk= (monitor "
            "one chunk's batch with segments= instead)."
        )

    if challenger is not None and (chunk is not None or (time is not None and id is None)):
        raise ConfigError(
            "challenger= compares two versions on one batch; it does not combine with chunk= "
            "(monitor each chunk with challenger= instead)."
        )
    if chunk is not None or (time is not None and id is None):
        from modelbook.monitoring.multivariate import rules_with_method
        from modelbook.monitoring.timeline import monitor_timeline

        rules = rules_with_method(rules, multivariate)  # a timeline takes the rules only
        return monitor_timeline(
            ref,
            data=data,
            time=time,
            chunk=chunk,
            target=target,
            reference=reference,
            columns=columns,
            store=store,
            fail_on_alert=fail_on_alert,
            rules=rules,
            trust=trust,
            scores=scores,
            predicted=predicted,
            id=id,
            registry=registry,
        )
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
        scores=scores,
        predicted=predicted,
        multivariate=multivariate,
        id=id,
        time=time,
        challenger=challenger,
        segments=segments,
        sensitive=sensitive,
        registry=registry,
    )
