"""Monitoring over time: one batch cut into chunks, one monitor run per chunk, one timeline.

``monitor(..., time="ts", chunk="month")`` returns a :class:`MonitorTimeline`: a
:class:`~modelbook.monitoring.report.MonitorReport` per chunk (how chunks are cut:
:mod:`~modelbook.monitoring.chunks`), each stored as a run with the timeline's id, its position
and its period, all in one registry transaction.

One pass over the data
----------------------
* An in-memory batch: every row's chunk key is computed at once (numpy), the rows are put in
  chunk order with one ``take`` (skipped when they already are), and each chunk is a zero-copy
  slice. The model predicts the whole batch once; each chunk gets its slice of the predictions.
* A Parquet/CSV file: DuckDB computes the chunk key and streams the rows ordered by it, so the
  file is scanned once; each chunk is gathered as it streams past (memory holds one chunk), then
  profiled and predicted on its own, with the model loaded once.

Each chunk runs the same check families as a single run (``DATA_CHECKS``, ``MODEL_CHECKS`` of
:mod:`~modelbook.monitoring.run`), on its own profile: a chunk is judged exactly as the same rows
monitored alone would be.

What is reported, not hidden
----------------------------
* Rows without a time (null, NaT) are left out and counted (:attr:`MonitorTimeline.skipped_rows`).
* Calendar periods without rows between the first and the last are skipped and listed
  (:attr:`MonitorTimeline.empty_periods`): there is nothing to check in them.
* A last row chunk smaller than ``chunk=`` is reported as it is, never merged into the one
  before: its rows are in the table, and checks that need more rows say so (e.g. estimation's
  ``insufficient``), rather than a merged chunk silently covering a longer span.

Alerts of a timeline go to the alert sinks once, for its newest chunk (the state now): a backfill
of two years of months does not send 24 messages. Every chunk's alerts are stored and shown.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelbook.errors import AlertError, DataError
from modelbook.monitoring.chunks import (
    Chunking,
    calendar_keys,
    key_sql,
    micros_sql,
    parse_chunk,
    period_of,
    time_microseconds,
)
from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.registry import Registry, Resolved
from modelbook.results import Renderable, to_jsonable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from modelbook.monitoring.context import ModelRun, RunContext

__all__ = ["MonitorTimeline", "TimelineAlert", "monitor_timeline"]

PathLike = str | os.PathLike[str]
_CHUNK_KEY = "__modelbook_chunk"
_STREAM_ROWS = 1 << 16
#: Empty periods named in the notes; the rest are counted.
_NAMED_EMPTY = 6


@dataclass(frozen=True)
class TimelineAlert:
    """One alerting (or failed) check of one chunk."""

    chunk: int
    period_start: datetime | None
    period_end: datetime | None
    check: CheckResult

    def __str__(self) -> str:
        return (
            f"chunk {self.chunk}{_period_words(self.period_start, self.period_end)}: {self.check}"
        )


def _period_words(start: datetime | None, end: datetime | None) -> str:
    if start is None:
        return ""
    return f" ({start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M})" if end else f" ({start})"


@dataclass(frozen=True, repr=False)
class MonitorTimeline(Renderable):
    """Monitor runs of one batch cut into chunks over time (or rows), oldest chunk first.

    A sequence of :class:`MonitorReport`: ``len()``, iteration and indexing go over the chunks'
    reports. ``status`` is the worst chunk's ('error' > 'alert' > 'ok').
    """

    target: str
    target_kind: str
    reference: str | None
    reports: tuple[MonitorReport, ...]
    chunk: str  # how the batch was cut, in words ("month", "5,000 rows")
    time: str | None  # the time column (None: chunks of rows in batch order)
    timeline: str  # the id every chunk's run is stored with
    started_at: datetime
    finished_at: datetime
    skipped_rows: int = 0  # rows without a time, left out
    empty_periods: tuple[tuple[datetime, datetime], ...] = ()  # calendar periods without rows
    store: str = "profile"
    kind = "monitor_timeline"

    # -- the sequence of chunks ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.reports)

    def __iter__(self) -> Iterator[MonitorReport]:
        return iter(self.reports)

    def __getitem__(self, index: int) -> MonitorReport:
        return self.reports[index]

    # -- verdicts -------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        statuses = {r.status for r in self.reports}
        for status in ("error", "alert"):
            if status in statuses:
                return status
        return "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def n_rows(self) -> int:
        """Rows in the chunks (``skipped_rows`` more were in the batch without a time)."""
        return sum(r.n_rows for r in self.reports)

    @property
    def alerts(self) -> tuple[TimelineAlert, ...]:
        """Every chunk's alerts and errors, oldest chunk first."""
        return tuple(
            TimelineAlert(r.chunk_index or 0, r.period_start, r.period_end, c)
            for r in self.reports
            for c in r.alerts
        )

    @property
    def alerting_chunks(self) -> tuple[int, ...]:
        return tuple(r.chunk_index or 0 for r in self.reports if not r.ok)

    @property
    def notes(self) -> tuple[str, ...]:
        """What was left out or is worth knowing about the cut, in words."""
        out: list[str] = []
        if self.skipped_rows:
            out.append(
                f"{self.skipped_rows:,} row{'s' if self.skipped_rows != 1 else ''} without a "
                f"{self.time} (null or NaT) left out"
            )
        if self.empty_periods:
            shown = ", ".join(f"{s:%Y-%m-%d %H:%M}" for s, _ in self.empty_periods[:_NAMED_EMPTY])
            more = len(self.empty_periods) - _NAMED_EMPTY
            tail = f" and {more} more" if more > 0 else ""
            n = len(self.empty_periods)
            out.append(
                f"{n} empty period{'s' if n != 1 else ''} skipped (no rows): starting {shown}{tail}"
            )
        if self.reports and self.chunk.endswith(" rows"):
            size = int(self.chunk.split()[0].replace(",", ""))
            last = self.reports[-1].n_rows
            if len(self.reports) > 1 and last < size:
                out.append(
                    f"the last chunk has {last:,} of {size:,} rows; it is reported as it is, "
                    "not merged into the one before"
                )
        return tuple(out)

    def summary(self) -> str:
        """One line: the cut, the chunks that alerted and their first alerts."""
        head = f"timeline of {self.target}: {len(self.reports)} chunks by {self.chunk}"
        if self.ok:
            return f"{head}: ok"
        bad = self.alerting_chunks
        alerts = self.alerts
        shown = "; ".join(str(a) for a in alerts[:3])
        more = f"; and {len(alerts) - 3} more" if len(alerts) > 3 else ""
        return (
            f"{head}: {self.status} in {len(bad)} chunk{'s' if len(bad) != 1 else ''} "
            f"({', '.join(map(str, bad[:12]))}{'…' if len(bad) > 12 else ''}): {shown}{more}"
        )

    def raise_for_alerts(self) -> MonitorTimeline:
        """Raise :class:`~modelbook.errors.AlertError` unless every chunk is ok; else self."""
        if not self.ok:
            raise AlertError(self.summary() + ".")
        return self

    # -- data ------------------------------------------------------------------------------------

    def to_frame(self) -> Any:
        """One row per chunk and check: chunk, start, end, check, column, status, value, lower,
        upper, threshold, message. ``value`` is the check's statistic; ``lower``/``upper`` are
        the ±3 SE interval of an estimated metric (``performance.estimated.*``), else empty."""
        import pandas as pd

        columns = [
            "chunk", "start", "end", "n_rows", "check", "column", "status", "value", "lower",
            "upper", "threshold", "message",
        ]  # fmt: skip
        rows = []
        for r in self.reports:
            for c in r.checks:
                lower = upper = None
                if c.check.startswith("performance.estimated."):
                    estimate = r.estimated.get(c.check.rpartition(".")[2]) or {}
                    lower, upper = estimate.get("lower"), estimate.get("upper")
                rows.append(
                    [
                        r.chunk_index, r.period_start, r.period_end, r.n_rows, c.check, c.column,
                        c.status, c.statistic, lower, upper, c.threshold, c.message,
                    ]
                )  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    @property
    def drift_columns(self) -> tuple[str, ...]:
        """Columns tested for drift in some chunk, worst first: most chunks drifted, then the
        largest effect ÷ threshold in any chunk."""
        from modelbook.render.verdicts import effect_ratio

        drifted: dict[str, int] = {}
        worst: dict[str, float] = {}
        order: dict[str, int] = {}
        for r in self.reports:
            for c in r.drift.columns if r.drift is not None else ():
                order.setdefault(c.column, len(order))
                drifted[c.column] = drifted.get(c.column, 0) + int(bool(c.drifted))
                ratio = effect_ratio(c)
                worst[c.column] = max(worst.get(c.column, 0.0), ratio or 0.0)
        return tuple(sorted(order, key=lambda n: (-drifted[n], -worst[n], order[n])))

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON for the lab renderer: per chunk its period, status, alerts, drift score
        per column (effect ÷ threshold, in :attr:`drift_columns` order), metrics and estimates;
        never the bin counts (100 chunks × 30 columns would be megabytes)."""
        from modelbook.render.timeline import period_label
        from modelbook.render.verdicts import effect_ratio

        names = self.drift_columns
        chunks = []
        for r in self.reports:
            by_name = {c.column: c for c in r.drift.columns} if r.drift is not None else {}
            scores: list[float | None] = []
            flags: list[int | None] = []
            for n in names:
                c = by_name.get(n)
                ratio = effect_ratio(c) if c is not None else None
                scores.append(None if ratio is None else round(ratio, 3))
                flags.append(None if c is None or not c.tested else int(bool(c.drifted)))
            chunks.append(
                {
                    "index": r.chunk_index,
                    "label": period_label(self, r),
                    "start": r.period_start,
                    "end": r.period_end,
                    "n_rows": r.n_rows,
                    "status": r.status,
                    "run_id": r.run_id,
                    "drift_share": r.drift_share,
                    "drift": scores,
                    "drifted": flags,
                    "metrics": dict(r.metrics),
                    "estimated": {k: dict(v) for k, v in r.estimated.items()},
                    "n_checks": len(r.checks),
                    "alerts": [
                        {"check": c.check, "column": c.column, "status": c.status,
                         "message": c.message}
                        for c in r.alerts
                    ],
                }
            )  # fmt: skip
        registered: dict[str, float] = {}
        if self.reports:
            for name in {m for r in self.reports for m in (*r.metrics, *r.estimated)}:
                value = _registered(self.reports[0], name)
                if value is not None:
                    registered[name] = value
        data: dict[str, Any] = to_jsonable(
            {
                "target": self.target,
                "target_kind": self.target_kind,
                "reference": self.reference,
                "status": self.status,
                "chunk": self.chunk,
                "time": self.time,
                "timeline": self.timeline,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "n_rows": self.n_rows,
                "skipped_rows": self.skipped_rows,
                "empty_periods": [list(p) for p in self.empty_periods],
                "notes": list(self.notes),
                "store": self.store,
                "columns": list(names),
                "registered": registered,
                "chunks": chunks,
            }
        )
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    def __repr__(self) -> str:
        return (
            f"<MonitorTimeline {self.target}: {len(self.reports)} chunks by {self.chunk}, "
            f"{self.status}, {len(self.alerting_chunks)} alerting>"
        )


def _registered(report: MonitorReport, metric: str) -> float | None:
    """The registered (or measured) value a metric is compared with, if any."""
    estimate = report.estimated.get(metric) or {}
    value = estimate.get("registered")
    if isinstance(value, (int, float)):
        return float(value)
    return report.registered_metric(metric)


# --------------------------------------------------------------------------- the engine


class _ChunkRegistry(Registry):
    """The registry as the chunks of one timeline see it: what every chunk would read again
    (the model's predictions on the reference, the reference dataset's row; ~25-60 ms a read)
    is read or computed once.

    The chunks run with ``ctx.store`` set, so the first one hands what it computed about the
    reference (its predictions, its multivariate statistics) to the ``store_*`` methods: written
    only when the timeline stores anything (``store != 'none'``), remembered either way.
    """

    def __init__(self, home: Any, *, writes: bool) -> None:
        super().__init__(home)
        self._writes = writes
        self._predictions: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._datasets: dict[tuple[str, int], dict[str, Any]] = {}

    def reference_predictions(self, model: Resolved, dataset: Resolved) -> dict[str, Any] | None:
        key = (str(model), str(dataset))
        if key not in self._predictions:
            self._predictions[key] = super().reference_predictions(model, dataset)
        return self._predictions[key]

    def store_reference_predictions(
        self, model: Resolved, dataset: Resolved, profile: Mapping[str, Any]
    ) -> None:
        if self._writes:
            super().store_reference_predictions(model, dataset, profile)
        self._predictions[(str(model), str(dataset))] = dict(profile)

    def dataset_version(self, name: str, version: int) -> dict[str, Any]:
        key = (name, version)
        if key not in self._datasets:
            self._datasets[key] = super().dataset_version(name, version)
        return dict(self._datasets[key])

    def store_multivariate(self, name: str, version: int, statistics: str) -> None:
        if self._writes:
            super().store_multivariate(name, version, statistics)
        if (name, version) in self._datasets:
            self._datasets[(name, version)]["multivariate"] = statistics


@dataclass
class _Chunk:
    """One chunk's rows, gathered: its table, labels apart from it, period, and predictions."""

    index: int
    table: pa.Table
    labels: Any
    start: datetime | None
    end: datetime | None
    model: Callable[[RunContext], ModelRun] | None = None


