"""One monitor run: resolve, profile the batch once, run the check families, store one run.

The check families are modules with one signature, ``checks(ctx: RunContext) ->
list[CheckResult]`` (see :mod:`~modelbook.monitoring.context`), listed below in report order:
:data:`DATA_CHECKS` run for every target, :data:`MODEL_CHECKS` for a model version once it has
predicted the batch. A new family is a module and one line in one of the two lists.

Order matters for safety: everything is computed first and the registry is written once at
the end (the run and its checks in one transaction), so a failure anywhere leaves everything
already stored as it was. Bad input the user can fix (empty batch, labels of the wrong length,
unknown columns) raises a :class:`~modelbook.errors.DataError` before anything is written;
a model whose ``predict`` fails is a finding, recorded as a check with status ``error``.

A timeline (:mod:`~modelbook.monitoring.timeline`) runs the same pieces once per chunk: the
context built once (:func:`unprofiled_context`), each chunk profiled (:func:`profiled`), the
same families, :func:`build_report`, and every chunk's :func:`run_rows` in one transaction.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import math
import os
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelbook.errors import DataError
from modelbook.monitoring import (
    data_drift,
    environment,
    estimation,
    fairness,
    model_output,
    prediction_drift,
    predlog,
    quality,
    schema,
    served,
    serving,
)
from modelbook.monitoring import multivariate as multivariate_drift
from modelbook.monitoring import segments as segment_checks
from modelbook.monitoring.checks import summarise
from modelbook.monitoring.context import CheckFamily, RunContext
from modelbook.monitoring.inputs import (
    file_columns,
    labels_array,
    read_rules,
    read_stored,
    with_column,
)
from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.registry import Registry, Resolved, open_registry
from modelbook.registry.store import now
from modelbook.results import to_jsonable

if TYPE_CHECKING:
    from modelbook.capture.datasets import TableSource
    from modelbook.monitoring.challenger import ChallengerComparison
    from modelbook.monitoring.inputs import Stored
    from modelbook.monitoring.rules import MonitorRules

__all__ = ["DATA_CHECKS", "MODEL_CHECKS", "monitor"]

PathLike = str | os.PathLike[str]

#: Families that read the batch and the reference only: schema, invariants, stability, drift.
DATA_CHECKS: tuple[CheckFamily, ...] = (
    schema.checks,
    data_drift.checks,
    multivariate_drift.checks,
    served.dataset_checks,
    segment_checks.dataset_checks,  # a dataset's segments (a model's run after its predictions)
)
#: Families that read the model version and its predictions, in report order.
MODEL_CHECKS: tuple[CheckFamily, ...] = (
    environment.checks,
    model_output.checks,
    served.checks,
    prediction_drift.checks,
    quality.checks,
    fairness.checks,  # sensitive= groups: disparity of the predictions above
    estimation.checks,
    serving.checks,
    segment_checks.checks,  # last: per segment, the predictions and quality computed above
)

_PROGRESS_CELLS = 20_000_000  # ~2 s of work on this class of machine


class _Progress:
    """A tqdm bar over the run's steps, shown only for long runs (never for small data)."""

    def __init__(self, enabled: bool, total: int) -> None:
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc="monitor", unit="step", leave=False)

    def step(self, what: str) -> None:
        if self._bar is not None:
            self._bar.set_description(f"monitor: {what}")
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(max(0, self._bar.total - self._bar.n))  # steps a failure skipped
            self._bar.close()


