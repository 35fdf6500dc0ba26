"""One monitor run: resolve, profile the batch once, run the checks, store one run.

Order matters for safety: everything is computed first and the registry is written once at
the end (the run and its checks in one transaction), so a failure anywhere leaves everything
already stored as it was. Bad input the user can fix (empty batch, labels of the wrong length,
unknown columns) raises a :class:`~modelbook.errors.DataError` before anything is written;
a model whose ``predict`` fails is a finding, recorded as a check with status ``error``.
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelbook.config import load_config, merge
from modelbook.errors import ConfigError, DataError, MonitorError
from modelbook.monitoring import checks as chk
from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.monitoring.rules import STORE_MODES, MonitorRules
from modelbook.registry import Registry, Resolved, find_home, parse_ref
from modelbook.registry.store import now
from modelbook.results import to_jsonable

if TYPE_CHECKING:
    from modelbook.capture.datasets import TableSource
    from modelbook.stats.drift import ColumnDrift
    from modelbook.stats.profile import ColumnProfile, TableProfile

__all__ = ["monitor"]

PathLike = str | os.PathLike[str]

#: Higher is better for these metrics; the others (errors) are better lower.
_HIGHER_IS_BETTER = {"accuracy", "precision", "recall", "f1", "roc_auc", "r2"}
#: Names a registered metric may carry for the metric a monitor computes.
_METRIC_ALIASES = {
    "acc": "accuracy",
    "auc": "roc_auc",
    "rocauc": "roc_auc",
    "roc-auc": "roc_auc",
    "f1_score": "f1",
    "r2_score": "r2",
    "mean_absolute_error": "mae",
    "root_mean_squared_error": "rmse",
}
_LIBRARIES = {"sklearn": "scikit-learn", "xgboost": "xgboost", "lightgbm": "lightgbm"}
_PROGRESS_CELLS = 20_000_000  # ~2 s of work on this class of machine


@dataclass(frozen=True)
class _Target:
    resolved: Resolved
    row: Mapping[str, Any] | None  # model_versions row for a model


def _inputs(
    reg: Registry, ref: str, reference: str | None
) -> tuple[_Target, Resolved, TableProfile, str | None]:
    """Target, reference dataset, its stored profile and its target column (one registry read)."""
    from modelbook.stats.profile import TableProfile

    got = reg.monitor_inputs(
        parse_ref(ref), parse_ref(reference) if reference is not None else None
    )
    target = _Target(got["target"], got["model"])
    ds: Resolved | None = got["reference"]
    if ds is None:
        raise MonitorError(
            f"model {target.resolved} has no training dataset recorded: pass the dataset to "
            "compare against, e.g. reference='churn-training@1' (--reference)."
        )
    profile = TableProfile(
        rows=int(got["dataset"]["n_rows"]),
        columns=tuple(_column_profile(c) for c in got["profiles"]),
    )
    return target, ds, profile, got["dataset"]["target"]


def _labels_array(target: object, n_rows: int | None, what: str) -> Any:
    import numpy as np

    from modelbook.capture.datasets import to_arrow

    label = to_arrow(target, what="target")
    assert label.table is not None
    if label.table.num_columns != 1:
        raise DataError(f"target must be one column of labels; got {label.table.num_columns}.")
    if n_rows is not None and label.table.num_rows != n_rows:
        raise DataError(
            f"target has {label.table.num_rows:,} labels but {what} has {n_rows:,} rows: "
            "pass the labels that belong to this batch."
        )
    return np.asarray(label.table.column(0).to_numpy(zero_copy_only=False))


def _column_of_file(source: TableSource, column: str) -> Any:
    import duckdb
    import numpy as np

    from modelbook.capture.datasets import duckdb_scan

    assert source.path is not None
    con = duckdb.connect()
    try:
        quoted = '"' + column.replace('"', '""') + '"'
        table = con.sql(
            f"SELECT {quoted} FROM {duckdb_scan(source.path, source.kind)}"
        ).to_arrow_table()
    finally:
        con.close()
    return np.asarray(table.column(0).to_numpy(zero_copy_only=False))


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


def _rules(
    reg: Registry, rules: Mapping[str, Any] | None, store: str | None
) -> tuple[MonitorRules, str]:
    config = load_config(reg.home).get("monitor", {})
    if rules is not None:
        if not isinstance(rules, Mapping):
            raise ConfigError(
                "rules= must be a mapping like the [tool.modelbook.monitor] table, e.g. "
                "{'checks': {'schema.unexpected': 'info'}}."
            )
        config = merge(config, rules)
    settings = MonitorRules.from_mapping(config)
    mode = settings.store if store is None else store
    if mode not in STORE_MODES:
        raise ConfigError(f"store={mode!r} is not one of {', '.join(STORE_MODES)}.")
    return settings, mode


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
    """Check a batch against a model version (or dataset version) and store the run.

    See :func:`modelbook.api.monitor` for the arguments.
    """
    from modelbook.capture.datasets import to_arrow
    from modelbook.capture.environment import capture_environment, current_user
    from modelbook.stats.drift import drift_from_profiles
    from modelbook.stats.profile import profile_table

    started = now()
    reg = Registry(find_home(registry))
    settings, mode = _rules(reg, rules, store)
    # Converting the batch (pandas → Arrow) overlaps the registry read: both release the GIL.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        converting = pool.submit(to_arrow, data, what="data")
        try:
            tgt, ref_ds, ref_profile, ref_target = _inputs(reg, ref, reference)
        except BaseException:
            converting.cancel()
            raise
        source = converting.result()
    resolved, row = tgt.resolved, tgt.row
    signature = json.loads(row["signature"]) if row is not None and row["signature"] else None
    if signature is not None:
        expected = [str(c["name"]) for c in signature["columns"]]
    else:
        expected = [n for n in ref_profile.names if n != ref_target]

    batch_names = (
        list(source.table.column_names) if source.table is not None else _file_columns(source)
    )
    label_column: str | None = None
    labels: Any = None
    if isinstance(target, str):
        if target not in batch_names:
            raise DataError(
                f"target column {target!r} is not in the batch; columns: "
                f"{', '.join(batch_names[:20])}."
            )
        label_column = target
    elif target is None and ref_target is not None and ref_target in batch_names:
        label_column = ref_target  # the batch carries the training target's column
    elif target is not None:
        n = source.table.num_rows if source.table is not None else None
        labels = _labels_array(target, n, "the batch")
        if source.table is not None and ref_target and ref_target not in batch_names:
            import pyarrow as pa

            source = _with_column(source, ref_target, pa.array(labels))
            batch_names.append(ref_target)
            label_column = ref_target

    if columns is not None:
        columns = [str(c) for c in columns]
        unknown = [c for c in columns if c not in ref_profile.names]
        if unknown:
            raise DataError(
                f"columns not in the reference {ref_ds}: {', '.join(map(repr, unknown))}."
            )

    enabled = _show_progress(settings.progress, source)
    progress = _Progress(enabled, total=5 if row is not None else 3)
    try:
        # 1. Profile the batch once, on the reference's bins and categories.
        profiled: Any = source.table if source.table is not None else source.path
        if source.table is not None and columns is not None:
            keep = [n for n in batch_names if n in columns or n not in ref_profile.names]
            profiled = source.table.select(keep)
        batch = profile_table(profiled, reference=ref_profile)
        progress.step("profiled batch")
        if labels is not None and source.table is None and len(labels) != batch.rows:
            raise DataError(
                f"target has {len(labels):,} labels but the batch has {batch.rows:,} rows: "
                "pass the labels that belong to this batch."
            )

        # 2. Schema, invariants, stability, drift: all from the two profiles.
        found: list[CheckResult] = []
        ignore = [label_column] if label_column else []
        found += chk.schema_checks(
            expected, ref_profile, batch, settings, batch_names=batch_names, ignore=ignore
        )
        watched = expected + ([label_column] if label_column else [])
        if columns is not None:
            watched = [c for c in watched if c in columns]
        comparable = chk.comparable_columns(watched, ref_profile, batch)
        found += chk.invariant_checks(comparable, ref_profile, batch, settings)
        found += chk.stability_checks(comparable, ref_profile, batch, settings)
        tested = [
            c
            for c in comparable
            if c != label_column and settings.rule("drift.column", c).severity != "off"
        ]
        drift = drift_from_profiles(ref_profile, batch, rules=settings.drift, columns=tested)
        found += chk.drift_checks(drift, settings)
        if label_column in comparable and settings.rule("drift.label").severity != "off":
            # Label drift (prior shift) is reported on its own, outside the dataset's share.
            label = drift_from_profiles(
                ref_profile, batch, rules=settings.drift, columns=[label_column]
            ).columns
            found += [chk.label_drift_check(d, settings) for d in label]
        progress.step("drift")

        # 3. The model: predictions, prediction drift, quality, serving cost, environment.
        prediction_drift: ColumnDrift | None = None
        metrics: dict[str, float] = {}
        reference_metrics: dict[str, float] = {}
        serving: dict[str, float] = {}
        env_changes: list[tuple[str, str | None, str | None]] = []
        if row is not None:
            reference_metrics = {str(k): float(v) for k, v in json.loads(row["metrics"]).items()}
            library = _library_of(row)
            env_found, env_changes = chk.environment_checks(
                json.loads(row["environment"]),
                capture_environment(),
                model_library=library,
                rules=settings,
            )
            found += env_found
            model_found, prediction_drift, metrics, serving = _model_checks(
                reg,
                tgt,
                ref_ds,
                source,
                signature=signature,
                batch_names=batch_names,
                ref_names=ref_profile.names,
                label_column=label_column,
                labels=labels,
                reference_metrics=reference_metrics,
                settings=settings,
                trust=trust,
                store=mode != "none",
                progress=progress,
            )
            found += model_found

        status = chk.summarise(found)
        finished = now()
        from modelbook.capture.context import run_context

        context = run_context()
        batch_dataset: str | None = None
        if mode == "data":
            batch_dataset = _store_batch(reg, resolved, source)
        run_id = str(uuid.uuid4()) if mode != "none" else None
        report = MonitorReport(
            target=str(resolved),
            target_kind=resolved.kind,
            reference=str(ref_ds),
            status=status,
            checks=tuple(found),
            n_rows=batch.rows,
            started_at=started,
            finished_at=finished,
            run_id=run_id,
            drift=drift,
            prediction_drift=prediction_drift,
            metrics=metrics,
            reference_metrics=reference_metrics,
            serving=serving,
            environment_changes=tuple(env_changes),
            batch_dataset=batch_dataset,
            store=mode,
            source=context.source,
            notebook=context.notebook,
        )
        if run_id is not None:
            _store_run(reg, report, context.parameters, current_user())
            from modelbook.alerts import deliver

            deliver(report, registry=reg.home)  # after storing: a failing sink loses nothing
        progress.step("stored")
    finally:
        progress.close()
    if fail_on_alert:
        report.raise_for_alerts()
    return report


def _file_columns(source: TableSource) -> list[str]:
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    assert source.path is not None
    con = duckdb.connect()
    try:
        return list(con.sql(f"SELECT * FROM {duckdb_scan(source.path, source.kind)}").columns)
    except duckdb.Error as exc:
        raise DataError(f"cannot read {source.label}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()


def _with_column(source: TableSource, name: str, values: Any) -> TableSource:
    import dataclasses

    assert source.table is not None
    return dataclasses.replace(source, table=source.table.append_column(name, values))


def _library_of(row: Mapping[str, Any]) -> str | None:
    flavor = str(row["flavor"])
    if flavor in _LIBRARIES:
        return _LIBRARIES[flavor]
    top = str(row["class_name"]).split(".")[0]
    return top.lower().replace("_", "-") if top and top != "builtins" else None


def _metric_name(name: str) -> str:
    key = name.lower()
    return _METRIC_ALIASES.get(key, key)


def quality_checks(
    metrics: Mapping[str, float], registered: Mapping[str, float], settings: MonitorRules
) -> list[CheckResult]:
    """Each computed metric against the value registered with the version (when there is one)."""
    known = {_metric_name(k): v for k, v in registered.items()}
    out: list[CheckResult] = []
    for name, value in metrics.items():
        base = known.get(name)
        if base is None or math.isnan(value):
            out.append(CheckResult(f"quality.{name}", "info", f"{name} = {value:.4g}"))
            continue
        if name in _HIGHER_IS_BETTER:
            rule = settings.rule("quality.drop")
            delta = base - value
            failed = delta > (rule.threshold or 0.0)
            test = "drop"
        else:
            rule = settings.rule("quality.increase")
            delta = (value - base) / abs(base) if base else (math.inf if value > base else 0.0)
            failed = delta > (rule.threshold or 0.0)
            test = "relative increase"
        if rule.severity == "off":
            status = "info"
        else:
            status = ("alert" if rule.severity == "alert" else "info") if failed else "ok"
        out.append(
            CheckResult(
                f"quality.{name}",
                status,
                f"{name} = {value:.4g} (registered {base:.4g}, {value - base:+.4g})",
                test=test,
                statistic=delta,
                threshold=rule.threshold,
            )
        )
    return out


def serving_checks(serving: Mapping[str, float], settings: MonitorRules) -> list[CheckResult]:
    out = []
    for check, key, higher_bad in (
        ("serving.latency_p95_ms", "latency_ms_p95", True),
        ("serving.rows_per_second", "rows_per_second", False),
    ):
        value = serving.get(key)
        rule = settings.rule(check)
        if value is None or rule.severity == "off":
            continue
        if rule.threshold is None:
            status = "info"
        else:
            failed = value > rule.threshold if higher_bad else value < rule.threshold
            status = ("alert" if rule.severity == "alert" else "info") if failed else "ok"
        label = "p95 latency of a one-row predict" if higher_bad else "batch throughput"
        unit = "ms" if higher_bad else "rows/s"
        out.append(
            CheckResult(
                check,
                status,
                f"{label}: {value:,.3g} {unit}",
                statistic=value,
                threshold=rule.threshold,
            )
        )
    return out


def _model_checks(
    reg: Registry,
    tgt: _Target,
    ref_ds: Resolved,
    source: TableSource,
    *,
    signature: Mapping[str, Any] | None,
    batch_names: Sequence[str],
    ref_names: Sequence[str],
    label_column: str | None,
    labels: Any,
    reference_metrics: Mapping[str, float],
    settings: MonitorRules,
    trust: bool,
    store: bool,
    progress: _Progress,
) -> tuple[list[CheckResult], ColumnDrift | None, dict[str, float], dict[str, float]]:
    import numpy as np

    from modelbook import api
    from modelbook.monitoring.predictions import input_columns, predict_batches, task_of
    from modelbook.stats.metrics import quality_metrics

    out: list[CheckResult] = []
    model = api.load(str(tgt.resolved), trust=trust, registry=reg.home)
    task = task_of(model)
    inputs = input_columns(
        dict(signature) if signature else None,
        [n for n in ref_names if n != label_column],
    )
    missing = [c for c in inputs if c not in batch_names]
    if missing:
        out.append(
            CheckResult(
                "model.predict",
                "error",
                f"cannot predict: input columns missing from the batch: {', '.join(missing)}",
            )
        )
        progress.step("predictions skipped")
        return out, None, {}, {}
    try:
        preds = predict_batches(
            model,
            table=source.table,
            path=source.path,
            file_kind=source.kind,
            columns=inputs,
        )
    except Exception as exc:  # the model is user code: any failure is a finding
        out.append(CheckResult("model.predict", "error", f"predict() failed: {_describe(exc)}"))
        progress.step("predictions failed")
        return out, None, {}, {}
    progress.step("predicted")

    values = preds.monitored
    if values.dtype.kind in "fc":
        nonfinite = int(np.count_nonzero(~np.isfinite(values)))
        rule = settings.rule("stability.predictions")
        share = nonfinite / len(values) if len(values) else 0.0
        if rule.severity != "off":
            failed = nonfinite > 0 and share > (rule.threshold or 0.0)
            out.append(
                CheckResult(
                    "stability.predictions",
                    chk._status(rule, failed),
                    f"{nonfinite:,} NaN/±inf predictions ({share:.2%})",
                    test="non-finite share",
                    statistic=share,
                    threshold=rule.threshold,
                )
            )

    prediction_drift: ColumnDrift | None = None
    if settings.rule("drift.prediction").severity != "off":
        try:
            prediction_drift = _prediction_drift(
                reg, tgt, ref_ds, model, inputs, values, task, settings, store=store
            )
            out.append(chk.prediction_drift_check(prediction_drift, settings))
        except Exception as exc:
            out.append(
                CheckResult(
                    "drift.prediction",
                    "error",
                    f"reference predictions could not be computed: {_describe(exc)}",
                )
            )
    progress.step("prediction drift")

    metrics: dict[str, float] = {}
    if label_column is not None or labels is not None:
        y_true = labels
        if label_column is not None:
            y_true = (
                np.asarray(source.table.column(label_column).to_numpy(zero_copy_only=False))
                if source.table is not None
                else _column_of_file(source, label_column)
            )
        # Labels often arrive late: rows without a label are left out of the metrics.
        known = ~pd_isna(y_true)
        if not known.any():
            out.append(CheckResult("quality", "info", "no labels: every label is missing"))
        else:
            try:
                metrics = quality_metrics(
                    y_true[known],
                    preds.labels[known],
                    y_score=preds.scores[known] if preds.scores is not None else None,
                    task="regression" if task == "regression" else "classification",
                )
            except (DataError, ValueError, TypeError) as exc:
                out.append(CheckResult("quality", "error", f"metrics failed: {_describe(exc)}"))
            else:
                if not known.all():
                    unlabelled = int((~known).sum())
                    out.append(
                        CheckResult(
                            "quality",
                            "info",
                            f"{unlabelled:,} rows without a label left out of the metrics",
                        )
                    )
                out += quality_checks(metrics, reference_metrics, settings)
    serving = preds.serving()
    out += serving_checks(serving, settings)
    return out, prediction_drift, metrics, serving


def pd_isna(values: Any) -> Any:
    """Missing labels (None, NaN, pandas NA) as a boolean numpy mask."""
    import numpy as np
    import pandas as pd

    return np.asarray(pd.isna(values), dtype=bool)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _prediction_drift(
    reg: Registry,
    tgt: _Target,
    ref_ds: Resolved,
    model: Any,
    inputs: list[str],
    values: Any,
    task: str,
    settings: MonitorRules,
    *,
    store: bool,
) -> ColumnDrift:
    """Batch predictions against the model's predictions on the reference dataset."""
    from modelbook.monitoring.predictions import predict_batches, prediction_table
    from modelbook.stats.drift import drift_from_profiles
    from modelbook.stats.profile import TableProfile, profile_table

    categorical = task == "multiclass"
    stored = reg.reference_predictions(tgt.resolved, ref_ds)
    if stored is not None:
        ref_col = _column_profile(stored)
    else:
        path = reg.objects.verified_path(reg.dataset_version(ref_ds.name, ref_ds.version)["blob"])
        ref_preds = predict_batches(model, path=path, file_kind="parquet", columns=inputs)
        ref_col = profile_table(
            prediction_table(ref_preds.monitored, categorical=categorical)
        ).columns[0]
        if store:
            import dataclasses

            reg.store_reference_predictions(tgt.resolved, ref_ds, dataclasses.asdict(ref_col))
    ref_profile = TableProfile(rows=ref_col.count, columns=(ref_col,))
    cur = profile_table(prediction_table(values, categorical=categorical), reference=ref_profile)
    return drift_from_profiles(ref_profile, cur, rules=settings.drift).columns[0]


def _column_profile(data: Mapping[str, Any]) -> ColumnProfile:
    from modelbook.stats.profile import ColumnProfile

    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return ColumnProfile(**fields)


def _store_batch(reg: Registry, resolved: Resolved, source: TableSource) -> str:
    from modelbook import api

    data: Any = source.table if source.table is not None else source.path
    stored = api.register(data, name=f"{resolved.name}-batches", registry=reg.home)
    return str(stored.ref)


def _clean(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _store_run(
    reg: Registry, report: MonitorReport, parameters: Mapping[str, Any], user: str
) -> None:
    """The run and its checks, in one registry transaction."""
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
    reg.add_monitor_run(run, rows)