@dataclass
class _Cut:
    chunks: Iterator[_Chunk]
    skipped: int = 0
    empty: list[tuple[datetime, datetime]] = field(default_factory=list)


def _check_arguments(time: str | None, chunk: object) -> Chunking:
    if chunk is None:
        raise DataError(
            f"time={time!r} needs chunk=: how long a chunk is, e.g. chunk='month', '1w', '1d' "
            "or a number of rows."
        )
    chunking = parse_chunk(chunk)
    if chunking.by_time and time is None:
        raise DataError(
            f"chunk={chunk!r} is a period and needs time=: the batch column with each row's "
            "time, e.g. time='ts' (or chunk by rows: chunk=5000)."
        )
    if time is not None and not isinstance(time, str):
        raise DataError(
            f"time= names the batch's time column (a string), not {type(time).__name__}."
        )
    return chunking


def _time_type_error(time: str, type_name: str) -> DataError:
    return DataError(
        f"time column {time!r} holds {type_name}, not dates or times: convert it first "
        f"(e.g. df[{time!r}] = pd.to_datetime(df[{time!r}]))."
    )


def monitor_timeline(
    ref: str,
    *,
    data: object,
    time: str | None,
    chunk: object,
    target: object = None,
    reference: str | None = None,
    columns: Sequence[str] | None = None,
    store: str | None = None,
    fail_on_alert: bool = False,
    rules: Mapping[str, Any] | None = None,
    trust: bool = False,
    scores: str | Sequence[str] | None = None,
    predicted: str | None = None,
    id: str | None = None,
    registry: PathLike | None = None,
) -> MonitorTimeline:
    """Monitor ``data`` chunk by chunk (see :func:`modelbook.api.monitor`, ``time=``/``chunk=``).

    With ``id=`` each chunk's run keeps its own prediction log (ids unique within a chunk).
    """
    from modelbook.capture.context import run_context
    from modelbook.capture.datasets import to_arrow
    from modelbook.capture.environment import current_user
    from modelbook.monitoring import run as engine
    from modelbook.monitoring import served
    from modelbook.monitoring.inputs import read_rules, read_stored
    from modelbook.registry import open_registry
    from modelbook.registry.store import now

    chunking = _check_arguments(time, chunk)
    started = now()
    reg = open_registry(registry)
    settings, mode = read_rules(reg, rules, store)
    reg = _ChunkRegistry(reg.location, writes=mode != "none")
    source = to_arrow(data, what="data")
    stored = read_stored(reg, ref, reference)
    base = engine.unprofiled_context(
        reg,
        stored,
        source,
        target,
        columns,
        settings,
        store=True,  # what the chunks learn once is kept by _ChunkRegistry (written or not)
        trust=trust,
        scores=served.column_names(scores, "scores"),
        predicted=served.column_names(predicted, "predicted")[0] if predicted else None,
    )
    if time is not None and time not in base.batch_names:
        raise DataError(
            f"time column {time!r} is not in the batch; columns: "
            f"{', '.join(base.batch_names[:20])}."
        )
    if time is not None and time not in base.expected:
        base = dataclasses.replace(
            base, batch_names=tuple(n for n in base.batch_names if n != time)
        )
    id_column = id if id is not None else settings.id_column
    if id_column is not None:  # each chunk's run keeps its prediction log (predlog.py)
        from modelbook.monitoring.predlog import for_timeline

        base = for_timeline(base, id_column)
    logs: list[dict[str, Any]] = []
    is_model = stored.model_row is not None
    cut = (
        _memory_cut(base, time, chunking, is_model)
        if base.source.table is not None
        else _file_cut(base, time, chunking, is_model)
    )
    timeline_id = str(uuid.uuid4())
    context = run_context()
    store_runs = mode != "none"
    reports: list[MonitorReport] = []
    progress: engine._Progress | None = None
    try:
        for piece in cut.chunks:
            if progress is None:
                progress = engine._Progress(
                    engine._show_progress(settings.progress, source), total=1
                )
            reports.append(
                _chunk_report(
                    base, piece, mode, context, timeline_id, store_runs, is_model, time, logs
                )
            )
            if progress._bar is not None:
                progress._bar.total = len(reports) + 1
            progress.step(f"chunk {piece.index}")
    finally:
        if progress is not None:
            progress.close()
    if not reports:
        raise DataError(
            f"no chunk to monitor: every row of the batch lacks a {time} (null or NaT)."
            if time
            else "no chunk to monitor: the batch has no rows."
        )
    if mode == "data":
        batch_dataset = engine._store_batch(reg, stored.target, source)
        reports = [dataclasses.replace(r, batch_dataset=batch_dataset) for r in reports]
    if store_runs:
        user = current_user()
        reg.add_monitor_runs(
            [engine.run_rows(r, context.parameters, user) for r in reports], logs=logs
        )
        from modelbook.alerts import deliver

        deliver(reports[-1], registry=reg.location)  # the newest chunk: the state now
        if stored.target.kind == "model":  # policies judge the chunks, oldest first
            engine._evaluate_policies(reg, model=stored.target.name, trigger="monitor")
    timeline = MonitorTimeline(
        target=str(stored.target),
        target_kind=stored.target.kind,
        reference=str(stored.reference),
        reports=tuple(reports),
        chunk=str(chunking),
        time=time,
        timeline=timeline_id,
        started_at=started,
        finished_at=now(),
        skipped_rows=cut.skipped,
        empty_periods=tuple(cut.empty),
        store=mode,
    )
    if fail_on_alert:
        timeline.raise_for_alerts()
    return timeline


