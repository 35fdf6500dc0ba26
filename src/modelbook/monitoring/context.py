"""What every check family reads: one :class:`RunContext` per monitor run.

A check family is a function ``checks(ctx: RunContext) -> list[CheckResult]`` in a module of its
own (:mod:`~modelbook.monitoring.schema`, :mod:`~modelbook.monitoring.data_drift`, …);
:mod:`~modelbook.monitoring.run` lists them in report order. The context is frozen: a family
reads the batch profile, the reference, the rules and the model's predictions from it and never
changes them. What a family measures beyond its checks (the drift tables, the metrics, the
serving cost) it records in :attr:`RunContext.findings`, which the report is built from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelbook.monitoring.report import CheckResult
from modelbook.monitoring.rules import MonitorRules

if TYPE_CHECKING:
    from modelbook.capture.datasets import TableSource
    from modelbook.monitoring.predictions import Predictions
    from modelbook.monitoring.predlog import LogInputs
    from modelbook.registry import Registry, Resolved
    from modelbook.stats.drift import ColumnDrift, DatasetDrift
    from modelbook.stats.profile import TableProfile

__all__ = ["CheckFamily", "Findings", "ModelRun", "RunContext"]


@dataclass
class Findings:
    """What the families measured beyond their checks: the report's data sections."""

    drift: DatasetDrift | None = None
    prediction_drift: ColumnDrift | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    serving: dict[str, float] = field(default_factory=dict)
    environment_changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    estimated: dict[str, dict[str, Any]] = field(default_factory=dict)  # monitoring/estimation
    multivariate: Any = None  # MultivariateDrift (monitoring/multivariate)
    segments: dict[str, Any] | None = None  # monitoring/segments (JSON shape documented there)
    fairness: dict[str, Any] | None = None  # monitoring/fairness (JSON shape documented there)


@dataclass(frozen=True)
class ModelRun:
    """The model and its answer on the batch, computed once for every model family."""

    model: Any
    task: str  # 'binary' | 'multiclass' | 'regression' (predictions.task_of)
    inputs: tuple[str, ...]  # the columns it was given, in training order
    predictions: Predictions | None  # None when predict could not run
    failure: str | None = None  # why not: the message of the model.predict check

    @property
    def classes(self) -> Any:
        """The classifier's ``classes_`` (None for a regressor or a model without them)."""
        return getattr(self.model, "classes_", None) if self.task != "regression" else None


@dataclass(frozen=True)
class RunContext:
    """One monitor run's inputs, computed before any check runs."""

    registry: Registry
    target: Resolved  # the model or dataset version monitored
    model_row: Mapping[str, Any] | None  # its model_versions row (None for a dataset)
    reference: Resolved  # the dataset version compared against
    reference_profile: TableProfile
    reference_target: str | None  # the reference dataset's target column
    source: TableSource  # the batch (Arrow in memory, or a Parquet/CSV path)
    batch: TableProfile  # profiled once, on the reference's bins and categories
    batch_names: tuple[str, ...]
    expected: tuple[str, ...]  # the input columns the batch should have
    signature: Mapping[str, Any] | None
    label_column: str | None  # the batch column that holds the labels
    labels: Any  # labels passed apart from the batch (numpy), when not a column
    columns: tuple[str, ...] | None  # columns= of the run: limits the column checks
    settings: MonitorRules
    store: bool  # whether anything is stored (store != 'none')
    trust: bool
    model: ModelRun | None = None  # set before the model families run
    findings: Findings = field(default_factory=Findings)
    # A model served elsewhere: its outputs are these batch columns (monitoring/served.py).
    scores_columns: tuple[str, ...] = ()  # binary P(positive), or probabilities per class
    predicted_column: str | None = None
    # The prediction log's ids (and times), read and checked before anything runs (predlog.py).
    log: LogInputs | None = None
    # Slices to monitor (monitoring/segments.py) and sensitive features (monitoring/fairness.py):
    # each entry is one column, or several for an intersection, e.g. (("region",), ("a", "b")).
    segments: tuple[tuple[str, ...], ...] = ()
    sensitive: tuple[tuple[str, ...], ...] = ()

    @property
    def served_columns(self) -> tuple[str, ...]:
        """Batch columns holding the model's outputs: never treated as input features."""
        return self.scores_columns + ((self.predicted_column,) if self.predicted_column else ())

    @property
    def has_labels(self) -> bool:
        return self.label_column is not None or self.labels is not None

    @property
    def watched(self) -> list[str]:
        """Expected columns and the label column, within ``columns=``."""
        names = list(self.expected) + ([self.label_column] if self.label_column else [])
        if self.columns is not None:
            names = [c for c in names if c in self.columns]
        return names

    @property
    def comparable(self) -> list[str]:
        """Watched columns present on both sides with the same kind and some values."""
        from modelbook.monitoring.checks import comparable_columns

        return comparable_columns(self.watched, self.reference_profile, self.batch)

    @property
    def registered_metrics(self) -> dict[str, float]:
        """The metrics registered with the model version, as given."""
        import json

        if self.model_row is None:
            return {}
        return {str(k): float(v) for k, v in json.loads(self.model_row["metrics"]).items()}

    @property
    def measured_metrics(self) -> dict[str, float]:
        """The metrics measured on the evaluation set at registration (empty: none)."""
        import json

        if self.model_row is None or not self.model_row.get("measured_metrics"):
            return {}
        measured = json.loads(self.model_row["measured_metrics"])
        return {str(k): float(v) for k, v in measured.items()}

    @property
    def evaluation(self) -> str | None:
        """The model version's evaluation set, ``<name>-eval@<v>`` (None: none registered)."""
        row = self.model_row
        if row is None or not row.get("eval_dataset"):
            return None
        return f"{row['eval_dataset']}@{row['eval_version']}"

    def y_true(self) -> Any:
        """The labels as a numpy array (read from the batch column when there is one)."""
        import numpy as np

        if self.label_column is None:
            return self.labels
        if self.source.table is not None:
            column = self.source.table.column(self.label_column)
            return np.asarray(column.to_numpy(zero_copy_only=False))
        from modelbook.monitoring.inputs import column_of_file

        return column_of_file(self.source, self.label_column)


#: A check family: the run context in, its checks out (in report order).
CheckFamily = Callable[[RunContext], list[CheckResult]]