def _show_progress(setting: str, source: TableSource) -> bool:
    """Whether to show the bar: ``MODELBOOK_PROGRESS`` (auto|always|never) over the setting.

    ``auto`` shows it when the batch is expected to take more than about two seconds: more than
    60M cells in memory, or 20M cells from a file (reading and decompressing costs ~3×).
    """
    mode = os.environ.get("MODELBOOK_PROGRESS", setting)
    if mode != "auto":
        return mode == "always"
    if source.table is not None:
        return bool(source.table.num_rows * source.table.num_columns > 3 * _PROGRESS_CELLS)
    assert source.path is not None
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(source.path).metadata
        return bool(meta.num_rows * meta.num_columns > _PROGRESS_CELLS)
    return source.path.stat().st_size > 8 * _PROGRESS_CELLS


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
    multivariate: str | None = None,
    id: str | None = None,
    time: str | None = None,
    challenger: str | None = None,
    segments: object = None,
    sensitive: object = None,
    registry: PathLike | None = None,
) -> MonitorReport | ChallengerComparison:
    """Check a batch against a model version (or dataset version) and store the run.

    See :func:`modelbook.api.monitor` for the arguments. With ``challenger``, the batch is
    scored by both versions after the data checks (:mod:`~modelbook.monitoring.challenger`).
    """
    from modelbook.capture.datasets import to_arrow

    started = now()
    reg = open_registry(registry)
    settings, mode = read_rules(reg, rules, store)
    settings = multivariate_drift.with_method(settings, multivariate)
    # Converting the batch (pandas → Arrow) overlaps the registry read: both release the GIL.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        converting = pool.submit(to_arrow, data, what="data")
        try:
            stored = read_stored(reg, ref, reference)
            rival = _challenger(reg, challenger, stored, scores, predicted)
        except BaseException:
            converting.cancel()
            raise
        source = converting.result()
    is_model = stored.model_row is not None
    id_column = id if id is not None else settings.id_column
    if time is not None and id_column is None:
        raise DataError(
            f"time={time!r} without chunk= is kept in the prediction log and needs id=: "
            "the batch's id column (or pass chunk= to monitor over time)."
        )
    progress = _Progress(_show_progress(settings.progress, source), total=5 if is_model else 3)
    try:
        ctx = _context(
            reg,
            stored,
            source,
            target,
            columns,
            settings,
            store=mode != "none",
            trust=trust,
            scores=served.column_names(scores, "scores"),
            predicted=served.column_names(predicted, "predicted")[0] if predicted else None,
            log=(id_column, time),  # the ids read and checked: nothing written
            slices=_slices(settings, segments, sensitive, rival is not None),
        )
        progress.step("profiled batch")
        found: list[CheckResult] = []
        for family in DATA_CHECKS:
            found += family(ctx)
        progress.step("checked the data")
        if rival is not None:  # champion and challenger: two runs and their comparison
            from modelbook.monitoring.challenger import compare_runs

            pair = compare_runs(ctx, found, rival, started=started, mode=mode, progress=progress)
            progress.step("stored")
            if fail_on_alert:
                pair.raise_for_alerts()
            return pair
        logging = None  # the prediction log being written (predlog.start)
        if is_model:
            ctx = dataclasses.replace(ctx, model=model_output.run_model(ctx))
            progress.step("predicted" if ctx.model and ctx.model.predictions else "no predictions")
            logging = predlog.start(ctx) if mode != "none" else None  # written while checks run
            for family in MODEL_CHECKS:
                found += family(ctx)
            progress.step("checked the model")
        report = _report(ctx, found, started, mode, logging=logging)
        progress.step("stored")
    finally:
        progress.close()
    if fail_on_alert:
        report.raise_for_alerts()
    return report


def _slices(
    settings: MonitorRules, segments: object, sensitive: object, challenger: bool
) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """The run's (segments, sensitive features): the arguments, else the settings' segments."""
    from modelbook.stats.segments import parse_slices

    slices = parse_slices(segments), parse_slices(sensitive, "sensitive")
    if challenger and slices != ((), ()):
        from modelbook.errors import ConfigError

        raise ConfigError(
            "challenger= compares two versions on the whole batch; it does not combine with "
            "segments=/sensitive= (monitor each version with segments= instead)."
        )
    if segments is None and not challenger:
        slices = settings.segments, slices[1]
    return slices


def _challenger(
    reg: Registry,
    challenger: str | None,
    stored: Stored,
    scores: object,
    predicted: object,
) -> Stored | None:
    """The challenger version to compare with (None: none), checked before anything runs."""
    if challenger is None:
        return None
    if scores is not None or predicted is not None:
        from modelbook.errors import ConfigError

        raise ConfigError(
            "challenger= scores the batch with both versions' predict; it does not combine "
            "with scores=/predicted= (a model served elsewhere)."
        )
    from modelbook.monitoring.challenger import read_challenger

    return read_challenger(reg, challenger, stored)


def _context(
    reg: Registry,
    stored: Stored,
    source: TableSource,
    target: object,
    columns: Sequence[str] | None,
    settings: MonitorRules,
    *,
    store: bool,
    trust: bool,
    scores: tuple[str, ...] = (),
    predicted: str | None = None,
    log: tuple[str | None, str | None] = (None, None),
    slices: tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]] = ((), ()),
) -> RunContext:
    """Where the labels are, which columns are expected, and the batch profiled once.

    ``log``: the prediction log's (id column, time column), read and checked before profiling.
    ``slices``: the run's (segments, sensitive features), checked before profiling.
    """
    base = unprofiled_context(
        reg,
        stored,
        source,
        target,
        columns,
        settings,
        store=store,
        trust=trust,
        scores=scores,
        predicted=predicted,
    )
    if slices != ((), ()):
        base = dataclasses.replace(base, segments=slices[0], sensitive=slices[1])
        segment_checks.validate(base)
    id_column, time_column = log
    if id_column is None:
        return profiled(base)
    base = predlog.for_timeline(base, id_column, time_column)  # names checked, ids not yet read
    # The ids are read and checked (a hash pass) while the batch is profiled: both release the GIL.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(predlog.chunk_inputs, base.source, id_column, time_column)
        ctx = profiled(base)
        return dataclasses.replace(ctx, log=reading.result())