def _chunk_report(
    base: RunContext,
    piece: _Chunk,
    mode: str,
    context: Any,
    timeline_id: str,
    store_runs: bool,
    is_model: bool,
    time: str | None,
    logs: list[dict[str, Any]] | None = None,
) -> MonitorReport:
    """One chunk through every check family, as a single run would go (nothing stored).

    With a prediction log (``base.log``), the chunk's log is staged and its row added to ``logs``.
    """
    from modelbook.capture.datasets import TableSource
    from modelbook.monitoring import run as engine
    from modelbook.monitoring.context import Findings
    from modelbook.registry.store import now

    started = now()
    table = piece.table
    log_inputs = None
    if base.log is not None and store_runs:
        from modelbook.monitoring.predlog import chunk_inputs

        whole = TableSource(table=table, path=None, kind="arrow", label=base.source.label)
        log_inputs = chunk_inputs(whole, base.log.id_column, time)
    if time is not None and time not in base.expected and time in table.column_names:
        table = table.drop_columns([time])  # what cuts the batch, not an input of the model
    source = TableSource(table=table, path=None, kind="arrow", label=base.source.label)
    ctx = dataclasses.replace(
        base, source=source, labels=piece.labels, findings=Findings(), model=None
    )
    if log_inputs is not None:
        ctx = dataclasses.replace(ctx, log=log_inputs)
    ctx = engine.profiled(ctx)
    found: list[CheckResult] = []
    for family in engine.DATA_CHECKS:
        found += family(ctx)
    if is_model and piece.model is not None:
        ctx = dataclasses.replace(ctx, model=piece.model(ctx))
        for family in engine.MODEL_CHECKS:
            found += family(ctx)
    from modelbook.monitoring.predlog import log_of_run

    log = log_of_run(ctx) if log_inputs is not None else None
    extra: dict[str, Any] = {"prediction_log": log.summary()} if log is not None else {}
    report = engine.build_report(
        ctx,
        found,
        started,
        mode,
        run_id=str(uuid.uuid4()) if store_runs else None,
        context=context,
        batch_dataset=None,
        timeline=timeline_id,
        chunk_index=piece.index,
        period_start=piece.start,
        period_end=piece.end,
        **extra,
    )
    if log is not None and logs is not None and report.run_id is not None:
        target = ctx.target
        logs.append(log.row(report.run_id, target.name, target.version, report.finished_at))
    return report


