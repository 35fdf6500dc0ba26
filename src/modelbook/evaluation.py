"""The evaluation set at registration: the model scored once on held-out rows, and what
performance estimation needs fitted on them.

Why at registration: the evaluation set is what a calibrator and a loss model must be fitted on
(rows the model never saw), and fitting them once there means a monitor run never refits —
the estimate of a batch depends only on the batch and the stored version. The metrics measured
there (scikit-learn's, on the same rows) are what ``quality.*`` compares with later.

This module validates the evaluation set and computes; :mod:`modelbook.catalog` stores. Every
problem is a :class:`~modelbook.errors.DataError` raised before anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelbook.errors import DataError

__all__ = ["Evaluation", "evaluate", "score_columns"]


@dataclass(frozen=True)
class Evaluation:
    """What registration learned on the evaluation set, ready to store."""

    task: str  # 'binary' | 'multiclass' | 'regression'
    measured: dict[str, float]  # scikit-learn's metrics on the evaluation set (finite only)
    state: bytes | None  # EstimationState.to_bytes(); None when estimation cannot run
    loss_model: bytes | None  # skops payload of the regression loss model


def score_columns(eval_scores: object) -> tuple[str, ...] | None:
    """``eval_scores=`` as a tuple of column names (a name or a sequence of names)."""
    if eval_scores is None:
        return None
    names: Sequence[Any]
    if isinstance(eval_scores, str):
        names = [eval_scores]
    elif isinstance(eval_scores, (list, tuple)):
        names = eval_scores
    else:
        names = []
    if not names or not all(isinstance(n, str) and n for n in names):
        raise DataError(
            "eval_scores= must name columns of eval_data holding the model's outputs, e.g. "
            "eval_scores='p_churn' or eval_scores=['p_a', 'p_b', 'p_c']."
        )
    if len(set(names)) != len(names):
        raise DataError(f"eval_scores= names a column twice: {', '.join(map(repr, names))}.")
    return tuple(names)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _task(model: Any, y: Any, scores: tuple[str, ...] | None) -> tuple[str, list[Any] | None]:
    """The task and the classes (``classes_`` as plain values; binary positive = classes[1])."""
    import numpy as np

    from modelbook.monitoring.predictions import task_of
    from modelbook.stats.metrics import infer_task

    classes = getattr(model, "classes_", None)
    if classes is not None:
        values = [c.item() if hasattr(c, "item") else c for c in np.asarray(classes).tolist()]
        return ("binary" if len(values) == 2 else "multiclass"), values
    classifier = task_of(model) != "regression"
    if scores is not None and not classifier:
        # A model served elsewhere: its outputs say what it is.
        classifier = len(scores) > 1 or infer_task(y) == "classification"
    if not classifier:
        return "regression", None
    values = [v.item() if hasattr(v, "item") else v for v in np.unique(y).tolist()]
    return ("binary" if len(values) <= 2 else "multiclass"), values


def _scores(
    table: Any, names: tuple[str, ...], task: str, classes: list[Any] | None
) -> tuple[Any, Any]:
    """(scores, predicted) from the columns ``eval_scores=`` names; checked, never guessed."""
    import numpy as np

    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise DataError(
            f"eval_scores names columns that are not in eval_data: "
            f"{', '.join(map(repr, missing))}; its columns: {', '.join(table.column_names[:20])}."
        )
    try:
        matrix = np.column_stack(
            [
                np.asarray(table.column(n).to_numpy(zero_copy_only=False), dtype=np.float64)
                for n in names
            ]
        )
    except (TypeError, ValueError):
        raise DataError(
            f"eval_scores columns {', '.join(map(repr, names))} must hold numbers (the model's "
            "probabilities, or its predictions for a regressor)."
        ) from None
    if task == "regression":
        if len(names) != 1:
            raise DataError(
                f"eval_scores for a regressor is one column of predictions; got {len(names)}."
            )
        bad = ~np.isfinite(matrix[:, 0])
        if bad.any():
            raise DataError(
                f"eval_scores column {names[0]!r} has {int(bad.sum()):,} missing or infinite "
                "predictions: pass the model's prediction for every row of eval_data."
            )
        return None, matrix[:, 0]
    assert classes is not None
    for j, name in enumerate(names):
        column = matrix[:, j]
        bad = ~(np.isfinite(column) & (column >= 0.0) & (column <= 1.0))
        if bad.any():
            first = column[bad][0]
            raise DataError(
                f"eval_scores column {name!r} has {int(bad.sum()):,} values that are NaN or "
                f"outside [0, 1] (e.g. {first:g}): pass the model's probabilities for every row."
            )
    if task == "binary":
        if len(names) not in (1, 2):
            raise DataError(
                f"eval_scores for a binary classifier is one column, P({classes[-1]!r}); got "
                f"{len(names)}."
            )
        positive = matrix[:, -1]
        predicted = np.where(positive >= 0.5, classes[-1], classes[0])
        return positive, predicted
    if len(names) != len(classes):
        shown = ", ".join(map(repr, classes[:10]))
        raise DataError(
            f"eval_scores names {len(names)} columns but the model has {len(classes)} classes "
            f"({shown}): name one probability column per class, in the order of classes_."
        )
    predicted = np.asarray(classes, dtype=object)[np.argmax(matrix, axis=1)]
    if all(isinstance(c, (int, float)) for c in classes):
        predicted = predicted.astype(np.asarray(classes).dtype)
    return matrix, predicted


def _predict(model: Any, table: Any, inputs: list[str], task: str) -> tuple[Any, Any]:
    """(scores, predicted) from the model itself: P(classes[1]) / probability matrix."""
    from modelbook.monitoring.predictions import predict_batches

    try:
        preds = predict_batches(model, table=table, columns=inputs, proba=True)
    except DataError:
        raise
    except Exception as exc:  # the model is user code
        raise DataError(
            f"the model's predict failed on eval_data ({_describe(exc)}): pass evaluation data "
            "with the columns and types the model was trained on."
        ) from None
    if task == "binary":  # None without predict_proba: measured metrics only, no estimation
        return preds.scores, preds.labels
    if task == "multiclass":
        return preds.proba, preds.labels
    return None, preds.labels


def _labels(table: Any, target: str) -> Any:
    import numpy as np
    import pandas as pd

    y = np.asarray(table.column(target).to_numpy(zero_copy_only=False))
    missing = np.asarray(pd.isna(y), dtype=bool)
    if missing.any():
        raise DataError(
            f"eval_target has {int(missing.sum()):,} missing labels in {len(y):,} rows: an "
            "evaluation set needs a label on every row; drop the unlabelled rows."
        )
    return y


def evaluate(
    model: Any,
    table: Any,
    *,
    target: str,
    inputs: Sequence[str] | None,
    scores: tuple[str, ...] | None,
    seed: int = 0,
) -> Evaluation:
    """Score ``model`` once on the evaluation ``table`` (Arrow, labels in column ``target``)
    and fit what estimation needs. ``inputs``: the model's input columns (None: every column
    but the labels and the score columns); ``scores``: columns holding the model's outputs
    (then ``predict`` is not called)."""
    import numpy as np

    from modelbook.stats.metrics import describe_values, quality_metrics

    y = _labels(table, target)
    names = list(inputs) if inputs is not None else None
    if names is None:
        names = [c for c in table.column_names if c != target and c not in (scores or ())]
    absent = [c for c in names if c not in table.column_names]
    if absent:
        shown = ", ".join(map(repr, absent[:10])) + (" …" if len(absent) > 10 else "")
        raise DataError(
            f"eval_data lacks {len(absent)} of the model's input columns ({shown}): pass "
            "evaluation data with the columns the model was trained on."
        )
    task, classes = _task(model, y, scores)
    if task != "regression":
        from modelbook.monitoring.quality import label_problem

        assert classes is not None
        present = np.unique(y)
        if len(present) < 2:
            raise DataError(
                f"the evaluation set has one class {describe_values(present)} in {len(y):,} "
                "rows: metrics and calibration need every class the model predicts; pass a "
                "larger or stratified evaluation set."
            )
        problem = label_problem(y, np.asarray(classes), np.asarray(classes))
        if problem is not None:
            raise DataError(f"eval_target: {problem}.")
        unknown = ~np.isin(y, np.asarray(classes))
        if unknown.any():
            raise DataError(
                f"eval_target has {int(unknown.sum()):,} labels the model never predicts "
                f"{describe_values(y[unknown])}; its classes are {describe_values(classes, 10)}: "
                "pass labels of the model's classes."
            )
    if scores is not None:
        y_score, predicted = _scores(table, scores, task, classes)
    else:
        y_score, predicted = _predict(model, table, names, task)
    try:
        metrics = quality_metrics(
            y,
            predicted,
            y_score=y_score,
            task="regression" if task == "regression" else "classification",
            classes=np.asarray(classes) if classes is not None else None,
        )
    except (ValueError, TypeError) as exc:
        raise DataError(f"metrics on eval_data failed: {_describe(exc)}.") from None
    measured = {k: float(v) for k, v in metrics.items() if math.isfinite(v)}
    state: bytes | None = None
    loss: bytes | None = None
    if task == "regression" or y_score is not None:
        from modelbook.stats.estimation import fit_estimation

        features = table.select(names).to_pandas() if task == "regression" else None
        fitted, loss_model = fit_estimation(
            task=task,
            y_true=y,
            predicted=predicted,
            scores=y_score,
            features=features,
            classes=classes,
            seed=seed,
        )
        state = fitted.to_bytes()
        if loss_model is not None:
            loss = _loss_payload(loss_model)
    return Evaluation(task=task, measured=measured, state=state, loss_model=loss)


def _loss_payload(loss_model: Any) -> bytes:
    """The loss model with skops, as every scikit-learn model is stored (no pickle)."""
    from modelbook.capture.models import serialize

    serialized = serialize(loss_model)
    if serialized.flavor != "sklearn":  # our own HistGradientBoostingRegressor: never
        raise DataError(f"the loss model ({serialized.class_name}) cannot be stored with skops.")
    return serialized.payload
