"""Fairness: the model's decisions and errors compared across groups of sensitive features.

``sensitive=["gender", ("gender", "age_band")]`` (``--sensitive gender gender*age_band``) names
batch columns; each entry is one column or an intersection. For each, the groups' counts and
rates and the disparity measures come from :mod:`modelbook.stats.fairness` (Fairlearn's
definitions, no fairlearn at runtime), with the rules of ``[tool.modelbook.monitor.fairness]``
(:class:`~modelbook.stats.fairness.FairnessRules`).

Checks, one per measure: ``fairness.<key>.<measure>`` (a ratio below ``ratio`` or a difference
above ``difference`` alerts; "ratio 0.71 < 0.8", a statement about numbers, never a verdict such
as "biased": Fairlearn warns that the four-fifths rule is often misapplied), and
``fairness.<key>.<measure>.change`` against the same disparity on the model's evaluation set
(else its training data, the run's reference). A ratio alerts on change when it falls below
``ratio`` × its baseline, a difference when it grows by more than ``difference``. The baseline
is computed once, by scoring the stored dataset, and kept in the registry
(``derived_statistics``, kind ``fairness_baseline``). Missing sensitive columns and
sensitive features without a model are refused before the run by
:func:`modelbook.monitoring.segments.validate`. Severities: ``fairness.disparity`` and
``fairness.change`` in ``[tool.modelbook.monitor.checks]``. A measure that cannot be computed
(too few groups with enough rows, no labels) is an ``info`` check saying why.

Binary classifiers: the positive class is ``classes_[1]`` (the class whose probability is the
score). Multiclass: each class one-vs-rest (``fairness.<key>.class=<c>.<measure>``), stated in
the report. Regressors: per-group MAE and RMSE and their ratio. Without labels: selection-rate
measures only, the label-based ones ``insufficient``, stated.

``report.fairness`` (``findings.fairness``), plain JSON::

    {"settings": {"min_group": 30, "min_positives": 10, "ratio": 0.8, "difference": 0.1,
                  "method": "between_groups", "reference_group": null},
     "task": "binary" | "multiclass" | "regression", "labels": true, "positive": "1" | null,
     "note": "multiclass: one-vs-rest per class" | "no labels: selection rate only" | null,
     "columns": [
       {"key": "gender" | "gender*age_band", "by": [...], "class": null | "<c> (one-vs-rest)",
        "baseline": {"source": "evaluation" | "training" | "reference" | null,
                     "dataset": "churn-eval@1" | null,
                     "note": "churn-training@1 has no column 'gender'" | null},
        "overall": {"selection_rate": 0.27, "tpr": 0.75, ...},
        "groups": [{"value": "F", "rows": 500, "positives": 120, "negatives": 380,
                    "selection_rate": 0.3, "tpr": 0.8 | null, "fpr": 0.1 | null,
                    "accuracy": 0.9 | null, "mae": null, "rmse": null,
                    "status": "ok" | "insufficient", "reason": "12 rows < min_group 30" | null,
                    "insufficient_for": ["tpr"]}],
        "measures": [{"name": "demographic_parity_ratio", "value": 0.71 | null,
                      "threshold": 0.8, "kind": "ratio" | "difference",
                      "status": "alert" | "ok" | "insufficient", "groups_covered": 4,
                      "groups_total": 5, "baseline": 0.93 | null, "change": -0.22 | null,
                      "message": "ratio 0.71 < 0.8 (selection rate F 0.221 vs M 0.311; ...)"}]}]}
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from modelbook.errors import DataError
from modelbook.monitoring.checks import describe
from modelbook.monitoring.report import CheckResult

if TYPE_CHECKING:
    import pyarrow as pa

    from modelbook.monitoring.context import RunContext
    from modelbook.registry import Resolved
    from modelbook.stats.fairness import ColumnFairness, FairnessRules, Measure

__all__ = ["BASELINE_KIND", "MAX_GROUPS", "checks", "outputs_of", "sensitive_key"]

BASELINE_KIND = "fairness_baseline"
#: More groups than this in one sensitive column (or intersection) is refused: fairness compares
#: groups, and thousands of them are an id, not a group (bucket it first).
MAX_GROUPS = 1_000


def sensitive_key(columns: Sequence[str]) -> str:
    """``("gender", "age_band")`` → ``"gender*age_band"`` (the check names' key)."""
    return "*".join(columns)


@dataclass(frozen=True)
class _Outputs:
    """What the model answered on a table, and the labels to judge it with."""

    task: str  # 'binary' | 'multiclass' | 'regression'
    predicted: Any  # numpy, one per row
    truth: Any  # numpy labels (None: none usable)
    labelled: Any  # bool mask of rows with a label (None when truth is None)
    classes: list[Any] | None  # binary: [negative, positive]; multiclass: every class
    why_no_labels: str | None  # why truth is None


def checks(ctx: RunContext) -> list[CheckResult]:
    """fairness.<key>.<measure> per sensitive column; records ``findings.fairness``."""
    if not ctx.sensitive:
        return []
    model = ctx.model
    if model is None or model.predictions is None:
        return [CheckResult("fairness", "info", "fairness not measured: the model did not predict")]
    rules = ctx.settings.fairness
    outputs = _outputs(ctx)
    table = _sensitive_table(ctx, sorted({c for entry in ctx.sensitive for c in entry}))
    found: list[tuple[tuple[str, ...], list[ColumnFairness], dict[str, dict[str, float]]]] = []
    for entry in ctx.sensitive:
        codes, values = _groups(table, tuple(entry))
        results = _measure_all(codes, values, tuple(entry), outputs, rules)
        found.append((tuple(entry), results, _registered_by_group(ctx, outputs, codes, results)))
    baselines = _Baselines(ctx)
    columns: list[dict[str, Any]] = []
    out: list[CheckResult] = []
    for entry, results, metrics in found:
        base = baselines.of(entry)
        for result in results:
            measured = _with_baseline(result, base)
            data = measured.to_json()
            for group in data["groups"]:
                group["metrics"] = metrics.get(group["value"], {})
            data["baseline"] = {"source": base.source, "dataset": base.dataset, "note": base.note}
            columns.append(data)
            out += _checks(ctx, measured, base)
    if any(b.note for b in baselines.seen.values()):
        notes = sorted({b.note for b in baselines.seen.values() if b.note})
        out.append(CheckResult("fairness.baseline", "info", "; ".join(notes)))
    ctx.findings.fairness = {
        "settings": rules.to_json(),
        "task": outputs.task,
        "labels": outputs.truth is not None,
        "positive": str(outputs.classes[1])
        if outputs.task == "binary" and outputs.classes
        else None,
        "note": _note(outputs),
        "columns": columns,
    }
    return out


def _note(outputs: _Outputs) -> str | None:
    notes = []
    if outputs.task == "multiclass":
        notes.append("multiclass: one-vs-rest per class")
    if outputs.truth is None:
        if outputs.task == "regression":
            notes.append(f"{outputs.why_no_labels}: MAE and RMSE need labels")
        elif outputs.why_no_labels == "no labels":
            notes.append("no labels: selection rate only")
        else:
            notes.append(f"selection rate only: {outputs.why_no_labels}")
    return "; ".join(notes) or None


# -- the model's answers ----------------------------------------------------------------------


def _outputs(ctx: RunContext) -> _Outputs:
    """The batch's predictions, classes and usable labels."""
    assert ctx.model is not None and ctx.model.predictions is not None
    labels = ctx.y_true() if ctx.has_labels else None
    return outputs_of(ctx.model.task, ctx.model.classes, ctx.model.predictions.labels, labels)


def outputs_of(task: str, classes: Any, predicted: Any, labels: Any) -> _Outputs:
    """Predictions and labels as the measures read them (also for the baseline's dataset)."""
    import pandas as pd

    from modelbook.monitoring.quality import label_problem

    predicted = np.asarray(predicted)
    if task != "regression":
        found = list(classes) if classes is not None else sorted(set(predicted.tolist()))
        task = "binary" if len(found) == 2 else "multiclass"
    else:
        found = None
    if labels is None:
        return _Outputs(task, predicted, None, None, found, "no labels")
    y = np.asarray(labels)
    known = ~np.asarray(pd.isna(y), dtype=bool)
    if not known.any():
        return _Outputs(task, predicted, None, None, found, "every label is missing")
    if task == "regression":
        values = np.full(len(y), np.nan)
        try:
            values[known] = np.asarray(y[known], dtype=np.float64)
        except (TypeError, ValueError):
            return _Outputs(task, predicted, None, None, None, "the labels are not numbers")
        return _Outputs(task, predicted, values, known, None, None)
    problem = label_problem(y[known], predicted[known], classes)
    if problem is not None:
        return _Outputs(task, predicted, None, None, found, problem)
    return _Outputs(task, predicted, y, known, found, None)


def _groups(table: pa.Table, entry: tuple[str, ...]) -> tuple[Any, list[str]]:
    """Group codes per row and group values of one sensitive column or intersection."""
    from modelbook.stats.fairness import combine_groups

    codes, values = combine_groups([_dictionary(table.column(c)) for c in entry])
    if len(values) > MAX_GROUPS:
        raise DataError(
            f"sensitive {sensitive_key(entry)!r} has {len(values):,} groups (> {MAX_GROUPS:,}): "
            "fairness compares groups; bucket it (e.g. age bands) or pass a column with fewer "
            "values."
        )
    return codes, values


def _measure_all(
    codes: Any,
    values: list[str],
    entry: tuple[str, ...],
    outputs: _Outputs,
    rules: FairnessRules,
) -> list[ColumnFairness]:
    """The fairness of one sensitive column or intersection (one result per class if multiclass)."""
    from modelbook.stats.fairness import classification_fairness, regression_fairness

    key = sensitive_key(entry)
    no_labels = outputs.why_no_labels or "no labels"
    if outputs.task == "regression":
        return [
            regression_fairness(
                codes,
                values,
                outputs.predicted,
                truth=outputs.truth,
                labelled=outputs.labelled,
                rules=rules,
                key=key,
                by=entry,
                no_labels=no_labels,
            )
        ]
    assert outputs.classes is not None
    positives = outputs.classes[1:] if outputs.task == "binary" else outputs.classes
    results = []
    for cls in positives:
        truth = None
        if outputs.truth is not None:
            truth = np.asarray(outputs.truth == cls, dtype=bool)
        results.append(
            classification_fairness(
                codes,
                values,
                np.asarray(outputs.predicted == cls, dtype=bool),
                truth=truth,
                labelled=outputs.labelled,
                rules=rules,
                key=key,
                by=entry,
                class_label=f"{cls} (one-vs-rest)" if outputs.task == "multiclass" else None,
                no_labels=no_labels,
            )
        )
    return results


def _sensitive_table(ctx: RunContext, names: list[str]) -> pa.Table:
    """The sensitive columns of the batch (one read of a file)."""
    source = ctx.source
    if source.table is not None:
        return source.table.select(names)
    return read_columns(source.path, source.kind, names)


def read_columns(path: Any, kind: str, names: Sequence[str]) -> pa.Table:
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    con = duckdb.connect()
    try:
        quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in names)
        return con.sql(f"SELECT {quoted} FROM {duckdb_scan(path, kind)}").to_arrow_table()
    finally:
        con.close()