# --------------------------------------------------------------------------- in memory


def _memory_cut(base: RunContext, time: str | None, chunking: Chunking, is_model: bool) -> _Cut:
    """Chunk keys at once, rows in chunk order with one take, zero-copy slices; the model
    predicts the whole (ordered) batch once and each chunk gets its slice."""
    import numpy as np
    import pyarrow as pa

    table = base.source.table
    assert table is not None
    labels = base.labels
    n = table.num_rows
    skipped = 0
    us: npt.NDArray[np.int64] | None = None
    if time is not None:
        column = table.column(time)
        if not (pa.types.is_timestamp(column.type) or pa.types.is_date(column.type)):
            raise _time_type_error(time, str(column.type))
        us, valid = time_microseconds(column)
        if not valid.all():
            skipped = int((~valid).sum())
            table = table.filter(pa.array(valid))
            labels = labels[valid] if labels is not None else None
            us = us[valid]
            n = table.num_rows
    if n == 0:
        return _Cut(iter(()), skipped)
    if chunking.by_time:
        assert us is not None
        keys = calendar_keys(us, chunking)
        order = None if bool(np.all(keys[1:] >= keys[:-1])) else np.argsort(keys, kind="stable")
    else:
        order = None
        if us is not None and not bool(np.all(us[1:] >= us[:-1])):
            order = np.argsort(us, kind="stable")
        keys = np.arange(n, dtype=np.int64) // chunking.size
    if order is not None:
        table = table.take(pa.array(order))
        labels = labels[order] if labels is not None else None
        if chunking.by_time:
            keys = keys[order]
        if us is not None:
            us = us[order]
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], cuts)).astype(np.int64)
    ends = np.concatenate((cuts, [n])).astype(np.int64)
    ordered = dataclasses.replace(base, source=dataclasses.replace(base.source, table=table))
    ordered = dataclasses.replace(ordered, labels=labels)
    whole = _whole_model(ordered) if is_model else None
    empty: list[tuple[datetime, datetime]] = []
    if chunking.by_time:
        present = keys[starts]
        for a, b in itertools.pairwise(present.tolist()):
            empty.extend(period_of(int(k), chunking) for k in range(int(a) + 1, int(b)))

    def chunks() -> Iterator[_Chunk]:
        for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            start: datetime | None
            end: datetime | None
            if chunking.by_time:
                start, end = period_of(int(keys[s]), chunking)
            elif us is not None:
                start, end = _instant(int(us[s])), _instant(int(us[e - 1]))
            else:
                start = end = None
            model = None
            if whole is not None:
                model = _sliced(whole, s, e, n)
            yield _Chunk(
                index=i,
                table=table.slice(s, e - s),
                labels=labels[s:e] if labels is not None else None,
                start=start,
                end=end,
                model=model,
            )

    return _Cut(chunks(), skipped, empty)


