"""Monitor history: every stored monitor run of a model or dataset, newest first.

One indexed query over ``monitor_runs`` (never the stored report JSON), so thousands of runs
come back in milliseconds; the text and HTML renderers live in :mod:`modelbook.render.history`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from modelbook.errors import ConfigError
from modelbook.registry import open_registry, parse_ref
from modelbook.registry.store import HISTORY_COLUMNS, now
from modelbook.results import Renderable, json_objects

__all__ = ["HistoryReport", "HistoryRun", "history", "parse_since"]

PathLike = str | os.PathLike[str]

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str | datetime | timedelta | None) -> datetime | None:
    """``30d``/``12h``/``90m``/``2w``/``45s``, an ISO date or time, a timedelta or a datetime.

    Returns a naive UTC datetime (the registry stores naive UTC); aware datetimes are converted.
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        return now() - value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match:
            amount, unit = float(match.group(1)), match.group(2).lower()
            return now() - timedelta(**{_UNITS[unit]: amount})
        try:
            return parse_since(datetime.fromisoformat(value.strip()))
        except ValueError:
            pass
    raise ConfigError(
        f"since={value!r} is not a duration or a date: write e.g. '30d', '12h', '2w' or "
        "'2026-11-01'."
    )


@dataclass(slots=True)
class HistoryRun:
    """One stored monitor run, as history shows it.

    Not frozen: history builds one per run (10,000s for a busy model), and a frozen dataclass's
    ``__init__`` costs three times as much (one ``object.__setattr__`` per field).
    """

    run_id: str
    version: int  # the monitored model/dataset version
    status: str  # 'ok' | 'alert' | 'error'
    source: str  # 'interactive' | 'scheduled' | 'cli' | 'api'
    started_at: datetime
    finished_at: datetime
    n_rows: int | None
    drift_share: float | None
    n_alerts: int
    metrics: Mapping[str, float] = field(default_factory=dict)
    reference: str | None = None
    batch: str | None = None
    notebook: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    created_by: str = ""
    # A chunk of a timeline (monitor(..., time=, chunk=)): the period of data it checked.
    timeline: str | None = None
    chunk_index: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    # Late labels (mb.feedback): the run's newest feedback result; None/empty without one.
    labelled: int | None = None
    coverage: float | None = None  # labelled / predictions
    realized: Mapping[str, float] = field(default_factory=dict)  # quality on labelled rows

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def period(self) -> str:
        """The chunk and its period, e.g. 'chunk 3: 2026-03-01 – 2026-04-01' ('' for a run
        that is not a timeline's chunk)."""
        if self.timeline is None:
            return ""
        if self.period_start is None:
            return f"chunk {self.chunk_index}"
        fmt = "%Y-%m-%d" if _midnight(self.period_start, self.period_end) else "%Y-%m-%d %H:%M"
        end = f" – {self.period_end:{fmt}}" if self.period_end is not None else ""
        return f"chunk {self.chunk_index}: {self.period_start:{fmt}}{end}"


def _midnight(*times: datetime | None) -> bool:
    return all(t is None or (t.hour, t.minute, t.second) == (0, 0, 0) for t in times)