def _dictionary(column: Any) -> tuple[Any, list[str]]:
    """A column as (codes, value names), -1 for null (NaN counts as null), via Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    if pa.types.is_floating(array.type):
        array = pc.if_else(pc.is_nan(array), pa.scalar(None, array.type), array)
    encoded = pc.dictionary_encode(array)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    return codes, [str(v) for v in encoded.dictionary.to_pylist()]


def _registered_by_group(
    ctx: RunContext, outputs: _Outputs, codes: Any, results: list[ColumnFairness]
) -> dict[str, dict[str, float]]:
    """The model's registered (and evaluation-measured) metrics per group with enough rows, for
    binary classifiers and regressors with labels: those computed from counts
    (:data:`~modelbook.stats.fairness.GROUP_METRICS`), one vectorised pass each."""
    from modelbook.stats.fairness import GROUP_METRICS, group_metrics
    from modelbook.stats.metrics import lookup_metric

    if outputs.truth is None or outputs.task not in GROUP_METRICS or not results:
        return {}
    cheap = GROUP_METRICS[outputs.task]
    names: list[str] = []
    for name in [*ctx.registered_metrics, *ctx.measured_metrics]:
        found = lookup_metric(name)
        if found is not None and found[0].name in cheap and found[0].name not in names:
            names.append(found[0].name)
    if not names:
        return {}
    groups = results[0].groups
    if outputs.task == "regression":
        per_group = group_metrics(
            codes, len(groups), names, predicted=outputs.predicted, truth=outputs.truth,
            labelled=outputs.labelled,
        )  # fmt: skip
    else:
        assert outputs.classes is not None
        positive = outputs.classes[1]
        per_group = group_metrics(
            codes, len(groups), names, selected=outputs.predicted == positive,
            truth=outputs.truth == positive, labelled=outputs.labelled,
        )  # fmt: skip
    return {g.value: per_group[i] for i, g in enumerate(groups) if g.status == "ok"}


# -- checks -----------------------------------------------------------------------------------


def _name(result: ColumnFairness, measure: str) -> str:
    if result.class_label is None:
        return f"fairness.{result.key}.{measure}"
    cls = result.class_label.removesuffix(" (one-vs-rest)")
    return f"fairness.{result.key}.class={cls}.{measure}"


def _checks(ctx: RunContext, result: ColumnFairness, base: _Baseline) -> list[CheckResult]:
    disparity = ctx.settings.rule("fairness.disparity").severity
    change = ctx.settings.rule("fairness.change").severity
    method = _method(ctx.settings.fairness, result.key)
    prefix = f"{result.class_label}: " if result.class_label else ""
    out: list[CheckResult] = []
    for m in result.measures:
        if disparity != "off":
            status = {"alert": disparity, "ok": "ok", "insufficient": "info"}[m.status]
            out.append(
                CheckResult(
                    _name(result, m.name),
                    status,
                    prefix + m.message,
                    test=method,
                    statistic=m.value,
                    threshold=m.threshold,
                )
            )
        if change != "off" and m.baseline is not None and m.value is not None:
            out.append(_change_check(result, m, base, change, prefix))
    return out


def _method(rules: FairnessRules, key: str) -> str:
    ref = rules.reference_for(key)
    return f"reference_group={ref}" if ref is not None else rules.method


def _change_check(
    result: ColumnFairness, m: Measure, base: _Baseline, severity: str, prefix: str
) -> CheckResult:
    assert m.value is not None and m.baseline is not None and m.change is not None
    # The same thresholds as the disparity: a ratio that fell below `ratio` × its baseline, a
    # difference that grew by more than `difference`. Only a worsening alerts.
    if m.kind == "ratio":
        failed = m.value < m.baseline * m.threshold
    else:
        failed = m.value - m.baseline > m.threshold
    where = base.dataset or "the baseline"
    if m.kind == "ratio":
        factor = m.value / m.baseline if m.baseline > 0 else float("inf")
        sign = "<" if failed else "≥"
        text = f"ratio {m.value:.2f}, {m.baseline:.2f} on {where} (×{factor:.2f} {sign} {m.threshold:g})"
        statistic = factor
    else:
        sign = ">" if failed else "≤"
        text = (
            f"difference {m.value:.3f}, {m.baseline:.3f} on {where} "
            f"({m.change:+.3f} {sign} {m.threshold:g})"
        )
        statistic = m.change
    status = ("alert" if severity == "alert" else "info") if failed else "ok"
    return CheckResult(
        _name(result, m.name) + ".change",
        status,
        prefix + text,
        test="change",
        statistic=statistic,
        threshold=m.threshold,
    )


# -- baseline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Baseline:
    """The disparity on the evaluation set (else the training data), per class label."""

    source: str | None  # 'evaluation' | 'training' | 'reference' (reference=) | None (none)
    dataset: str | None
    note: str | None
    values: dict[str, dict[str, float | None]]  # class label ('' binary) -> measure -> value


def _with_baseline(result: ColumnFairness, base: _Baseline) -> ColumnFairness:
    values = base.values.get(result.class_label or "")
    if not values:
        return result
    measures = []
    for m in result.measures:
        before = values.get(m.name)
        if before is None or m.value is None:
            measures.append(dataclasses.replace(m, baseline=before))
        else:
            measures.append(dataclasses.replace(m, baseline=before, change=m.value - before))
    return dataclasses.replace(result, measures=tuple(measures))


class _Baselines:
    """Baselines per sensitive entry; the stored dataset is scored at most once per run."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.seen: dict[tuple[str, ...], _Baseline] = {}
        self._scored: dict[str, tuple[pa.Table, _Outputs]] = {}

    def candidates(self) -> list[tuple[str, Resolved]]:
        from modelbook.registry import Resolved

        out: list[tuple[str, Resolved]] = []
        row = self.ctx.model_row
        if row is not None and row.get("eval_dataset"):
            out.append(
                ("evaluation", Resolved("dataset", row["eval_dataset"], int(row["eval_version"])))
            )
        reference = self.ctx.reference
        if not out or out[0][1] != reference:
            # The run's reference: the model's training data unless reference= named another.
            trained = row is not None and (row.get("train_dataset"), row.get("train_version")) == (
                reference.name,
                reference.version,
            )
            out.append(("training" if trained else "reference", reference))
        return out

    def of(self, entry: tuple[str, ...]) -> _Baseline:
        if entry not in self.seen:
            try:
                self.seen[entry] = self._find(entry)
            except Exception as exc:  # a baseline is context: its failure never fails the run
                note = f"no fairness baseline: {describe(exc)}"
                self.seen[entry] = _Baseline(None, None, note, {})
        return self.seen[entry]

    def _find(self, entry: tuple[str, ...]) -> _Baseline:
        import pyarrow.parquet as pq

        ctx = self.ctx
        rules = ctx.settings.fairness
        notes: list[str] = []
        for source, ds in self.candidates():
            path = ctx.registry.objects.verified_path(
                ctx.registry.dataset_version(ds.name, ds.version)["blob"]
            )
            names = set(pq.read_schema(path).names)
            missing = [c for c in entry if c not in names]
            if missing:
                notes.append(f"{ds} has no column {missing[0]!r}")
                continue
            key = json.dumps(
                {"dataset": str(ds), "by": list(entry), **rules.to_json()}, sort_keys=True
            )
            target = ctx.target
            cached = ctx.registry.derived_statistic(BASELINE_KIND, target.name, target.version, key)
            if cached is None:
                cached = {"values": self._compute(ds, path, entry)}
                if ctx.store:
                    ctx.registry.store_derived_statistic(
                        BASELINE_KIND, target.name, target.version, key, cached
                    )
            return _Baseline(source, str(ds), None, cached["values"])
        return _Baseline(None, None, "no fairness baseline: " + "; ".join(notes), {})

    def _compute(self, ds: Resolved, path: Any, entry: tuple[str, ...]) -> dict[str, Any]:
        table, outputs = self._score(ds, path)
        codes, values = _groups(table, entry)
        results = _measure_all(codes, values, entry, outputs, self.ctx.settings.fairness)
        return {r.class_label or "": {m.name: m.value for m in r.measures} for r in results}

    def _score(self, ds: Resolved, path: Any) -> tuple[pa.Table, _Outputs]:
        """The stored dataset and the model's answers on it (scored once per run)."""
        import pyarrow.parquet as pq

        from modelbook.monitoring.predictions import predict_batches

        if str(ds) in self._scored:
            return self._scored[str(ds)]
        ctx = self.ctx
        assert ctx.model is not None
        row = ctx.registry.dataset_version(ds.name, ds.version)
        table = pq.read_table(path)
        inputs = list(ctx.model.inputs)
        predictions = predict_batches(ctx.model.model, table=table, columns=inputs)
        target = row.get("target")
        labels = None
        if target and target in table.column_names:
            labels = np.asarray(table.column(target).to_numpy(zero_copy_only=False))
        outputs = outputs_of(ctx.model.task, ctx.model.classes, predictions.labels, labels)
        self._scored[str(ds)] = (table, outputs)
        return table, outputs