def _instant(us: int) -> datetime:
    from datetime import timedelta

    return datetime(1970, 1, 1) + timedelta(microseconds=us)


def _whole_model(ctx: RunContext) -> ModelRun:
    from modelbook.monitoring.model_output import run_model

    return run_model(ctx)


def _sliced(whole: ModelRun, start: int, end: int, n: int) -> Callable[[RunContext], ModelRun]:
    """The model run of rows ``start:end``: every per-row array of the predictions sliced; the
    serving timings are the whole batch's (what one predict call cost)."""
    import numpy as np

    def run(ctx: RunContext) -> ModelRun:
        predictions = whole.predictions
        if predictions is None:
            return whole
        cut: dict[str, Any] = {}
        for f in dataclasses.fields(predictions):
            value = getattr(predictions, f.name)
            if isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == n:
                cut[f.name] = value[start:end]
        return dataclasses.replace(whole, predictions=dataclasses.replace(predictions, **cut))

    return run


# --------------------------------------------------------------------------- files


def _file_cut(base: RunContext, time: str | None, chunking: Chunking, is_model: bool) -> _Cut:
    """DuckDB computes each row's chunk key and streams the rows ordered by it (one scan)."""
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    path = base.source.path
    assert path is not None
    if base.labels is not None and time is not None:
        raise DataError(
            "with time= on a file, pass the labels as a column of the file (target='label'): "
            "labels given apart cannot follow the rows into time order."
        )
    scan = duckdb_scan(path, base.source.kind)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET TimeZone = 'UTC'")
        if time is not None:
            described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
            types = {str(row[0]): str(row[1]) for row in described}
            kind = types.get(time, "")
            if not (kind.startswith(("TIMESTAMP", "DATE")) or kind == "TIMESTAMPTZ"):
                raise _time_type_error(time, kind.lower() or "nothing")
        if chunking.by_time:
            assert time is not None
            sql = (
                f"SELECT *, {key_sql(time, chunking)} AS {_CHUNK_KEY} FROM {scan} "
                f"ORDER BY {_CHUNK_KEY} NULLS LAST"
            )
        elif time is not None:
            sql = (
                f"SELECT *, {micros_sql(time)} AS {_CHUNK_KEY} FROM {scan} "
                f"ORDER BY {_CHUNK_KEY} NULLS LAST"
            )
        else:
            sql = f"SELECT * FROM {scan}"
        reader = con.sql(sql).to_arrow_reader(_STREAM_ROWS)
    except duckdb.Error as exc:
        con.close()
        raise DataError(f"cannot read {base.source.label}: {str(exc).splitlines()[0]}") from exc
    except BaseException:
        con.close()
        raise
    cut = _Cut(iter(()))
    cut.chunks = _streamed(con, reader, base, time, chunking, is_model, cut)
    return cut


