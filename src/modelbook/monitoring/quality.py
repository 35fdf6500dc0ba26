"""Quality: the model's predictions against the batch's labels, and against the metrics registered
with the model version.

The baseline of a metric is the value *measured* on the version's evaluation set at registration
when there is one (``quality.roc_auc``: "measured 0.97 on churn-eval@1"): it was computed by the
same code on held-out rows, so it compares like with like. Otherwise it is the value the user
registered, as given.

Metrics carry scikit-learn's names, so the averaging of a multiclass metric is in its name
(``quality.f1_macro``, ``quality.roc_auc_ovr``; :mod:`modelbook.stats.metrics`). Each metric
registered with the version is computed and compared when it applies; one that cannot be
(an unknown name, ``f1`` for a multiclass model, ``roc_auc`` without ``predict_proba``…) gets an
``info`` note saying why. Labels of another type than the model's classes (strings for a model
trained on integers) are an ``error`` that says so, not a failed comparison.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from typing import TYPE_CHECKING, Any

from modelbook.errors import DataError
from modelbook.monitoring.checks import describe
from modelbook.monitoring.report import CheckResult
from modelbook.monitoring.rules import MonitorRules

if TYPE_CHECKING:
    from modelbook.monitoring.context import ModelRun, RunContext

__all__ = ["checks", "label_problem", "quality_checks", "registered_targets"]


def checks(ctx: RunContext) -> list[CheckResult]:
    """quality.<metric> for each metric; notes on unlabelled rows and uncompared metrics."""
    import numpy as np
    import pandas as pd

    from modelbook.stats.metrics import quality_metrics

    model = ctx.model
    if model is None or model.predictions is None or not ctx.has_labels:
        return []
    preds = model.predictions
    y_true = ctx.y_true()
    # Labels often arrive late: rows without a label are left out of the metrics.
    known = ~np.asarray(pd.isna(y_true), dtype=bool)
    # Served scores= may hold NaN / out-of-range values (a stability.scores alert): those rows
    # are left out of the realized metrics too, as they are of the estimate (same rows, fair).
    raw = preds.scores if preds.scores is not None else preds.proba
    invalid = 0
    if raw is not None:
        from modelbook.monitoring.served import invalid_scores

        bad = invalid_scores(np.asarray(raw, dtype=np.float64))[0]
        invalid = int((bad & known).sum())
        known &= ~bad
    if not known.any():
        why = "no row has both a label and a usable score" if invalid else "every label is missing"
        return [CheckResult("quality", "info", f"no labels: {why}")]
    y, predicted = y_true[known], preds.labels[known]
    out: list[CheckResult] = []
    if model.task != "regression":
        problem = label_problem(y, predicted, model.classes)
        if problem is not None:
            return [CheckResult("quality", "error", problem)]
        out += _unknown_classes(y, model.classes)
    scores = preds.scores if preds.scores is not None else preds.proba
    targets, notes = registered_targets(
        ctx.registered_metrics, model, y, predicted, scores=scores is not None
    )
    measured = ctx.measured_metrics
    targets.update(measured)
    try:
        metrics = quality_metrics(
            y,
            predicted,
            y_score=scores[known] if scores is not None else None,
            task="regression" if model.task == "regression" else "classification",
            classes=model.classes,
            extra=list(targets),
        )
    except (DataError, ValueError, TypeError) as exc:
        return [CheckResult("quality", "error", f"metrics failed: {describe(exc)}")]
    ctx.findings.metrics = metrics
    if invalid:
        out.append(
            CheckResult(
                "quality", "info", f"{invalid:,} labelled rows with unusable scores left out"
            )
        )
    if not known.all() and int((~known).sum()) > invalid:
        unlabelled = int((~known).sum()) - invalid
        out.append(
            CheckResult(
                "quality", "info", f"{unlabelled:,} rows without a label left out of the metrics"
            )
        )
    out += quality_checks(
        metrics, targets, ctx.settings, measured=set(measured), evaluation=ctx.evaluation
    )
    return out + notes


def label_problem(y: Any, predicted: Any, classes: Any) -> str | None:
    """Why labels cannot be compared with a classifier's predictions (None: they can)."""
    import numpy as np

    from modelbook.stats.metrics import describe_values, label_type_mismatch

    answers = classes if classes is not None else predicted
    mismatch = label_type_mismatch(y, answers)
    if mismatch is not None:
        labels, model = mismatch
        return (
            f"labels are {labels} but the model predicts {model}: pass labels of the model's type"
        )
    if classes is not None and not np.isin(y, classes).any():
        return (
            f"labels {describe_values(y)} are none of the model's classes "
            f"{describe_values(classes)}: pass labels of the classes the model predicts"
        )
    return None


