"""Models served elsewhere: the model's outputs read from columns of the batch.

A model that runs in another service logs its answers beside its inputs. ``scores=`` names the
column of P(positive class) (binary; ``classes_[1]``) or one column per class in the model's
``classes_`` order (multiclass), ``predicted=`` the column of predicted classes or values. With
them the monitor never calls ``predict``: prediction drift, stability and estimation read those
columns (:func:`served_predictions`), and the columns are outputs, not input features (the schema
checks do not call them unexpected). Without ``predicted=`` a classifier's class is read off
the scores (binary: P ≥ 0.5; multiclass: the most probable class), as ``predict`` does.

Scores are probabilities: a NaN or a value outside [0, 1] is a finding (``stability.scores``,
with counts), and estimation uses the other rows and says so.

For a dataset version (no model), a served column that the reference dataset also has still
drives prediction drift (:func:`dataset_checks`): the batch's column against the reference's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from modelbook.errors import DataError
from modelbook.monitoring.checks import one_column_drift_check, status_of
from modelbook.monitoring.report import CheckResult

if TYPE_CHECKING:
    from modelbook.monitoring.context import RunContext
    from modelbook.monitoring.predictions import Predictions

__all__ = [
    "check_columns",
    "checks",
    "column_names",
    "dataset_checks",
    "invalid_scores",
    "served_predictions",
]


def column_names(value: str | Sequence[str] | None, what: str) -> tuple[str, ...]:
    """``scores=`` / ``predicted=`` as a tuple of column names; a one-line error if malformed."""
    if value is None:
        return ()
    if isinstance(value, str):
        names: tuple[str, ...] = (value,)
    elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        names = tuple(value)
    else:
        raise DataError(
            f"{what}= must name columns of the batch (a string or a list of strings); "
            f"got {type(value).__name__}."
        )
    if not names or any(not n for n in names):
        raise DataError(
            f"{what}= names no column: pass the batch column(s) with the model's output."
        )
    if what == "predicted" and len(names) != 1:
        raise DataError(
            f"predicted= names {len(names)} columns: pass the one batch column that holds the "
            "predicted class or value."
        )
    if len(set(names)) != len(names):
        raise DataError(f"{what}= names a column twice: {', '.join(map(repr, names))}.")
    return names


def check_columns(batch_names: Sequence[str], scores: Sequence[str], predicted: str | None) -> None:
    """Raise :class:`DataError` (before anything is stored) for served columns not in the batch."""
    wanted = [*scores, *([predicted] if predicted else [])]
    missing = [c for c in wanted if c not in batch_names]
    if missing:
        shown = ", ".join(list(batch_names)[:20])
        raise DataError(
            f"model output column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))} not in the batch (columns: {shown}): pass the "
            "columns that hold the served model's scores / predictions."
        )


def _column(ctx: RunContext, name: str) -> npt.NDArray[Any]:
    if ctx.source.table is not None:
        return np.asarray(ctx.source.table.column(name).to_numpy(zero_copy_only=False))
    from modelbook.monitoring.inputs import column_of_file

    return np.asarray(column_of_file(ctx.source, name))


def _numeric(ctx: RunContext, name: str) -> npt.NDArray[np.float64]:
    values = _column(ctx, name)
    try:
        return np.asarray(
            [np.nan if v is None else v for v in values] if values.dtype == object else values,
            dtype=np.float64,
        )
    except (TypeError, ValueError):
        raise DataError(
            f"scores column {name!r} is not numeric ({values.dtype}): scores are probabilities "
            "in [0, 1]."
        ) from None


def served_predictions(ctx: RunContext, task: str, classes: Any) -> Predictions:
    """The model's outputs read from the batch's ``scores=`` / ``predicted=`` columns.

    Raises :class:`DataError` when the columns cannot be the model's outputs (scores for a
    regressor, the wrong number of score columns).
    """
    from modelbook.monitoring.predictions import Predictions

    scores: npt.NDArray[np.float64] | None = None
    proba: npt.NDArray[np.float64] | None = None
    if ctx.scores_columns:
        if task == "regression":
            raise DataError(
                "scores= is for classifiers; this model is a regressor: pass predicted= "
                "(the column of predicted values)."
            )
        matrix = np.column_stack([_numeric(ctx, c) for c in ctx.scores_columns])
        k = matrix.shape[1]
        n_classes = len(classes) if classes is not None else k
        if task == "binary" and k in (1, 2):
            scores = matrix[:, k - 1]
        elif task != "binary" and k == n_classes:
            proba = matrix
        else:
            want = "one column (P of classes_[1]) or two" if task == "binary" else "one per class"
            raise DataError(
                f"scores= names {k} column{'s' if k > 1 else ''} but the model has "
                f"{n_classes} classes {_classes(classes)}: name {want}, in that order."
            )
    if ctx.predicted_column is not None:
        labels = _column(ctx, ctx.predicted_column)
    elif classes is not None and (scores is not None or proba is not None):
        labels = _from_scores(scores, proba, classes)
    else:
        raise DataError(
            "this model's outputs need predicted= (the column of predicted values) or scores=."
        )
    return Predictions(labels=labels, scores=scores, proba=proba)


def _classes(classes: Any) -> str:
    from modelbook.stats.metrics import describe_values

    return describe_values(classes, limit=5) if classes is not None else "(unknown)"


def _from_scores(
    scores: npt.NDArray[np.float64] | None, proba: npt.NDArray[np.float64] | None, classes: Any
) -> npt.NDArray[Any]:
    """What ``predict`` answers from these scores: P ≥ 0.5, or the most probable class."""
    known: npt.NDArray[Any] = np.asarray(classes)
    if scores is not None:
        index = (np.nan_to_num(scores, nan=0.0) >= 0.5).astype(np.intp)
    else:
        assert proba is not None
        index = np.argmax(np.nan_to_num(proba, nan=-np.inf), axis=1)
    out: npt.NDArray[Any] = known[index]
    return out


def invalid_scores(values: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.bool_], int, int]:
    """Rows with a NaN/±inf score or one outside [0, 1]: ``(mask, n_nan, n_out_of_range)``.

    ``values`` is (n,) or (n, C); a row counts once (as NaN when it has both).
    """
    matrix = values.reshape(len(values), -1)
    nan: npt.NDArray[np.bool_] = np.asarray(~np.isfinite(matrix).all(axis=1))
    with np.errstate(invalid="ignore"):
        out: npt.NDArray[np.bool_] = np.asarray(((matrix < 0) | (matrix > 1)).any(axis=1) & ~nan)
    return nan | out, int(nan.sum()), int(out.sum())


def checks(ctx: RunContext) -> list[CheckResult]:
    """stability.scores: NaN or out-of-range scores (served scores, or a model's that has them)."""
    model = ctx.model
    if model is None or model.predictions is None:
        return []
    rule = ctx.settings.rule("stability.scores")
    preds = model.predictions
    values = preds.scores if preds.scores is not None else preds.proba
    if values is None or rule.severity == "off":
        return []
    bad, nan, out = invalid_scores(values)
    n = len(bad)
    if not bad.any() and not ctx.scores_columns:
        return []  # a model's own predict_proba: said only when something is wrong
    share = float(bad.mean()) if n else 0.0
    failed = bool(bad.any()) and share > (rule.threshold or 0.0)
    if bad.any():
        message = (
            f"{nan:,} rows with NaN scores and {out:,} with scores outside [0, 1] "
            f"({share:.2%} of {n:,}): left out of estimated performance"
        )
    else:
        message = f"all {n:,} rows have scores in [0, 1]"
    return [
        CheckResult(
            "stability.scores",
            status_of(rule, failed),
            message,
            column=", ".join(ctx.scores_columns) or None,
            test="invalid share",
            statistic=share,
            threshold=rule.threshold,
        )
    ]


def dataset_checks(ctx: RunContext) -> list[CheckResult]:
    """drift.prediction of a dataset version: the served column against the reference's own."""
    from modelbook.stats.drift import drift_from_profiles
    from modelbook.stats.profile import TableProfile

    if ctx.model_row is not None or not ctx.served_columns:
        return []
    if ctx.settings.rule("drift.prediction").severity == "off":
        return []
    name = ctx.scores_columns[0] if len(ctx.scores_columns) == 1 else ctx.predicted_column
    if name is None:
        name = ctx.scores_columns[0]
    if name not in ctx.reference_profile.names or name not in ctx.batch.names:
        return [
            CheckResult(
                "drift.prediction",
                "info",
                f"the reference {ctx.reference} has no column {name!r}: prediction drift "
                "not tested",
                column=name,
            )
        ]
    ref = TableProfile(
        rows=ctx.reference_profile.rows, columns=(ctx.reference_profile.column(name),)
    )
    cur = TableProfile(rows=ctx.batch.rows, columns=(ctx.batch.column(name),))
    drift = drift_from_profiles(ref, cur, rules=ctx.settings.drift).columns[0]
    ctx.findings.prediction_drift = drift
    return [one_column_drift_check(drift, ctx.settings, check="drift.prediction")]
