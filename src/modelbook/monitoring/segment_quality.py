"""Realized quality per segment: each group's labelled rows, judged like the whole batch's.

The baselines and rules are the whole batch's (:mod:`~modelbook.monitoring.quality`): the
metric measured on the evaluation set, else the registered one; ``quality.drop`` /
``quality.increase``. A segment is small, so a drop must also be more than noise:

* accuracy (a share of correct rows) gets a guard: a one-sided binomial test that the segment's
  accuracy is below the baseline, Holm-corrected over the slice's segments at the drift
  guard's level (``p_value``, 0.01). 40 rows at a true accuracy of 0.90 score 0.85 or less one
  time in six; that is noise, not an alert;
* other metrics have no such test here, so they are judged only on segments with at least
  ``min_group`` labelled rows (fewer: reported with their ``n``, as ``info``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelbook.monitoring.report import CheckResult

if TYPE_CHECKING:
    from modelbook.monitoring.context import RunContext
    from modelbook.stats.segments import Grouping

__all__ = ["segment_quality"]

Add = Callable[[dict[str, Any], CheckResult], None]


def _binomial_p(correct: int, n: int, base: float) -> float:
    """P(X ≤ correct) for X ~ Binomial(n, base): how surprising a segment's accuracy is."""
    from scipy.special import bdtr

    if base >= 1.0:
        return 0.0 if correct < n else 1.0
    return float(bdtr(correct, n, base))


def segment_quality(
    ctx: RunContext, g: Grouping, groups: list[dict[str, Any]], *, add: Add
) -> None:
    """Fill each compared group's ``quality`` (value and n) and add its non-ok checks."""
    import numpy as np
    import pandas as pd

    from modelbook.errors import DataError
    from modelbook.monitoring.quality import label_problem, quality_checks, registered_targets
    from modelbook.stats.drift import holm_levels
    from modelbook.stats.metrics import quality_metrics

    model = ctx.model
    assert model is not None and model.predictions is not None
    preds = model.predictions
    y_true = np.asarray(ctx.y_true())
    known = ~np.asarray(pd.isna(y_true), dtype=bool)
    scores = preds.scores if preds.scores is not None else preds.proba
    if scores is not None:
        from modelbook.monitoring.served import invalid_scores

        known &= ~invalid_scores(np.asarray(scores, dtype=np.float64))[0]
    if not known.any():
        return
    y_all, predicted_all = y_true[known], preds.labels[known]
    if model.task != "regression" and label_problem(y_all, predicted_all, model.classes):
        return  # the batch's own quality check says why
    targets, _ = registered_targets(
        ctx.registered_metrics, model, y_all, predicted_all, scores=scores is not None
    )
    measured = ctx.measured_metrics
    targets.update(measured)
    task = "regression" if model.task == "regression" else "classification"
    min_group = ctx.settings.min_group
    pending: list[tuple[dict[str, Any], CheckResult, float]] = []  # accuracy alerts to guard
    for j, group in enumerate(g.values):
        entry = next(gr for gr in groups if gr["value"] == group)
        if entry["status"] == "insufficient":
            continue
        rows = g.order[g.starts[j] : g.starts[j + 1]]
        rows = rows[known[rows]]
        n = len(rows)
        if n == 0:
            continue
        try:
            metrics = quality_metrics(
                y_true[rows],
                preds.labels[rows],
                y_score=scores[rows] if scores is not None else None,
                task=task,
                classes=model.classes,
                extra=list(targets),
            )
        except (DataError, ValueError, TypeError):
            continue  # e.g. one class only in this segment: a metric that cannot be computed
        entry["quality"] = {
            k: {"value": float(v) if np.isfinite(v) else None, "n": n} for k, v in metrics.items()
        }
        judged = quality_checks(
            metrics, targets, ctx.settings, measured=set(measured), evaluation=ctx.evaluation
        )
        for c in judged:
            if c.status != "alert":
                continue
            name = c.check.removeprefix("quality.")
            if name == "accuracy" and name in targets:
                correct = round(metrics[name] * n)
                pending.append((entry, c, _binomial_p(correct, n, targets[name])))
            elif n < min_group:
                message = f"{c.message}; {n} labelled rows < min_group {min_group}: not judged"
                add(entry, CheckResult(c.check, "info", message, test=c.test, statistic=float(n)))
            else:
                add(entry, c)
    if not pending:
        return
    alpha = ctx.settings.drift.p_value
    ps = [p for _, _, p in pending]
    if ctx.settings.drift.correction == "holm":
        levels = holm_levels(ps, [alpha] * len(ps))
    else:
        levels = [alpha] * len(ps)
    for (entry, c, p), level in zip(pending, levels, strict=True):
        if p < level:
            add(entry, dataclasses.replace(c, message=f"{c.message}; p = {p:.2g}"))
        else:
            n = entry["quality"]["accuracy"]["n"]
            message = f"{c.message}, but p = {p:.2g} ≥ {level:.2g} at {n} labelled rows: noise"
            add(entry, CheckResult(c.check, "info", message, test=c.test, statistic=c.statistic))
