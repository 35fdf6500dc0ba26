"""Prediction drift: the model's predictions on the batch against its predictions on the reference.

What is compared (a score, a class or a value) is described in
:mod:`~modelbook.monitoring.predictions`. The reference predictions are computed once per
(model version, reference dataset) and stored, so later runs only profile the batch's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelbook.monitoring.checks import describe, one_column_drift_check
from modelbook.monitoring.report import CheckResult

if TYPE_CHECKING:
    from modelbook.monitoring.context import RunContext
    from modelbook.stats.drift import ColumnDrift

__all__ = ["checks", "prediction_drift"]


def checks(ctx: RunContext) -> list[CheckResult]:
    """drift.prediction; records the drift result (an error when the reference cannot be scored)."""
    model = ctx.model
    if model is None or model.predictions is None:
        return []
    if ctx.settings.rule("drift.prediction").severity == "off":
        return []
    try:
        drift = prediction_drift(ctx, model.predictions.monitored)
    except Exception as exc:
        return [
            CheckResult(
                "drift.prediction",
                "error",
                f"reference predictions could not be computed: {describe(exc)}",
            )
        ]
    ctx.findings.prediction_drift = drift
    return [one_column_drift_check(drift, ctx.settings, check="drift.prediction")]


def prediction_drift(ctx: RunContext, values: Any) -> ColumnDrift:
    """Batch predictions against the model's predictions on the reference dataset."""
    import dataclasses

    from modelbook.monitoring.inputs import column_profile
    from modelbook.monitoring.predictions import predict_batches, prediction_table
    from modelbook.stats.drift import drift_from_profiles
    from modelbook.stats.profile import TableProfile, profile_table

    assert ctx.model is not None
    reg, ref_ds = ctx.registry, ctx.reference
    # A binary model served with predicted= only: its classes, not its scores, are compared
    # (with the reference's predicted classes, computed each run: the stored ones are scores).
    classes_only = (
        ctx.model.task == "binary"
        and ctx.model.predictions is not None
        and ctx.model.predictions.scores is None
    )
    categorical = ctx.model.task == "multiclass" or classes_only
    stored = None if classes_only else reg.reference_predictions(ctx.target, ref_ds)
    if stored is not None:
        ref_col = column_profile(stored)
    else:
        path = reg.objects.verified_path(reg.dataset_version(ref_ds.name, ref_ds.version)["blob"])
        ref_preds = predict_batches(
            ctx.model.model, path=path, file_kind="parquet", columns=list(ctx.model.inputs)
        )
        ref_values = ref_preds.labels if classes_only else ref_preds.monitored
        ref_col = profile_table(prediction_table(ref_values, categorical=categorical)).columns[0]
        if ctx.store and not classes_only:
            reg.store_reference_predictions(ctx.target, ref_ds, dataclasses.asdict(ref_col))
    ref_profile = TableProfile(rows=ref_col.count, columns=(ref_col,))
    cur = profile_table(prediction_table(values, categorical=categorical), reference=ref_profile)
    return drift_from_profiles(ref_profile, cur, rules=ctx.settings.drift).columns[0]
