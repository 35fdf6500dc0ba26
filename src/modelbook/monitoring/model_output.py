"""The model on the batch: load it, predict once (:func:`run_model`), and check that it answered
(``model.predict``) with finite values (``stability.predictions``).

A model whose ``predict`` fails is a finding, not an exception: the run records a
``model.predict`` error and the families that need predictions report nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelbook.monitoring.checks import describe, status_of
from modelbook.monitoring.report import CheckResult

if TYPE_CHECKING:
    from modelbook.monitoring.context import ModelRun, RunContext

__all__ = ["checks", "run_model"]


def run_model(ctx: RunContext, *, proba: bool = False) -> ModelRun:
    """Load the model version and predict the batch (chunk by chunk for a file).

    Raises what loading raises (e.g. an untrusted artifact without ``trust=True``): nothing has
    been stored yet. A failing ``predict`` is returned as :attr:`ModelRun.failure`.
    ``proba``: keep a multiclass model's probabilities anyway (a challenger comparison).
    """
    from modelbook import catalog
    from modelbook.monitoring.context import ModelRun
    from modelbook.monitoring.predictions import input_columns, predict_batches, task_of

    model = catalog.load(str(ctx.target), trust=ctx.trust, registry=ctx.registry.location)
    task = task_of(model)
    inputs = input_columns(
        dict(ctx.signature) if ctx.signature else None,
        [n for n in ctx.reference_profile.names if n != ctx.label_column],
    )
    if ctx.served_columns:  # served elsewhere: its outputs are batch columns (served.py)
        from modelbook.monitoring.served import served_predictions

        classes = getattr(model, "classes_", None) if task != "regression" else None
        return ModelRun(model, task, tuple(inputs), served_predictions(ctx, task, classes))
    missing = [c for c in inputs if c not in ctx.batch_names]
    if missing:
        failure = f"cannot predict: input columns missing from the batch: {', '.join(missing)}"
        return ModelRun(model, task, tuple(inputs), None, failure)
    try:
        predictions = predict_batches(
            model,
            table=ctx.source.table,
            path=ctx.source.path,
            file_kind=ctx.source.kind,
            columns=inputs,
            # Multiclass probabilities for quality (labels), estimated performance and the
            # prediction log's score (max probability and its class).
            proba=proba
            or ctx.has_labels
            or ctx.log is not None
            or bool(ctx.model_row and ctx.model_row.get("estimator")),
        )
    except Exception as exc:  # the model is user code: any failure is a finding
        return ModelRun(model, task, tuple(inputs), None, f"predict() failed: {describe(exc)}")
    return ModelRun(model, task, tuple(inputs), predictions)


def checks(ctx: RunContext) -> list[CheckResult]:
    """model.predict (an error when the model could not predict), stability.predictions."""
    import numpy as np

    if ctx.model is None:
        return []
    if ctx.model.failure is not None or ctx.model.predictions is None:
        return [CheckResult("model.predict", "error", ctx.model.failure or "no predictions")]
    values = ctx.model.predictions.monitored
    rule = ctx.settings.rule("stability.predictions")
    if values.dtype.kind not in "fc" or rule.severity == "off":
        return []
    nonfinite = int(np.count_nonzero(~np.isfinite(values)))
    share = nonfinite / len(values) if len(values) else 0.0
    failed = nonfinite > 0 and share > (rule.threshold or 0.0)
    return [
        CheckResult(
            "stability.predictions",
            status_of(rule, failed),
            f"{nonfinite:,} NaN/±inf predictions ({share:.2%})",
            test="non-finite share",
            statistic=share,
            threshold=rule.threshold,
        )
    ]