def _streamed(
    con: Any,
    reader: Any,
    base: RunContext,
    time: str | None,
    chunking: Chunking,
    is_model: bool,
    cut: _Cut,
) -> Iterator[_Chunk]:
    """Gather the ordered stream into chunks, yielding each when the next begins."""
    import numpy as np
    import pyarrow as pa

    labels = base.labels
    model = _FileModel() if is_model else None
    pieces: list[pa.RecordBatch] = []
    current: int | None = None  # chunk key being gathered
    index = 0
    first_us: int | None = None
    last_us: int | None = None
    offset = 0  # rows of the batch before the current chunk (labels apart: rows chunking only)
    filled = 0  # rows gathered in the current row chunk
    previous_key: int | None = None

    def emit(key: int | None) -> _Chunk:
        nonlocal index, pieces, offset, previous_key
        table = pa.Table.from_batches(pieces)
        if _CHUNK_KEY in table.column_names:
            table = table.drop_columns([_CHUNK_KEY])
        rows = table.num_rows
        start: datetime | None
        end: datetime | None
        if chunking.by_time:
            assert key is not None
            start, end = period_of(key, chunking)
            if previous_key is not None:
                cut.empty.extend(period_of(k, chunking) for k in range(previous_key + 1, key))
            previous_key = key
        elif first_us is not None and last_us is not None:
            start, end = _instant(first_us), _instant(last_us)
        else:
            start = end = None
        piece = _Chunk(
            index=index,
            table=table,
            labels=labels[offset : offset + rows] if labels is not None else None,
            start=start,
            end=end,
            model=model.run if model is not None else None,
        )
        index += 1
        offset += rows
        pieces = []
        return piece

    try:
        for batch in reader:
            if _CHUNK_KEY in batch.schema.names:
                raw = batch.column(batch.schema.get_field_index(_CHUNK_KEY))
                nulls = raw.null_count
                if nulls:  # no time: the stream puts them last
                    cut.skipped += nulls
                    batch = batch.slice(0, len(batch) - nulls)
                    raw = raw.slice(0, len(raw) - nulls)
                if len(batch) == 0:
                    continue
                keys = np.asarray(raw.to_numpy(zero_copy_only=False), dtype=np.int64)
            else:
                keys = None
            if chunking.by_time:
                assert keys is not None
                bounds = np.flatnonzero(keys[1:] != keys[:-1]) + 1
                at = 0
                for b in [*bounds.tolist(), len(batch)]:
                    key = int(keys[at])
                    if current is not None and key != current:
                        yield emit(current)
                    current = key
                    pieces.append(batch.slice(at, b - at))
                    at = b
                continue
            at = 0
            while at < len(batch):
                take = min(chunking.size - filled, len(batch) - at)
                part = batch.slice(at, take)
                if keys is not None:
                    if filled == 0:
                        first_us = int(keys[at])
                    last_us = int(keys[at + take - 1])
                pieces.append(part)
                filled += take
                at += take
                if filled == chunking.size:
                    yield emit(None)
                    filled = 0
        if pieces:
            yield emit(current)
    finally:
        con.close()