def unprofiled_context(
    reg: Registry,
    stored: Stored,
    source: TableSource,
    target: object,
    columns: Sequence[str] | None,
    settings: MonitorRules,
    *,
    store: bool,
    trust: bool,
    scores: tuple[str, ...] = (),
    predicted: str | None = None,
) -> RunContext:
    """The run's context before the batch is profiled (``batch`` is an empty placeholder):
    a timeline builds it once and profiles each chunk with :func:`profiled`."""
    from modelbook.stats.profile import TableProfile

    row, ref_profile, ref_target = stored.model_row, stored.profile, stored.reference_target
    signature = json.loads(row["signature"]) if row is not None and row["signature"] else None
    if signature is not None:
        expected = [str(c["name"]) for c in signature["columns"]]
    else:
        expected = [n for n in ref_profile.names if n != ref_target]

    batch_names = (
        list(source.table.column_names) if source.table is not None else file_columns(source)
    )
    served.check_columns(batch_names, scores, predicted)
    source, label_column, labels = _labels(source, batch_names, target, ref_target)
    if label_column is not None and label_column not in batch_names:
        batch_names.append(label_column)

    kept: tuple[str, ...] | None = None
    if columns is not None:
        kept = tuple(str(c) for c in columns)
        unknown = [c for c in kept if c not in ref_profile.names]
        if unknown:
            raise DataError(
                f"columns not in the reference {stored.reference}: {', '.join(map(repr, unknown))}."
            )

    return RunContext(
        registry=reg,
        target=stored.target,
        model_row=row,
        reference=stored.reference,
        reference_profile=ref_profile,
        reference_target=ref_target,
        source=source,
        batch=TableProfile(rows=0, columns=()),
        batch_names=tuple(batch_names),
        expected=tuple(expected),
        signature=signature,
        label_column=label_column,
        labels=labels,
        columns=kept,
        settings=settings,
        store=store,
        trust=trust,
        scores_columns=scores,
        predicted_column=predicted,
    )


def profiled(ctx: RunContext) -> RunContext:
    """The context with its batch (``ctx.source``) profiled once, on the reference's bins and
    categories; labels given apart from a file are checked against its row count."""
    from modelbook.stats.profile import profile_table

    source, kept, ref_profile = ctx.source, ctx.columns, ctx.reference_profile
    data: Any = source.table if source.table is not None else source.path
    if source.table is not None and kept is not None:
        keep = [n for n in ctx.batch_names if n in kept or n not in ref_profile.names]
        data = source.table.select([n for n in keep if n in source.table.column_names])
    if source.table is not None and ctx.log is not None:  # ids and times: logged, not profiled
        skip = {ctx.log.id_column, ctx.log.time_column} - set(ctx.expected)
        data = data.drop_columns([n for n in data.column_names if n in skip])
    batch = profile_table(data, reference=ref_profile)
    labels = ctx.labels
    if labels is not None and source.table is None and len(labels) != batch.rows:
        raise DataError(
            f"target has {len(labels):,} labels but the batch has {batch.rows:,} rows: "
            "pass the labels that belong to this batch."
        )
    return dataclasses.replace(ctx, batch=batch)


def _labels(
    source: TableSource, batch_names: list[str], target: object, ref_target: str | None
) -> tuple[TableSource, str | None, Any]:
    """Where the labels are: ``(source, label column, labels apart from the batch)``.

    ``target`` names a batch column, or holds the labels; without it, a batch column of the
    training target's name is the labels. Labels passed for an in-memory batch become its column
    of the training target's name (so the labels' drift is reported under that name).
    """
    if isinstance(target, str):
        if target not in batch_names:
            raise DataError(
                f"target column {target!r} is not in the batch; columns: "
                f"{', '.join(batch_names[:20])}."
            )
        return source, target, None
    if target is None:
        found = ref_target if ref_target is not None and ref_target in batch_names else None
        return source, found, None
    labels = labels_array(target, source.table.num_rows if source.table is not None else None)
    if source.table is not None and ref_target and ref_target not in batch_names:
        import pyarrow as pa

        return with_column(source, ref_target, pa.array(labels)), ref_target, labels
    return source, None, labels


