"""Model quality metrics for a monitor run, computed with scikit-learn.

The task is inferred when not given, by this rule (documented because it decides which metrics
a monitor stores):

* labels that are not numbers (strings, booleans, categories, objects) → ``classification``;
* float labels with a non-integer value → ``regression``;
* integer-valued labels (ints, or floats that are all whole numbers) → ``classification`` when
  they take at most ``max(2, min(20, 5 % of the rows))`` distinct values, else ``regression``.
  So 0/1 targets and small class sets are classification; counts and prices are regression.

Classification reports accuracy, precision, recall and f1 (binary averaging for two classes,
macro for more; ``zero_division=0``), plus ``roc_auc`` when scores are given (positive-class
scores or a probability matrix for binary; a probability matrix, one-vs-rest macro, for
multiclass). Regression reports mae, rmse and r2.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from modelbook.errors import DataError

__all__ = ["infer_task", "quality_metrics"]

TASKS = ("classification", "regression")


def _as_array(values: Any, name: str) -> npt.NDArray[Any]:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    return arr


def infer_task(y_true: Any) -> str:
    """``"classification"`` or ``"regression"`` from the labels (rule in the module docstring)."""
    y = _as_array(y_true, "y_true")
    if y.dtype.kind not in "iuf":
        return "classification"
    if y.dtype.kind == "f":
        finite = y[np.isfinite(y)]
        if len(finite) and not np.all(finite == np.round(finite)):
            return "regression"
    distinct = len(np.unique(y))
    limit = max(2, min(20, int(0.05 * len(y))))
    return "classification" if distinct <= limit else "regression"


def quality_metrics(
    y_true: Any,
    y_pred: Any,
    *,
    y_score: Any | None = None,
    task: str | None = None,
) -> dict[str, float]:
    """Quality metrics of predictions against labels, as plain floats keyed by metric name."""
    yt = _as_array(y_true, "y_true")
    yp = _as_array(y_pred, "y_pred")
    if len(yt) != len(yp):
        raise DataError(
            f"y_true has {len(yt)} labels but y_pred has {len(yp)} predictions; "
            "they must be the same length."
        )
    if len(yt) == 0:
        raise DataError("Cannot compute metrics on empty labels.")
    if task is None:
        task = infer_task(yt)
    if task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {task!r}.")
    if task == "regression":
        return _regression(yt, yp)
    return _classification(yt, yp, y_score)


def _regression(yt: npt.NDArray[Any], yp: npt.NDArray[Any]) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    try:
        yt, yp = yt.astype(np.float64), yp.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"Regression metrics need numeric labels and predictions: {exc}") from exc
    return {
        "mae": float(mean_absolute_error(yt, yp)),
        "rmse": math.sqrt(float(mean_squared_error(yt, yp))),
        "r2": float(r2_score(yt, yp)) if len(yt) > 1 else math.nan,
    }


def _classification(
    yt: npt.NDArray[Any], yp: npt.NDArray[Any], y_score: Any | None
) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score

    labels = np.unique(np.concatenate([yt, yp]))
    binary = len(labels) <= 2
    average = "binary" if binary and len(labels) == 2 else "macro"
    pos_label: Any = labels[-1] if average == "binary" else 1
    precision, recall, f1, _ = precision_recall_fscore_support(
        yt, yp, average=average, pos_label=pos_label, zero_division=0
    )
    out = {
        "accuracy": float(accuracy_score(yt, yp)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
    }
    if y_score is not None:
        scores = np.asarray(y_score.to_numpy() if hasattr(y_score, "to_numpy") else y_score)
        if len(scores) != len(yt):
            raise DataError(
                f"y_score has {len(scores)} rows but y_true has {len(yt)}; "
                "they must be the same length."
            )
        classes = np.unique(yt)
        if len(classes) < 2:
            out["roc_auc"] = math.nan
        elif len(classes) == 2:
            pos = scores[:, -1] if scores.ndim == 2 else scores
            out["roc_auc"] = float(roc_auc_score(yt == classes[-1], pos))
        else:
            if scores.ndim != 2 or scores.shape[1] != len(classes):
                raise DataError(
                    f"For {len(classes)} classes, y_score must be a probability matrix with "
                    f"{len(classes)} columns (classes in sorted order), got shape {scores.shape}."
                )
            out["roc_auc"] = float(
                roc_auc_score(yt, scores, multi_class="ovr", average="macro", labels=classes)
            )
    return out
