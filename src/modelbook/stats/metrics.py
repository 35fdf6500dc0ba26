"""Model quality metrics for a monitor run, computed with scikit-learn, under scikit-learn's names.

Names
-----
Metrics are named as scikit-learn's scorers name them (``sklearn.metrics.get_scorer_names()``),
so the averaging is part of the name: ``f1`` is the binary F1 of the positive class, ``f1_macro``
the unweighted mean over classes, ``f1_weighted`` the mean weighted by support, ``f1_micro`` the
F1 of the pooled counts (the same for ``precision_*``, ``recall_*`` and ``jaccard_*``);
``roc_auc`` is the binary ROC AUC, ``roc_auc_ovr`` / ``roc_auc_ovo`` its one-vs-rest /
one-vs-one multiclass forms (macro average; ``_weighted``: weighted by prevalence). Errors are
named without scikit-learn's ``neg_`` (``mae``, ``rmse``, ``log_loss``…); a metric registered as
``neg_mean_absolute_error = -0.3`` is read as ``mae = 0.3``. Other spellings that are understood
are in :data:`ALIASES` (``auc``, ``acc``, ``f1_score``, ``mean_absolute_error``…).

Which metrics are computed
--------------------------
* binary classification: accuracy, precision, recall, f1 (positive class: the model's
  ``classes_[1]``, else the larger label), and roc_auc when scores are given;
* multiclass: accuracy, precision_macro, recall_macro, f1_macro, and roc_auc_ovr when a
  probability matrix is given (columns in the order of ``classes``). When a class has no label in
  the batch its one-vs-rest AUC is undefined: roc_auc_ovr then averages the classes present
  (scikit-learn refuses the whole score);
* regression: mae, rmse, r2.
Every other metric of :data:`METRICS` is computed when asked for (``extra=``): a monitor asks
for the metrics registered with the model version. ``zero_division=0`` throughout.

The task is inferred when not given, by this rule (documented because it decides which metrics
a monitor stores):

* labels that are not numbers (strings, booleans, categories, objects) → ``classification``;
* float labels with a non-integer value → ``regression``;
* integer-valued labels (ints, or floats that are all whole numbers) → ``classification`` when
  they take at most ``max(2, min(20, 5 % of the rows))`` distinct values, else ``regression``.
  So 0/1 targets and small class sets are classification; counts and prices are regression.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from modelbook.errors import DataError

__all__ = [
    "ALIASES",
    "METRICS",
    "Metric",
    "describe_values",
    "infer_task",
    "label_type_mismatch",
    "lookup_metric",
    "quality_metrics",
    "unavailable_reason",
    "value_kind",
]

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Metric:
    """A metric a monitor can compute, under its scikit-learn name (``neg_`` dropped)."""

    name: str
    task: str  # 'classification' | 'regression'
    higher_is_better: bool
    scores: bool = False  # needs predicted probabilities (predict_proba)
    binary: bool = False  # defined for two classes only (no averaging in the name)


def _metrics() -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for name in ("accuracy", "balanced_accuracy", "matthews_corrcoef"):
        out[name] = Metric(name, "classification", True)
    for base in ("precision", "recall", "f1", "jaccard"):
        out[base] = Metric(base, "classification", True, binary=True)
        for average in ("macro", "micro", "weighted"):
            out[f"{base}_{average}"] = Metric(f"{base}_{average}", "classification", True)
    out["roc_auc"] = Metric("roc_auc", "classification", True, scores=True, binary=True)
    out["average_precision"] = Metric(
        "average_precision", "classification", True, scores=True, binary=True
    )
    for name in ("roc_auc_ovr", "roc_auc_ovr_weighted", "roc_auc_ovo", "roc_auc_ovo_weighted"):
        out[name] = Metric(name, "classification", True, scores=True)
    out["log_loss"] = Metric("log_loss", "classification", False, scores=True)
    out["brier_score"] = Metric("brier_score", "classification", False, scores=True, binary=True)
    for name in ("mae", "mse", "rmse", "median_absolute_error", "mape", "max_error"):
        out[name] = Metric(name, "regression", False)
    for name in ("r2", "explained_variance"):
        out[name] = Metric(name, "regression", True)
    return out


#: Every metric a monitor can compute, by name.
METRICS: Mapping[str, Metric] = _metrics()

#: Other names a registered metric may carry (after lower-casing, ``-`` and spaces as ``_``).
ALIASES: Mapping[str, str] = {
    "acc": "accuracy",
    "accuracy_score": "accuracy",
    "balanced_accuracy_score": "balanced_accuracy",
    "mcc": "matthews_corrcoef",
    "auc": "roc_auc",
    "rocauc": "roc_auc",
    "roc_auc_score": "roc_auc",
    "average_precision_score": "average_precision",
    "f1_score": "f1",
    "precision_score": "precision",
    "recall_score": "recall",
    "jaccard_score": "jaccard",
    "brier_score_loss": "brier_score",
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
    "root_mean_squared_error": "rmse",
    "median_absolute_error": "median_absolute_error",
    "mean_absolute_percentage_error": "mape",
    "r2_score": "r2",
    "explained_variance_score": "explained_variance",
}

_DEFAULTS = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc"),
    "multiclass": ("accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc_ovr"),
    "regression": ("mae", "rmse", "r2"),
}


def lookup_metric(name: str) -> tuple[Metric, float] | None:
    """The metric a registered name means, and the sign to apply to its value.

    ``neg_mean_absolute_error`` → (mae, -1); ``F1-Macro`` → (f1_macro, +1); unknown → None.
    """
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    sign = 1.0
    if key.startswith("neg_"):
        key, sign = key[4:], -1.0
    key = ALIASES.get(key, key)
    metric = METRICS.get(key)
    if metric is None or (sign < 0 and metric.higher_is_better):
        return None
    return metric, sign


def unavailable_reason(
    metric: Metric, *, task: str, n_classes: int | None, scores: bool
) -> str | None:
    """Why ``metric`` cannot be computed for this model and batch (None: it can).

    ``task``: 'binary', 'multiclass' or 'regression'; ``scores``: whether predicted
    probabilities are available.
    """
    if metric.task == "regression" and task != "regression":
        return f"{metric.name} is a regression metric and the model is a classifier"
    if metric.task == "classification" and task == "regression":
        return f"{metric.name} is a classification metric and the model is a regressor"
    if metric.binary and task == "multiclass":
        classes = f"{n_classes} classes" if n_classes else "more than two classes"
        if metric.name in ("precision", "recall", "f1", "jaccard"):
            options = ", ".join(f"{metric.name}_{a}" for a in ("macro", "weighted", "micro"))
            return (
                f"{metric.name} is the binary score of one positive class, and the model has "
                f"{classes}: register the averaging you used ({options})"
            )
        if metric.name == "roc_auc":
            return (
                f"roc_auc is the binary ROC AUC, and the model has {classes}: register "
                "roc_auc_ovr (one-vs-rest, macro) or roc_auc_ovr_weighted"
            )
        return f"{metric.name} is defined for two classes, and the model has {classes}"
    if metric.scores and not scores:
        return f"{metric.name} needs predicted probabilities, and the model has no predict_proba"
    return None


def _as_array(values: Any, name: str) -> npt.NDArray[Any]:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    return arr


def value_kind(values: Any) -> str:
    """'string', 'boolean', 'integer', 'number' (floats), 'mixed' or 'other' for a 1-D array."""
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind in "US":
        return "string"
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer"
    if kind == "f":
        finite = arr[np.isfinite(arr)]
        return "integer" if len(finite) and np.all(finite == np.round(finite)) else "number"
    if kind != "O":
        return "other"
    kinds = set()
    for v in arr.tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if isinstance(v, str):
            kinds.add("string")
        elif isinstance(v, (bool, np.bool_)):
            kinds.add("boolean")
        elif isinstance(v, (int, np.integer)):
            kinds.add("integer")
        elif isinstance(v, (float, np.floating)):
            kinds.add("number")
        else:
            kinds.add("other")
    if len(kinds) == 1:
        return kinds.pop()
    if kinds and kinds <= {"integer", "number"}:
        return "number"
    return "mixed" if kinds else "other"


def describe_values(values: Any, limit: int = 3) -> str:
    """The first distinct values as a tuple: ``('setosa', 'versicolor', …)``."""
    arr = np.asarray(values)
    try:
        distinct = np.unique(arr).tolist()
    except TypeError:  # mixed types cannot be sorted
        distinct = list(dict.fromkeys(arr.tolist()))
    shown = [repr(v.item() if hasattr(v, "item") else v) for v in distinct[:limit]]
    if len(distinct) > limit:
        shown.append("…")
    return "(" + ", ".join(shown) + ")"


_KIND_WORDS = {
    "string": "strings",
    "boolean": "booleans",
    "integer": "integers",
    "number": "numbers",
    "mixed": "of mixed types",
    "other": "objects",
}


def label_type_mismatch(y_true: Any, y_pred: Any) -> tuple[str, str] | None:
    """``(labels, predictions)`` described in words when they cannot be compared, else None.

    Strings against numbers (or booleans) never compare equal, and sorting them together raises;
    mixed types within one side neither sort nor compare.
    """
    a, b = value_kind(y_true), value_kind(y_pred)
    numeric = {"boolean", "integer", "number"}
    if (a in numeric and b in numeric) or a == b != "mixed":
        return None
    if a == "other" or b == "other":
        return None
    return (
        f"{_KIND_WORDS[a]} {describe_values(y_true)}",
        f"{_KIND_WORDS[b]} {describe_values(y_pred)}",
    )


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
    classes: Any | None = None,
    extra: Iterable[str] = (),
) -> dict[str, float]:
    """Quality metrics of predictions against labels, as plain floats keyed by metric name.

    ``y_score``: P(positive class) or a probability matrix for binary; a probability matrix
    for multiclass, columns in the order of ``classes`` (default: the sorted labels).
    ``classes``: the model's classes (``classes_``): decides binary or multiclass and the
    positive class (and the task, when not given). ``extra``: names of :data:`METRICS` to compute as well, when they apply
    (those that do not are left out; :func:`unavailable_reason` says why).
    """
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
        task = "classification" if classes is not None else infer_task(yt)
    if task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {task!r}.")
    if task == "regression":
        return _regression(yt, yp, extra)
    return _classification(yt, yp, y_score, classes, extra)


def _wanted(kind: str, extra: Iterable[str]) -> list[str]:
    names = list(_DEFAULTS[kind])
    for name in extra:
        found = lookup_metric(name)
        if found is not None and found[0].name not in names:
            names.append(found[0].name)
    return names


def _regression(
    yt: npt.NDArray[Any], yp: npt.NDArray[Any], extra: Iterable[str]
) -> dict[str, float]:
    from sklearn import metrics as skm

    try:
        yt, yp = yt.astype(np.float64), yp.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"Regression metrics need numeric labels and predictions: {exc}") from exc
    functions: dict[str, Callable[[], float]] = {
        "mae": lambda: skm.mean_absolute_error(yt, yp),
        "mse": lambda: skm.mean_squared_error(yt, yp),
        "rmse": lambda: math.sqrt(float(skm.mean_squared_error(yt, yp))),
        "r2": lambda: skm.r2_score(yt, yp) if len(yt) > 1 else math.nan,
        "explained_variance": lambda: (
            skm.explained_variance_score(yt, yp) if len(yt) > 1 else math.nan
        ),
        "median_absolute_error": lambda: skm.median_absolute_error(yt, yp),
        "mape": lambda: skm.mean_absolute_percentage_error(yt, yp),
        "max_error": lambda: skm.max_error(yt, yp),
    }
    return {
        name: float(functions[name]())
        for name in _wanted("regression", extra)
        if METRICS[name].task == "regression"
    }


def _classification(
    yt: npt.NDArray[Any],
    yp: npt.NDArray[Any],
    y_score: Any | None,
    classes: Any | None,
    extra: Iterable[str],
) -> dict[str, float]:
    from sklearn import metrics as skm

    mismatch = label_type_mismatch(yt, yp)
    if mismatch is not None:
        raise DataError(
            f"labels are {mismatch[0]} but predictions are {mismatch[1]}: "
            "pass labels of the predictions' type."
        )
    known = np.asarray(classes) if classes is not None else None
    parts = [yt, yp] if known is None else [yt, yp, known]
    try:
        labels = np.unique(np.concatenate(parts))
    except TypeError as exc:
        raise DataError(f"labels and predictions cannot be compared: {exc}") from exc
    binary = len(labels) <= 2
    kind = "binary" if binary else "multiclass"
    pos_label: Any = known[-1] if known is not None and len(known) == 2 else labels[-1]

    scores = None
    if y_score is not None:
        scores = np.asarray(y_score.to_numpy() if hasattr(y_score, "to_numpy") else y_score)
        if len(scores) != len(yt):
            raise DataError(
                f"y_score has {len(scores)} rows but y_true has {len(yt)}; "
                "they must be the same length."
            )
    out: dict[str, float] = {}
    for name in _wanted(kind, extra):
        metric = METRICS[name]
        if metric.task != "classification" or (metric.binary and not binary):
            continue
        if metric.scores:
            if scores is None:
                continue
            out[name] = _scored(name, yt, scores, binary, pos_label, known)
            continue
        base, _, average = name.rpartition("_")
        if name in ("accuracy", "balanced_accuracy", "matthews_corrcoef"):
            fn = getattr(skm, f"{name}_score" if name != "matthews_corrcoef" else name)
            out[name] = float(fn(yt, yp))
        elif average in ("macro", "micro", "weighted"):
            fn = getattr(skm, f"{base}_score")
            out[name] = float(fn(yt, yp, average=average, zero_division=0))
        else:
            fn = getattr(skm, f"{name}_score")
            out[name] = float(fn(yt, yp, average="binary", pos_label=pos_label, zero_division=0))
    return out


def _scored(
    name: str,
    yt: npt.NDArray[Any],
    scores: npt.NDArray[Any],
    binary: bool,
    pos_label: Any,
    classes: npt.NDArray[Any] | None,
) -> float:
    """A metric of predicted probabilities (see the module docstring for absent classes)."""
    from sklearn import metrics as skm

    if binary:
        positive = scores[:, -1] if scores.ndim == 2 else scores
        truth = yt == pos_label
        if name == "log_loss":
            return float(skm.log_loss(truth, positive, labels=[False, True]))
        if name == "brier_score":
            return float(skm.brier_score_loss(truth, positive))
        if truth.all() or not truth.any():
            return math.nan  # ROC AUC and average precision need both classes
        if name == "average_precision":
            return float(skm.average_precision_score(truth, positive))
        return float(skm.roc_auc_score(truth, positive))  # every roc_auc form: the binary AUC
    columns = classes if classes is not None else np.unique(yt)
    if scores.ndim != 2 or scores.shape[1] != len(columns):
        raise DataError(
            f"For {len(columns)} classes, y_score must be a probability matrix with "
            f"{len(columns)} columns (classes in sorted order), got shape {scores.shape}."
        )
    if name == "log_loss":
        return float(skm.log_loss(yt, scores, labels=columns))
    present = [(j, yt == c) for j, c in enumerate(columns.tolist())]
    present = [(j, t) for j, t in present if t.any() and not t.all()]
    if len(present) < 2:
        return math.nan
    weighted = name.endswith("_weighted")
    if name.startswith("roc_auc_ovr"):
        aucs = [skm.roc_auc_score(t, scores[:, j]) for j, t in present]
        weights = [t.mean() for _, t in present] if weighted else None
        return float(np.average(aucs, weights=weights))
    # One-vs-one (Hand & Till), as scikit-learn: the mean over class pairs of the two AUCs.
    pairs, prevalence = [], []
    for i, (ja, ta) in enumerate(present):
        for jb, tb in present[i + 1 :]:
            mask = ta | tb
            a = skm.roc_auc_score(ta[mask], scores[mask, ja])
            b = skm.roc_auc_score(tb[mask], scores[mask, jb])
            pairs.append((a + b) / 2)
            prevalence.append(mask.mean())
    return float(np.average(pairs, weights=prevalence if weighted else None))