@dataclass(frozen=True, repr=False)
class HistoryReport(Renderable):
    """The monitor runs of ``name`` (optionally one version), newest first."""

    name: str
    entry_kind: str  # 'model' | 'dataset'
    version: int | None  # None: every version
    since: datetime | None
    limit: int | None
    runs: tuple[HistoryRun, ...] = ()
    total: int | None = None  # matching runs, also those beyond ``limit`` (None: len(runs))
    kind = "history"

    @property
    def target(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"

    @property
    def status_counts(self) -> dict[str, int]:
        counts = {"ok": 0, "alert": 0, "error": 0}
        for run in self.runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        return counts

    @property
    def has_periods(self) -> bool:
        """Whether some runs are chunks of a timeline (checked a period of data)."""
        return any(r.timeline is not None for r in self.runs)

    def by_period(self) -> HistoryReport:
        """The runs placed at the start of the period of data they checked (a timeline's
        chunks), others at their run time: what the chart draws, so a timeline shows as its
        periods rather than as one clump of runs started within seconds."""
        import dataclasses

        if not self.has_periods:
            return self
        runs = tuple(
            dataclasses.replace(r, started_at=r.period_start) if r.period_start is not None else r
            for r in self.runs
        )
        return dataclasses.replace(self, runs=runs)

    @property
    def has_feedback(self) -> bool:
        """Whether late labels realized the quality of some run (mb.feedback)."""
        return any(r.coverage is not None for r in self.runs)

    @property
    def realized_names(self) -> tuple[str, ...]:
        """Every realized metric some run has, in first-seen order (newest run first)."""
        seen: dict[str, None] = {}
        for run in self.runs:
            for key in run.realized:
                seen.setdefault(key, None)
        return tuple(seen)

    def with_realized(self) -> HistoryReport:
        """The runs with their realized quality as metrics named ``realized <metric>`` (first),
        so a chart draws realized quality over time beside the metrics measured at run time."""
        import dataclasses

        if not self.has_feedback:
            return self
        runs = tuple(
            dataclasses.replace(
                r, metrics={**{f"realized {k}": v for k, v in r.realized.items()}, **r.metrics}
            )
            if r.realized
            else r
            for r in self.runs
        )
        return dataclasses.replace(self, runs=runs)

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Every metric some run recorded, in first-seen order (newest run first)."""
        seen: dict[str, None] = {}
        for run in self.runs:
            for key in run.metrics:
                seen.setdefault(key, None)
        return tuple(seen)

    def to_frame(self) -> Any:
        """One row per run, oldest first (for plots), metrics as their own columns."""
        import pandas as pd

        names = self.metric_names
        realized = self.realized_names
        # Late labels: the newest feedback's coverage and realized metrics, when some run has one.
        extra = ["labelled", "coverage", *[f"realized {m}" for m in realized]]
        extra = extra if self.has_feedback else []
        rows = [
            {
                "run_id": r.run_id,
                "version": r.version,
                "status": r.status,
                "source": r.source,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "n_rows": r.n_rows,
                "drift_share": r.drift_share,
                "n_alerts": r.n_alerts,
                "timeline": r.timeline,
                "chunk_index": r.chunk_index,
                "period_start": r.period_start,
                "period_end": r.period_end,
                **{m: r.metrics.get(m) for m in names},
                "labelled": r.labelled,
                "coverage": r.coverage,
                **{f"realized {m}": r.realized.get(m) for m in realized},
            }
            for r in reversed(self.runs)
        ]
        return pd.DataFrame(
            rows,
            columns=[
                "run_id",
                "version",
                "status",
                "source",
                "started_at",
                "finished_at",
                "n_rows",
                "drift_share",
                "n_alerts",
                "timeline",
                "chunk_index",
                "period_start",
                "period_end",
                *names,
                *extra,
            ],
        )

    def __len__(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        counts = self.status_counts
        return f"<HistoryReport {self.target}: {len(self.runs)} runs, {counts['alert']} alerts>"


_METRICS = HISTORY_COLUMNS.index("metrics")
_PARAMETERS = HISTORY_COLUMNS.index("parameters")


def _runs(rows: list[tuple[Any, ...]]) -> tuple[HistoryRun, ...]:
    """Rows of ``Registry.monitor_history`` (in ``HistoryRun``'s field order) as runs, their
    JSON parsed in one call each: this loop is most of ``history()``'s time at 10,000 runs."""
    metrics = json_objects([row[_METRICS] for row in rows])
    parameters = json_objects([row[_PARAMETERS] for row in rows])
    runs = []
    for row, metric, params in zip(rows, metrics, parameters, strict=True):
        fields = list(row)
        fields[_METRICS] = metric
        fields[_PARAMETERS] = params
        runs.append(HistoryRun(*fields))
    return tuple(runs)


def history(
    ref: str,
    *,
    since: str | datetime | timedelta | None = None,
    limit: int | None = None,
    registry: PathLike | None = None,
) -> HistoryReport:
    """Every monitor run of a model or dataset (interactive and scheduled), newest first.

    ``ref`` is a name (every version) or a version (``churn@3``, ``churn@production``: that
    version only); ``since`` keeps runs started after it (``'30d'``, ``'12h'``, a date);
    ``limit`` keeps the newest N runs.
    """
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit={limit!r} must be a positive whole number of runs.")
    parsed = parse_ref(ref)
    start = parse_since(since)
    reg = open_registry(registry)
    resolved, every, rows, total = reg.monitor_history(parsed, since=start, limit=limit)
    runs = _runs(rows)
    if resolved.kind == "model" and runs:
        runs = _with_feedback(runs, reg.latest_feedback(resolved.name))
    return HistoryReport(
        name=resolved.name,
        entry_kind=resolved.kind,
        version=None if every else resolved.version,
        since=start,
        limit=limit,
        runs=runs,
        total=total,
    )


def _with_feedback(
    runs: tuple[HistoryRun, ...], latest: Mapping[str, Mapping[str, Any]]
) -> tuple[HistoryRun, ...]:
    """Each run with its newest feedback result (coverage, realized quality), when it has one."""
    import dataclasses

    if not latest:
        return runs
    out = []
    for run in runs:
        found = latest.get(run.run_id)
        if found is None:
            out.append(run)
            continue
        predictions = int(found["predictions"])
        labelled = int(found["labelled"])
        realized = {
            str(k): float(v)
            for k, v in json_objects([found["metrics"]])[0].items()
            if isinstance(v, (int, float))
        }
        out.append(
            dataclasses.replace(
                run,
                labelled=labelled,
                coverage=labelled / predictions if predictions else 0.0,
                realized=realized,
            )
        )
    return tuple(out)