class _FileModel:
    """The model of a streamed file: loaded and run once on the first chunk
    (:func:`~modelbook.monitoring.model_output.run_model`), then asked to predict each further
    chunk without loading it again."""

    def __init__(self) -> None:
        self._first: ModelRun | None = None

    def run(self, ctx: RunContext) -> ModelRun:
        from modelbook.monitoring.checks import describe
        from modelbook.monitoring.model_output import run_model
        from modelbook.monitoring.predictions import predict_batches

        first = self._first
        if first is None:
            self._first = run_model(ctx)
            return self._first
        if ctx.served_columns:
            from modelbook.monitoring.served import served_predictions

            classes = first.classes
            return dataclasses.replace(
                first, predictions=served_predictions(ctx, first.task, classes), failure=None
            )
        if first.predictions is None and first.failure and first.failure.startswith("cannot"):
            return first  # input columns missing: the same in every chunk
        try:
            predictions = predict_batches(
                first.model,
                table=ctx.source.table,
                columns=list(first.inputs),
                proba=ctx.has_labels
                or ctx.log is not None
                or bool(ctx.model_row and ctx.model_row.get("estimator")),
            )
        except Exception as exc:  # the model is user code: any failure is a finding
            return dataclasses.replace(
                first, predictions=None, failure=f"predict() failed: {describe(exc)}"
            )
        return dataclasses.replace(first, predictions=predictions, failure=None)
