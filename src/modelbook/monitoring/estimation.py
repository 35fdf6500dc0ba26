"""Estimated performance without labels: ``performance.estimated.<metric>`` in every model run.

What estimation needs was fitted once, at registration, on the model version's evaluation set
(:func:`modelbook.catalog.stored_estimation`); nothing is refitted here. The batch's outputs
(the model's ``predict`` / ``predict_proba``, or the served ``scores=`` / ``predicted=``
columns) go through :func:`modelbook.stats.estimation.estimate`: calibrated scores give the
expected confusion matrix and ROC AUC of a classifier (confidence-based estimation), the loss
model gives a regressor's MAE and RMSE. Each estimate comes with ±3 standard errors for the
batch's size and the threshold band (the spread of the realized metric on evaluation chunks of
that size).

Rules (``[tool.modelbook.monitor.checks]``, key ``performance.estimated``): mode ``"band"``
(default) alerts when an estimate leaves its band; mode ``"drop"`` when it falls more than
``threshold`` (0.05) below the value measured on the evaluation set (else the registered one),
or for MAE/RMSE rises by more than ``threshold``, relative. An insufficient estimate (too few
rows, one predicted class) is ``info`` with its counts, never ``ok``. Rows estimation cannot use
(NaN or out-of-range scores, classes the model never had) are left out, and the message says
how many.

The estimate assumes no concept drift: P(label | score) on the batch is what it was on the
evaluation set. Realized performance, when labels arrive, is shown beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from modelbook.monitoring.checks import describe, status_of
from modelbook.monitoring.report import CheckResult

if TYPE_CHECKING:
    from modelbook.monitoring.context import RunContext
    from modelbook.monitoring.rules import Rule

__all__ = ["CHECK", "NO_EVALUATION", "checks"]

CHECK = "performance.estimated"
NO_EVALUATION = (
    "register an evaluation set (eval_data=, --eval) to estimate performance without labels"
)
_ERRORS = ("mae", "rmse")  # lower is better


def checks(ctx: RunContext) -> list[CheckResult]:
    """performance.estimated.<metric> per metric; records ``findings.estimated``."""
    from modelbook import catalog

    model = ctx.model
    if model is None or ctx.model_row is None or model.predictions is None:
        return []
    rule = ctx.settings.rule(CHECK)
    if rule.severity == "off":
        return []
    if not ctx.model_row.get("estimator"):  # registered without an evaluation set
        return [CheckResult(CHECK, "info", NO_EVALUATION)]
    try:
        stored = catalog.stored_estimation(ctx.registry, ctx.model_row)
    except Exception as exc:  # a damaged blob: a finding, the rest of the run still counts
        return [CheckResult(CHECK, "error", f"the stored estimation is unusable: {describe(exc)}")]
    if stored is None:
        return [CheckResult(CHECK, "info", NO_EVALUATION)]
    try:
        inputs, notes = _inputs(ctx, stored.state)
    except _Unusable as why:
        return [CheckResult(CHECK, "info", f"performance not estimated: {why}")]
    from modelbook.stats.estimation import estimate

    try:
        estimates = estimate(stored.state, loss_model=stored.loss_model, **inputs)
    except Exception as exc:
        return [CheckResult(CHECK, "error", f"estimation failed: {describe(exc)}")]
    out: list[CheckResult] = []
    left_out = ""
    if notes:  # said once, in full; each estimate says how many rows it stands on
        out.append(CheckResult(CHECK, "info", "; ".join(notes)))
        used = estimates[0].n if estimates else 0
        left_out = f"; {len(model.predictions.labels) - used:,} rows left out (see {CHECK})"
    for e in estimates:
        base, kind = _base(ctx, stored.measured, e.metric)
        realized = ctx.findings.metrics.get(e.metric)
        ctx.findings.estimated[e.metric] = {
            "value": e.value,
            "lower": e.lower,
            "upper": e.upper,
            "se": e.se,
            "n": e.n,
            "band_lower": e.band_lower,
            "band_upper": e.band_upper,
            "band_how": e.band_how,
            "status": "insufficient",
            "reason": e.reason,
            "realized": realized if realized is not None and math.isfinite(realized) else None,
            "registered": base,
            "registered_kind": kind,
            "evaluation": stored.evaluation,
            "rule": "drop" if rule.mode == "drop" and base is not None else "band",
        }
        check, failed = _check(
            e, rule, base, kind, left_out, regression=stored.state.task == "regression"
        )
        if e.value is not None:
            ctx.findings.estimated[e.metric]["status"] = "alert" if failed else "ok"
        out.append(check)
    return out


class _Unusable(Exception):
    """Why this batch's outputs cannot be estimated from (one line)."""