def _unknown_classes(y: Any, classes: Any) -> list[CheckResult]:
    import numpy as np

    from modelbook.stats.metrics import describe_values

    if classes is None:
        return []
    unknown = ~np.isin(y, classes)
    if not unknown.any():
        return []
    return [
        CheckResult(
            "quality",
            "info",
            f"{int(unknown.sum()):,} labels ({unknown.mean():.2%}) are classes the model never "
            f"predicts {describe_values(y[unknown])}: they count as errors",
        )
    ]


def registered_targets(
    registered: Mapping[str, float],
    model: ModelRun,
    y: Any,
    predicted: Any,
    *,
    scores: bool,
) -> tuple[dict[str, float], list[CheckResult]]:
    """The registered metrics to compare (by metric name, value as the metric reads), and a note
    for each registered metric that cannot be compared, saying why."""
    import numpy as np

    from modelbook.stats.metrics import lookup_metric, unavailable_reason

    if model.task == "regression":
        kind, n_classes = "regression", None
    else:
        classes = model.classes
        n_classes = (
            len(classes)
            if classes is not None
            else len(np.unique(np.concatenate([np.asarray(y), np.asarray(predicted)])))
        )
        kind = "binary" if n_classes <= 2 else "multiclass"
    targets: dict[str, float] = {}
    notes: list[CheckResult] = []
    for name, value in registered.items():
        found = lookup_metric(name)
        reason: str | None
        if found is None:
            reason = (
                "modelbook does not compute it (it compares scikit-learn's metric names, e.g. "
                "accuracy, f1_macro, roc_auc_ovr, neg_mean_absolute_error)"
            )
        else:
            metric, sign = found
            reason = unavailable_reason(metric, task=kind, n_classes=n_classes, scores=scores)
            if reason is None and not math.isfinite(value):
                reason = "its registered value is not a number"
            elif reason is None and not metric.higher_is_better and sign * value < 0:
                reason = (
                    f"an error cannot be negative: register {metric.name} = {-value:g}, or name "
                    f"the negated score neg_{name}"
                )
            elif reason is None and metric.name in targets:
                reason = f"{metric.name} is registered twice; the first value is compared"
            if reason is None:
                targets[metric.name] = sign * value
                continue
        notes.append(
            CheckResult(
                "quality", "info", f"registered {name} = {value:.4g} was not compared: {reason}"
            )
        )
    return targets, notes


def quality_checks(
    metrics: Mapping[str, float],
    registered: Mapping[str, float],
    settings: MonitorRules,
    *,
    measured: Set[str] = frozenset(),
    evaluation: str | None = None,
) -> list[CheckResult]:
    """Each computed metric against its baseline (by metric name), when there is one.

    ``measured``: the names whose baseline in ``registered`` was measured on the evaluation set
    ``evaluation`` at registration (said so in the message), not given by the user.
    """
    from modelbook.stats.metrics import METRICS

    out: list[CheckResult] = []
    for name, value in metrics.items():
        base = registered.get(name)
        if base is None or math.isnan(value):
            out.append(CheckResult(f"quality.{name}", "info", f"{name} = {value:.4g}"))
            continue
        if METRICS[name].higher_is_better:
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
                f"{name} = {value:.4g} ({_baseline(name, base, measured, evaluation)}, "
                f"{value - base:+.4g})",
                test=test,
                statistic=delta,
                threshold=rule.threshold,
            )
        )
    return out


def _baseline(name: str, base: float, measured: Set[str], evaluation: str | None) -> str:
    if name in measured:
        return f"measured {base:.4g} on {evaluation or 'the evaluation set'}"
    return f"registered {base:.4g}"