def _report(
    ctx: RunContext, found: list[CheckResult], started: Any, mode: str, *, logging: Any = None
) -> MonitorReport:
    """The report of the run; stored (run, checks, and the batch with store='data').

    ``logging``: the prediction log being written (:func:`predlog.start`), if started.
    """
    from modelbook.capture.context import run_context
    from modelbook.capture.environment import current_user

    context = run_context()
    # Staged before anything is stored: a log that cannot be built leaves the registry as it was.
    if logging is not None:
        log = logging.result()
    else:
        log = predlog.log_of_run(ctx) if mode != "none" else None
    batch_dataset: str | None = None
    if mode == "data":
        batch_dataset = _store_batch(ctx.registry, ctx.target, ctx.source)
    run_id = str(uuid.uuid4()) if mode != "none" else None
    extra: dict[str, Any] = {"prediction_log": log.summary()} if log is not None else {}
    report = build_report(
        ctx,
        found,
        started,
        mode,
        run_id=run_id,
        context=context,
        batch_dataset=batch_dataset,
        **extra,
    )
    if run_id is not None:
        log_row = None
        if log is not None:
            log_row = log.row(run_id, ctx.target.name, ctx.target.version, report.finished_at)
        _store_run(ctx.registry, report, context.parameters, current_user(), log=log_row)
        from modelbook.alerts import deliver

        # After storing: a failing sink loses nothing.
        deliver(report, registry=ctx.registry.location)
        if ctx.target.kind == "model":  # rollback/retraining policies judge the stored run
            _evaluate_policies(ctx.registry, model=ctx.target.name, trigger="monitor")
    return report


def _evaluate_policies(reg: Registry, *, model: str, trigger: str) -> None:
    from modelbook.policies import evaluate

    evaluate(reg, model=model, trigger=trigger)


def build_report(
    ctx: RunContext,
    found: list[CheckResult],
    started: Any,
    mode: str,
    *,
    run_id: str | None,
    context: Any,
    batch_dataset: str | None,
    **period: Any,
) -> MonitorReport:
    """The report of one run (nothing stored); ``period``: a timeline chunk's fields."""
    status = summarise(found)
    finished = now()
    findings = ctx.findings
    return MonitorReport(
        target=str(ctx.target),
        target_kind=ctx.target.kind,
        reference=str(ctx.reference),
        status=status,
        checks=tuple(found),
        n_rows=ctx.batch.rows,
        started_at=started,
        finished_at=finished,
        run_id=run_id,
        drift=findings.drift,
        prediction_drift=findings.prediction_drift,
        metrics=findings.metrics,
        reference_metrics=ctx.registered_metrics,
        serving=findings.serving,
        environment_changes=tuple(findings.environment_changes),
        estimated=findings.estimated,
        multivariate=findings.multivariate,
        segments=findings.segments,
        fairness=findings.fairness,
        batch_dataset=batch_dataset,
        store=mode,
        source=context.source,
        notebook=context.notebook,
        **period,
    )


def _store_batch(reg: Registry, resolved: Resolved, source: TableSource) -> str:
    from modelbook import catalog

    data: Any = source.table if source.table is not None else source.path
    stored = catalog.register(data, name=f"{resolved.name}-batches", registry=reg.location)
    return str(stored.ref)


def _clean(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _store_run(
    reg: Registry,
    report: MonitorReport,
    parameters: Mapping[str, Any],
    user: str,
    *,
    log: Mapping[str, Any] | None = None,
) -> None:
    """The run, its checks and its prediction log row (blob installed), in one transaction."""
    reg.add_monitor_run(*run_rows(report, parameters, user), log=log)


def run_rows(
    report: MonitorReport, parameters: Mapping[str, Any], user: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A stored run's ``monitor_runs`` row and its ``check_results`` rows."""
    assert report.run_id is not None
    name, _, version = report.target.rpartition("@")
    run = {
        "id": report.run_id,
        "target": name,
        "target_version": int(version),
        "reference": report.reference,
        "status": report.status,
        "source": report.source,
        "n_rows": report.n_rows,
        "drift_share": report.drift_share,
        "n_alerts": len(report.alerts),
        "metrics": json.dumps(to_jsonable(dict(report.metrics))),
        "batch_dataset": report.batch_dataset,
        "notebook": report.notebook,
        "parameters": json.dumps(dict(parameters), default=str),
        "report": report.to_json(),
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "created_by": user,
        "timeline": report.timeline,
        "chunk_index": report.chunk_index,
        "period_start": report.period_start,
        "period_end": report.period_end,
    }
    rows = [
        {
            "run_id": report.run_id,
            "position": i,
            "check_name": c.check,
            "column_name": c.column,
            "status": c.status,
            "test": c.test,
            "statistic": _clean(c.statistic),
            "threshold": _clean(c.threshold),
            "message": c.message,
        }
        for i, c in enumerate(report.checks)
    ]
    return run, rows