def _inputs(ctx: RunContext, state: Any) -> tuple[dict[str, Any], list[str]]:
    """The valid rows' predicted / scores / features for :func:`estimate`, and notes saying which
    rows were left out."""
    from modelbook.monitoring.served import invalid_scores
    from modelbook.stats.metrics import describe_values

    assert ctx.model is not None and ctx.model.predictions is not None
    preds = ctx.model.predictions
    predicted = np.asarray(preds.labels)
    n = len(predicted)
    keep = np.ones(n, dtype=bool)
    notes: list[str] = []
    if state.task == "regression":
        with np.errstate(invalid="ignore"):
            values = np.asarray(predicted, dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            keep &= ~bad
            notes.append(f"{int(bad.sum()):,} NaN/±inf predictions left out")
        features = _features(ctx)
        if notes:
            notes.append(f"estimated on the other {int(keep.sum()):,} of {n:,} rows")
        return {"predicted": values[keep], "features": features[keep].reset_index(drop=True)}, notes
    scores = preds.scores if state.task == "binary" else preds.proba
    if scores is None:
        raise _Unusable(
            "it needs the model's probabilities: pass scores= (the batch columns holding them)"
            if ctx.served_columns
            else "the model gives no probabilities (it has no predict_proba)"
        )
    bad, nan, out = invalid_scores(scores)
    if bad.any():
        keep &= ~bad
        notes.append(f"{nan + out:,} rows with NaN or out-of-range scores left out")
    classes = list(state.classes or ())
    unknown = ~_isin(predicted, classes)
    if unknown.any():
        keep &= ~unknown
        notes.append(
            f"{int(unknown.sum()):,} predicted classes the model never had "
            f"{describe_values(predicted[unknown].astype(str))} left out"
        )
    if notes:
        notes.append(f"estimated on the other {int(keep.sum()):,} of {n:,} rows")
    return {"predicted": predicted[keep], "scores": scores[keep]}, notes


def _isin(values: Any, classes: list[Any]) -> Any:
    """Which values are among the classes; nulls and values of another type are not."""
    import pandas as pd

    # Hash-based and vectorised (a million rows in milliseconds); '1' is not 1, NaN is nothing.
    return np.asarray(pd.Series(values, dtype=values.dtype).isin(classes), dtype=bool)


def _features(ctx: RunContext) -> Any:
    """The model's inputs as a pandas DataFrame (what the loss model reads)."""
    assert ctx.model is not None
    inputs = list(ctx.model.inputs)
    missing = [c for c in inputs if c not in ctx.batch_names]
    if missing:
        raise _Unusable(f"the loss model needs the input columns {', '.join(missing)}")
    if ctx.source.table is not None:
        return ctx.source.table.select(inputs).to_pandas()
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    assert ctx.source.path is not None
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in inputs)
    con = duckdb.connect()
    try:
        return con.sql(f"SELECT {cols} FROM {duckdb_scan(ctx.source.path, ctx.source.kind)}").df()
    finally:
        con.close()


def _base(
    ctx: RunContext, measured: Mapping[str, float], metric: str
) -> tuple[float | None, str | None]:
    """The value to compare with: measured on the evaluation set, else registered."""
    from modelbook.stats.metrics import lookup_metric

    value = measured.get(metric)
    if value is not None and math.isfinite(value):
        return float(value), "measured"
    for key, given in ctx.registered_metrics.items():
        found = lookup_metric(key)
        if found is not None and found[0].name == metric and math.isfinite(given):
            return found[1] * given, "registered"
    return None, None


def _f(value: float, regression: bool) -> str:
    return f"{value:.4g}" if regression else f"{value:.3f}"


def _check(
    e: Any,
    rule: Rule,
    base: float | None,
    kind: str | None,
    tail: str,
    *,
    regression: bool,
) -> tuple[CheckResult, bool]:
    """The check of one estimate, and whether it failed its rule (whatever the severity)."""
    name = f"{CHECK}.{e.metric}"
    test = "loss model" if regression else "confidence-based"
    if e.value is None:
        why = e.reason or "insufficient data"
        return CheckResult(name, "info", f"{e.metric} not estimated: {why}{tail}", test=test), False

    def f(value: float) -> str:
        return _f(value, regression)

    text = f"estimated {e.metric} {f(e.value)}"
    if e.lower is not None and e.upper is not None:
        text += f" ({f(e.lower)}–{f(e.upper)}, ±3 SE on {e.n:,} rows)"
    if base is not None:
        text += f", {kind} {f(base)}"
    mode = rule.mode or "band"
    if mode == "drop" and base is not None:
        threshold = rule.threshold if rule.threshold is not None else 0.05
        if e.metric in _ERRORS:
            delta = (e.value - base) / abs(base) if base else (math.inf if e.value > base else 0.0)
            how = "relative increase"
        else:
            delta = base - e.value
            how = "drop"
        failed = delta > threshold
        word = f"{how} {delta:+.3g} {'>' if failed else '≤'} {threshold:g}"
        return CheckResult(
            name,
            status_of(rule, failed),
            f"{text}; {word}{tail}",
            test=f"{test}, {how}",
            statistic=delta,
            threshold=threshold,
        ), failed
    if mode == "drop":
        tail = f"; no measured or registered value to drop from: band used{tail}"
    lo, hi = e.band_lower, e.band_upper
    edge, where = None, ""
    if lo is not None and e.value < lo:
        edge, where = lo, "below"
    elif hi is not None and e.value > hi:
        edge, where = hi, "above"
    band = f"{f(lo) if lo is not None else '−∞'}–{f(hi) if hi is not None else '∞'}"
    verdict = f"{where} the band {band}" if edge is not None else f"band {band}"
    how = f" ({e.band_how})" if e.band_how else ""
    return CheckResult(
        name,
        status_of(rule, edge is not None),
        f"{text}; {verdict}{how}{tail}",
        test=test,
        statistic=e.value,
        threshold=edge if edge is not None else (lo if lo is not None else hi),
    ), edge is not None
