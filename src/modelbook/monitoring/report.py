"""The result of a monitor run: what was checked, what was found, and whether to act."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelbook.errors import AlertError
from modelbook.results import Renderable, to_jsonable

if TYPE_CHECKING:
    from modelbook.stats.drift import ColumnDrift, DatasetDrift
    from modelbook.stats.multivariate import MultivariateDrift

__all__ = ["STATUSES", "CheckResult", "MonitorReport"]


def _plain(value: Any) -> Any:
    """A JSON scalar: numpy scalars unwrapped, NaN/±inf as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if hasattr(value, "item"):
        return _plain(value.item())
    return to_jsonable(value)


def _drift_dict(c: ColumnDrift) -> dict[str, Any]:
    """One drift result as JSON values, without the generic (slow) recursion over bin counts."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(c):
        value = getattr(c, f.name)
        if isinstance(value, (tuple, list)):
            out[f.name] = [_plain(v) for v in value]
        elif isinstance(value, Mapping):
            out[f.name] = {str(k): _plain(v) for k, v in value.items()}
        else:
            out[f.name] = _plain(value)
    return out


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


#: Status of a check: 'ok' passed, 'alert' failed an alert rule, 'error' could not be run
#: (e.g. the model's predict raised), 'info' reported without a rule.
STATUSES = ("ok", "alert", "error", "info")


@dataclass(frozen=True)
class CheckResult:
    """One finding; stored as one ``check_results`` row."""

    check: str  # e.g. 'schema.missing', 'drift.column', 'quality.accuracy'
    status: str  # 'ok' | 'alert' | 'error' | 'info'
    message: str
    column: str | None = None
    test: str | None = None
    statistic: float | None = None
    threshold: float | None = None

    def __str__(self) -> str:
        where = f" [{self.column}]" if self.column else ""
        return f"{self.check}{where}: {self.message}"


@dataclass(frozen=True, repr=False)
class MonitorReport(Renderable):
    """A monitor run: every check, the drift verdicts, quality, serving cost and status.

    ``status`` is ``'error'`` if a check could not be run, else ``'alert'`` if any check
    alerted, else ``'ok'``. ``run_id`` is None when nothing was stored (``store='none'``).
    """

    target: str  # name@version monitored
    target_kind: str  # 'model' | 'dataset'
    reference: str | None  # dataset name@version compared against
    status: str
    checks: tuple[CheckResult, ...]
    n_rows: int
    started_at: datetime
    finished_at: datetime
    run_id: str | None = None
    drift: DatasetDrift | None = None
    prediction_drift: ColumnDrift | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    reference_metrics: Mapping[str, float] = field(default_factory=dict)
    serving: Mapping[str, float] = field(default_factory=dict)
    environment_changes: tuple[tuple[str, str | None, str | None], ...] = ()
    # Performance estimated without labels (monitoring/estimation.py), by metric: value, lower,
    # upper, se, n, band_lower, band_upper, band_how, status, reason, realized, registered,
    # registered_kind ('measured' | 'registered'), evaluation, rule ('band' | 'drop').
    estimated: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Multivariate drift (monitoring/multivariate.py): PCA reconstruction error against its
    # band, and the opt-in domain classifier; None when not run.
    multivariate: MultivariateDrift | None = None
    batch_dataset: str | None = None
    store: str = "profile"
    source: str = "api"
    notebook: str | None = None
    # One chunk of a timeline (monitoring/timeline.py): the timeline's id, the chunk's position,
    # and its period (start included, end excluded for calendar chunks; see the timeline).
    timeline: str | None = None
    chunk_index: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    # The run's prediction log (monitoring/predlog.py; with id=): {"rows", "id_column", "blob"}.
    prediction_log: Mapping[str, Any] | None = None
    # Per-segment results (monitoring/segments.py) and fairness (monitoring/fairness.py) as
    # plain JSON mappings; their shapes are documented in those modules. None: not requested.
    segments: Mapping[str, Any] | None = None
    fairness: Mapping[str, Any] | None = None
    kind = "monitor_report"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def alerts(self) -> tuple[CheckResult, ...]:
        """Checks that alerted or could not be run (errors count: they need a person too)."""
        return tuple(c for c in self.checks if c.status in ("alert", "error"))

    @property
    def errors(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status == "error")

    @property
    def drift_share(self) -> float | None:
        return self.drift.drifted_share if self.drift is not None else None

    def registered_metric(self, name: str) -> float | None:
        """The registered value a computed metric (``f1_macro``, ``mae``…) is compared with.

        Registered names are read as :func:`modelbook.stats.metrics.lookup_metric` reads them
        (``auc`` is ``roc_auc``; ``neg_mean_absolute_error = -0.3`` is ``mae = 0.3``).
        """
        from modelbook.stats.metrics import lookup_metric

        for key, value in self.reference_metrics.items():
            found = lookup_metric(key)
            if found is not None and found[0].name == name:
                return found[1] * value
        return None

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def to_frame(self) -> Any:
        """The checks as a pandas DataFrame, one row per check."""
        import pandas as pd

        columns = ["check", "column", "status", "test", "statistic", "threshold", "message"]
        return pd.DataFrame(
            [[getattr(c, name) for name in columns] for c in self.checks], columns=columns
        )

    def summary(self) -> str:
        """One line naming what alerted, e.g. for an exception or a log."""
        alerts = self.alerts
        if not alerts:
            return f"monitor run of {self.target}: ok ({len(self.checks)} checks)"
        shown = "; ".join(str(c) for c in alerts[:5])
        more = f"; and {len(alerts) - 5} more" if len(alerts) > 5 else ""
        noun = "alert" if len(alerts) == 1 else "alerts"
        return f"monitor run of {self.target}: {self.status}, {len(alerts)} {noun}: {shown}{more}"

    def raise_for_alerts(self) -> MonitorReport:
        """Raise :class:`~modelbook.errors.AlertError` unless the run is ok; else return self."""
        if not self.ok:
            raise AlertError(self.summary() + ".")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; drift results are converted directly (thousands of bin counts)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "drift" and value is not None:
                out[f.name] = {
                    "columns": [_drift_dict(c) for c in value.columns],
                    "drifted_share": value.drifted_share,
                    "share_threshold": value.share_threshold,
                    "drifted": value.drifted,
                    "correction": value.correction,
                }
            elif f.name == "prediction_drift" and value is not None:
                out[f.name] = _drift_dict(value)
            else:
                out[f.name] = to_jsonable(value)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorReport:
        """Rebuild a report from :meth:`to_dict` / the JSON stored with a run.

        JSON has no NaN: statistics stored as null come back as NaN in the drift results.
        """
        from modelbook.stats.drift import ColumnDrift, DatasetDrift
        from modelbook.stats.multivariate import MultivariateDrift

        def column(d: Mapping[str, Any]) -> ColumnDrift:
            fields: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in d.items()
            }
            for key in ("statistic", "threshold"):
                if fields.get(key) is None:
                    fields[key] = math.nan
            fields["stats"] = {
                k: math.nan if v is None else v for k, v in (d.get("stats") or {}).items()
            }
            return ColumnDrift(**fields)

        drift = data.get("drift")
        prediction = data.get("prediction_drift")
        return cls(
            target=data["target"],
            target_kind=data["target_kind"],
            reference=data.get("reference"),
            status=data["status"],
            checks=tuple(CheckResult(**c) for c in data.get("checks", ())),
            n_rows=int(data["n_rows"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            finished_at=datetime.fromisoformat(data["finished_at"]),
            run_id=data.get("run_id"),
            drift=DatasetDrift(
                columns=tuple(column(c) for c in drift["columns"]),
                drifted_share=drift["drifted_share"],
                share_threshold=drift["share_threshold"],
                drifted=drift["drifted"],
                correction=drift.get("correction", "none"),
            )
            if drift
            else None,
            prediction_drift=column(prediction) if prediction else None,
            metrics=dict(data.get("metrics") or {}),
            reference_metrics=dict(data.get("reference_metrics") or {}),
            serving=dict(data.get("serving") or {}),
            environment_changes=tuple(
                (str(p), old, new) for p, old, new in data.get("environment_changes", ())
            ),
            estimated={str(k): dict(v) for k, v in (data.get("estimated") or {}).items()},
            multivariate=MultivariateDrift.from_dict(data["multivariate"])
            if data.get("multivariate")
            else None,
            batch_dataset=data.get("batch_dataset"),
            store=data.get("store", "profile"),
            source=data.get("source", "api"),
            notebook=data.get("notebook"),
            timeline=data.get("timeline"),
            chunk_index=data.get("chunk_index"),
            period_start=_when(data.get("period_start")),
            period_end=_when(data.get("period_end")),
            prediction_log=dict(data["prediction_log"]) if data.get("prediction_log") else None,
            segments=dict(data["segments"]) if data.get("segments") else None,
            fairness=dict(data["fairness"]) if data.get("fairness") else None,
        )

    @classmethod
    def from_json(cls, text: str) -> MonitorReport:
        return cls.from_dict(json.loads(text))

    def __repr__(self) -> str:
        return (
            f"<MonitorReport {self.target}: {self.status}, {len(self.alerts)} alerts, "
            f"{self.n_rows:,} rows>"
        )
