"""Alert rules of a monitor run: which finding is an alert, and from which threshold.

Every check has a *severity* (``"alert"``: makes the run's status ``alert``; ``"info"``: reported
but never alerts; ``"off"``: not run) and, where it measures something, a *threshold*. Rules come
from the ``[tool.modelbook.monitor]`` table of ``pyproject.toml``, the registry's
``monitor.toml``, and the ``rules=`` argument, merged in that order (see :mod:`modelbook.config`).

In TOML a rule is a severity string, a threshold number, or a table of both::

    [tool.modelbook.monitor.checks]
    schema.unexpected = "info"                       # severity only
    invariants.range = 0.05                          # threshold only
    serving.latency_p95_ms = { threshold = 20, severity = "alert" }

    [tool.modelbook.monitor.columns.customer_id]     # per column
    drift.column = "off"

    [tool.modelbook.monitor.drift]                   # the drift tests (modelbook.stats.drift)
    drift_share = 0.3
    correction = "holm"                              # p-values corrected over the columns

    [tool.modelbook.monitor.fairness]                # sensitive= (modelbook.stats.fairness)
    min_group = 30
    ratio = 0.8

Segments (:mod:`modelbook.monitoring.segments`) sit in the ``monitor`` table itself::

    [tool.modelbook.monitor]
    segments = ["region", "region*plan"]             # or ["region", ["region", "plan"]]
    max_segments = 50                                # more values: the top 50 and "(other)"
    min_group = 30                                   # smaller groups: reported, not compared

Defaults (why) are in :data:`DEFAULT_CHECKS` and ``docs/monitoring.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelbook.errors import ConfigError
from modelbook.stats.drift import DriftRules
from modelbook.stats.fairness import FairnessRules
from modelbook.stats.multivariate import MultivariateRules

__all__ = [
    "COLUMN_CHECKS",
    "DEFAULT_CHECKS",
    "STORE_MODES",
    "MonitorRules",
    "Rule",
]

SEVERITIES = ("alert", "info", "off")
STORE_MODES = ("none", "profile", "data")
ESTIMATION_MODES = ("band", "drop")
WATCHED_PACKAGES = ("numpy", "scipy", "pandas", "pyarrow")


@dataclass(frozen=True)
class Rule:
    """Severity of a check and its threshold (None: the check has no threshold, or none set)."""

    severity: str
    threshold: float | None = None
    mode: str | None = None  # performance.estimated only: 'band' (default) or 'drop'


#: Built-in rules. Thresholds are chosen so that a batch drawn from the training distribution
#: raises nothing at any size (they are shares and differences, which do not shrink with N).
DEFAULT_CHECKS: Mapping[str, Rule] = {
    # A column the model needs is missing / a column it never saw / a column changed kind.
    "schema.missing": Rule("alert"),
    "schema.unexpected": Rule("alert"),
    "schema.type": Rule("alert"),
    "schema.all_null": Rule("alert"),
    # Share of values outside [training min, training max]; an identical distribution has
    # ~1/n there, so 1 % is a real change of range.
    "invariants.range": Rule("alert", 0.01),
    # Share of rows whose category the training data never had.
    "invariants.categories": Rule("alert", 0.01),
    # Increase of the null share over the training data (absolute, 0.05 = 5 points).
    "invariants.nulls": Rule("alert", 0.05),
    # Increase of the NaN share; any ±inf where the training data had none.
    "stability.nan": Rule("alert", 0.01),
    "stability.inf": Rule("alert", 0.0),
    # Share of NaN/±inf among the model's predictions.
    "stability.predictions": Rule("alert", 0.0),
    # Share of rows whose scores are NaN or outside [0, 1] (served scores=, or predict_proba).
    "stability.scores": Rule("alert", 0.0),
    # Estimated performance without labels (monitoring/estimation.py): mode "band" alerts when
    # the estimate leaves the band of the realized metric on evaluation chunks of the batch's
    # size; mode "drop" when it falls more than `threshold` below the measured/registered value
    # (for MAE/RMSE: rises by more than `threshold`, relative).
    "performance.estimated": Rule("alert", 0.05, "band"),
    # Drift tests: thresholds live in the [drift] table (modelbook.stats.drift).
    "drift.column": Rule("alert"),
    "drift.dataset": Rule("alert"),
    "drift.prediction": Rule("alert"),
    # Drift of the labels (when the batch has them): a change of the class balance.
    "drift.label": Rule("alert"),
    # Multivariate drift ([multivariate] table; modelbook.stats.multivariate): the batch's PCA
    # reconstruction error outside the reference band; the domain classifier's AUC (opt-in).
    "drift.multivariate": Rule("alert"),
    "drift.domain_classifier": Rule("alert"),
    # Fairness ([fairness] table; monitoring/fairness.py): a disparity measure past its ratio /
    # difference threshold, and its change against the evaluation/training data's disparity.
    "fairness.disparity": Rule("alert"),
    "fairness.change": Rule("alert"),
    # Quality against the metrics registered with the version: absolute drop of a
    # higher-is-better metric (accuracy, F1, ROC-AUC, R²), relative increase of an error (MAE, RMSE).
    "quality.drop": Rule("alert", 0.05),
    "quality.increase": Rule("alert", 0.10),
    # Serving cost: reported; alerts only when a threshold is set.
    "serving.latency_p95_ms": Rule("alert"),
    "serving.rows_per_second": Rule("alert"),
    # Package versions changed since registration: the model's own library is a finding.
    "environment.model_library": Rule("alert"),
    "environment.packages": Rule("info"),
}

#: Checks that can be set per column under ``[...monitor.columns.NAME]``.
COLUMN_CHECKS = (
    "schema.type",
    "schema.all_null",
    "invariants.range",
    "invariants.categories",
    "invariants.nulls",
    "stability.nan",
    "stability.inf",
    "drift.column",
)

_MONITOR_KEYS = (
    "store", "progress", "packages", "drift", "multivariate", "fairness", "checks", "columns",
    "id_column", "prediction_log_days", "segments", "max_segments", "min_group",
)  # fmt: skip


def _leaf(value: object, where: str, default: Rule) -> Rule:
    if isinstance(value, str):
        if value not in SEVERITIES:
            raise ConfigError(f"{where} must be one of {', '.join(SEVERITIES)}; got {value!r}.")
        return Rule(value, default.threshold, default.mode)
    if isinstance(value, bool):
        raise ConfigError(f"{where} must be a severity or a number, got {value!r}.")
    if isinstance(value, int | float):
        if math.isnan(value) or value < 0:
            raise ConfigError(f"{where} must be a number ≥ 0, got {value!r}.")
        return Rule(default.severity, float(value), default.mode)
    if isinstance(value, Mapping):
        keys = ("severity", "threshold") + (("mode",) if default.mode is not None else ())
        extra = [k for k in value if k not in keys]
        if extra:
            raise ConfigError(f"unknown key {extra[0]!r} in {where}; allowed: {', '.join(keys)}.")
        rule = default
        if "mode" in value:
            if value["mode"] not in ESTIMATION_MODES:
                raise ConfigError(
                    f"{where}.mode must be one of {', '.join(ESTIMATION_MODES)}; "
                    f"got {value['mode']!r}."
                )
            rule = Rule(rule.severity, rule.threshold, str(value["mode"]))
        if "severity" in value:
            rule = _leaf(value["severity"], f"{where}.severity", rule)
        if "threshold" in value:
            rule = _leaf(value["threshold"], f"{where}.threshold", rule)
        return rule
    raise ConfigError(f"{where} must be a severity, a number or a table; got {value!r}.")


def _flatten(
    table: Mapping[str, Any], where: str, allowed: tuple[str, ...], base: Mapping[str, Rule]
) -> dict[str, Rule]:
    """``{"schema": {"missing": "info"}}`` or ``{"schema.missing": "info"}`` → dotted rules."""
    out: dict[str, Rule] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if name in allowed:
                out[name] = _leaf(value, f"{where}.{name}", out.get(name, base[name]))
            elif isinstance(value, Mapping) and any(a.startswith(f"{name}.") for a in allowed):
                walk(value, f"{name}.")
            else:
                raise ConfigError(
                    f"unknown check {name!r} in {where}; known checks: {', '.join(allowed)}."
                )

    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table.")
    walk(table, "")
    return out


@dataclass(frozen=True)
class MonitorRules:
    """The validated ``monitor`` settings of one run."""

    store: str = "profile"
    progress: str = "auto"  # 'auto' | 'always' | 'never'
    packages: tuple[str, ...] = WATCHED_PACKAGES
    drift: DriftRules = field(default_factory=DriftRules)
    multivariate: MultivariateRules = field(default_factory=MultivariateRules)
    fairness: FairnessRules = field(default_factory=FairnessRules)  # monitoring/fairness.py
    checks: Mapping[str, Rule] = field(default_factory=lambda: dict(DEFAULT_CHECKS))
    columns: Mapping[str, Mapping[str, Rule]] = field(default_factory=dict)
    # The prediction log (monitoring/predlog.py): the batch's id column (None: no log), and how
    # many days `gc` keeps a log (None: forever).
    id_column: str | None = None
    prediction_log_days: float | None = None
    # Segments (monitoring/segments.py): slices monitored by default (one tuple per slice), how
    # many values a slice keeps before folding the rest into "(other)", and the smallest group
    # that is compared (smaller ones are reported as insufficient).
    segments: tuple[tuple[str, ...], ...] = ()
    max_segments: int = 50
    min_group: int = 30

    def rule(self, check: str, column: str | None = None) -> Rule:
        """The rule of ``check``, with the column's override when one is set."""
        if column is not None:
            override = self.columns.get(column, {}).get(check)
            if override is not None:
                return override
        return self.checks.get(check, DEFAULT_CHECKS[check])

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], where: str = "monitor") -> MonitorRules:
        """Validate a ``monitor`` table (merged config plus ``rules=``); unknown keys are errors."""
        if not isinstance(config, Mapping):
            raise ConfigError(f"{where} settings must be a table, got {type(config).__name__}.")
        for key in config:
            if key not in _MONITOR_KEYS:
                raise ConfigError(
                    f"unknown setting {key!r} in {where}; allowed: {', '.join(_MONITOR_KEYS)}."
                )
        store = config.get("store", "profile")
        if store not in STORE_MODES:
            raise ConfigError(
                f"{where}.store must be one of {', '.join(STORE_MODES)}; got {store!r}."
            )
        progress = config.get("progress", "auto")
        if progress is True:
            progress = "always"
        elif progress is False:
            progress = "never"
        if progress not in ("auto", "always", "never"):
            raise ConfigError(f"{where}.progress must be 'auto', true or false; got {progress!r}.")
        packages = config.get("packages", list(WATCHED_PACKAGES))
        if not isinstance(packages, list | tuple) or not all(isinstance(p, str) for p in packages):
            raise ConfigError(f"{where}.packages must be a list of package names.")
        try:
            drift = DriftRules.from_mapping(config.get("drift", {}))
        except ConfigError as exc:
            raise ConfigError(f"in {where}.drift: {exc}") from None
        multivariate = MultivariateRules.from_mapping(
            config.get("multivariate", {}), f"{where}.multivariate"
        )
        fairness = FairnessRules.from_mapping(config.get("fairness", {}), f"{where}.fairness")
        checks = dict(DEFAULT_CHECKS)
        checks.update(
            _flatten(config.get("checks", {}), f"{where}.checks", tuple(DEFAULT_CHECKS), checks)
        )
        raw_columns = config.get("columns", {})
        if not isinstance(raw_columns, Mapping):
            raise ConfigError(f"{where}.columns must be a table of column name = checks.")
        columns = {
            str(name): _flatten(table, f"{where}.columns.{name}", COLUMN_CHECKS, checks)
            for name, table in raw_columns.items()
        }
        id_column = config.get("id_column")
        if id_column is not None and (not isinstance(id_column, str) or not id_column):
            raise ConfigError(f"{where}.id_column must be a column name; got {id_column!r}.")
        days = config.get("prediction_log_days")
        if days is not None and (
            isinstance(days, bool)
            or not isinstance(days, int | float)
            or math.isnan(days)
            or days <= 0
        ):
            raise ConfigError(
                f"{where}.prediction_log_days must be a number of days > 0; got {days!r}."
            )
        from modelbook.stats.segments import parse_slices

        segments = parse_slices(config.get("segments"), f"{where}.segments")
        sizes = {k: config.get(k, d) for k, d in (("max_segments", 50), ("min_group", 30))}
        for key, value in sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where}.{key} must be a whole number ≥ 1; got {value!r}.")
        return cls(
            segments=segments,
            max_segments=sizes["max_segments"],
            min_group=sizes["min_group"],
            id_column=id_column,
            prediction_log_days=None if days is None else float(days),
            store=str(store),
            progress=str(progress),
            packages=tuple(p.lower().replace("_", "-") for p in packages),
            drift=drift,
            multivariate=multivariate,
            fairness=fairness,
            checks=checks,
            columns=columns,
        )
