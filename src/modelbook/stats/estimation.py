"""Label-free performance estimation: calibrated confidence (CBPE) and a model of the loss (DLE).

Labels arrive late or never. What a model's own outputs say about its performance is fitted once,
on an *evaluation set* (held-out rows with labels, never the training data: a calibrator fitted on
rows the model has memorised believes the model is right more often than it is), and stored as an
:class:`EstimationState` of plain numbers. A monitor run then estimates each metric of a batch
from the batch's scores (or features) alone, without refitting anything.

Classification (confidence-based estimation, as NannyML's CBPE)
---------------------------------------------------------------
* **Calibration.** Per class (one-vs-rest; binary: P(``classes[1]``)), an isotonic regression of
  the label on the score (scikit-learn's PAVA; the same breakpoints as ``IsotonicRegression``
  with ``out_of_bounds='clip'``, a test checks), *used only where it lowers the expected calibration error on held-out
  folds*: 10 stratified splits of 10 % (the calibrator fitted on the other 90 %), ECE on 10
  equal-count bins of each test fold; used when the mean ECE drops and it drops on at least 8
  of the 10 folds (NannyML pools the folds and needs any drop: on a calibrated model that
  comparison is a coin flip, biased towards calibrating). It is skipped when the labels have
  one class (or fewer than 2 rows of one). Scores that separate the classes face the same test
  (NannyML skips them above ROC AUC 0.999): separating is not being calibrated, and a
  regularised model that separates a class while saying 0.7 biased every estimate low by
  0.04–0.13 on wine. Multiclass rows are renormalised to sum to 1 (uniform when a row sums to
  0). The breakpoints are stored, so applying a calibrator is ``np.interp``.
* **Estimators** from the expected confusion matrix, with p̂ the calibrated probability:
  TP = Σ_{ŷ=1} p̂, FP = Σ_{ŷ=1} (1 − p̂), FN = Σ_{ŷ=0} p̂, TN = Σ_{ŷ=0} (1 − p̂);
  accuracy = (TP + TN)/n, precision = TP/(TP + FP), recall = TP/(TP + FN),
  F1 = 2TP/(2TP + FP + FN). ROC AUC: rows sorted by the *raw* score (descending), equal scores
  grouped, the expected true positives accumulated (Σ p̂) against the expected false positives
  (Σ 1 − p̂), and the area under that curve (trapezoid). Multiclass: the macro means of the
  one-vs-rest binary forms; accuracy = mean p̂ of the predicted class. A class the batch never
  predicts counts 0 in precision_macro (scikit-learn's ``zero_division=0``, as the realized value).
  These are ratios of expected counts, so with a 0.5 threshold accuracy never estimates below 0.5:
  that is the method, not a bug.

Regression (direct loss estimation, as NannyML's DLE)
-----------------------------------------------------
A loss model, scikit-learn's ``HistGradientBoostingRegressor`` on the features plus the model's
prediction, learns the per-row loss on the evaluation set; the batch estimate is the mean of its
predictions (clipped at 0). *Two* boosted models, in one ``MultiOutputRegressor``: one learns
|y − ŷ| (MAE), one (y − ŷ)² (RMSE = √mean). One model of |y − ŷ| cannot give RMSE (that needs
E[e²] = E[|e|]² + Var(|e|), which a model of the mean absolute error does not know), and
√ of a model of e² overstates MAE; so each metric gets the model of its own loss, as in DLE.
Squared-error boosting estimates the conditional *mean* loss, which is what the metrics average
(an L1 objective would estimate the median loss and underestimate MAE). Categorical columns are
ordinal-encoded (codes of the 250 most frequent values at fit time, most frequent first; other
and unseen values missing, which the boosting handles natively). Declaring them categorical to
the boosting would store a ``functools.partial`` in the model, which skops loads only with
``trust=True``; the loss model must load like any registered scikit-learn model.

Uncertainty and alert thresholds
--------------------------------
* **Sampling error** of a batch of n rows: SE = σ_ψ / √n, with σ_ψ the standard deviation of the
  metric's per-row *influence values* on the evaluation set (first-order linearisation). For ROC
  AUC these are the Mann–Whitney placement values of both classes (DeLong: Var = Var(V10)/n₊ +
  Var(V01)/n₋; NannyML keeps the minority term only and multiplies multiclass by a hand-tuned
  1.2); for precision, recall, accuracy and F1 — ratios Σa/Σb — ψ = (a − R·b)/mean(b), which is
  NannyML's form for precision/recall/accuracy and the exact delta method for F1; macro metrics
  average the class influences row by row, so correlations between classes count. MAE: |e| −
  MAE; RMSE: (e² − MSE)/(2·RMSE). The estimate's interval is value ± 3 SE, clipped to the range.
  σ_ψ of a metric in [0, 1] is at least √(q(1 − q)) with q = 1/n_eval, one evaluation row's
  worth: no error among k evaluation rows bounds the error rate at about 1/k (3/k at 95 %, the
  rule of three), it does not make it 0 (a perfectly separated evaluation set has σ_ψ = 0).
* **Threshold band** (what alerts): mean ± 3σ of the *realized* metric on chunks of the
  evaluation set, clipped to the range (NannyML's StandardDeviationThreshold, σ with ddof=1).
  Chunks are drawn at fit time on a ladder of sizes (50, 100, 200, 500, 1,000, …) with at least
  10 disjoint chunks each (at most 30 kept); a batch of n rows uses the largest ladder size ≤ n
  and scales σ by √(size/n) (σ ∝ 1/√n), which covers n beyond what the evaluation set can chunk.
  An evaluation set too small for 10 disjoint chunks of 50 rows (< 500 rows) is resampled with
  replacement (30 chunks of 50 rows). ``band_how`` says which, in words. Two corrections keep a
  clean batch inside the band, and ``band_how`` states each when it applies:

  - *never narrower than sampling explains*: σ is raised to the batch's sampling error (SE for n
    rows, with the floor above) when the chunks' σ falls below it by more than its own noise
    (relative SE 1/√(2(k − 1)) from k chunks, 2 of those). On a small near-perfect evaluation
    set every chunk realizes 1.0 and σ = 0: the band was 1.000–1.000, and an estimate of 0.998
    on clean data alerted.
  - *centred where the estimator sits*: the alert asks whether the estimate moved from its
    value when nothing changed, which is the estimator's value on the evaluation set, not the
    realized one. Where the two differ by more than the evaluation set's sampling error (SE of
    n_eval rows) the band moves by that offset. Regression needs no offset: boosting with
    squared error fits the mean loss, so its in-sample mean equals the realized one.

Estimates assume no concept drift: the relation between scores (or features) and labels is the
one seen on the evaluation set. They follow covariate shift, not a change in what the labels mean.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from modelbook.errors import DataError

__all__ = [
    "ESTIMATED_METRICS",
    "MIN_EVAL_ROWS",
    "MIN_ROWS",
    "Calibration",
    "ChunkStats",
    "Estimate",
    "EstimationState",
    "estimate",
    "fit_estimation",
]

#: Estimated metrics per task, under the names of :mod:`modelbook.stats.metrics`.
ESTIMATED_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "accuracy", "precision", "recall", "f1"),
    "multiclass": ("roc_auc_ovr", "accuracy", "precision_macro", "recall_macro", "f1_macro"),
    "regression": ("mae", "rmse"),
}
TASKS = tuple(ESTIMATED_METRICS)

#: Fewest rows a batch needs for an estimate (fewer: status 'insufficient').
MIN_ROWS = 50
#: Fewest rows an evaluation set needs.
MIN_EVAL_ROWS = 100
SE_RANGE = 3.0  # the estimate's interval: value ± 3 SE
BAND_SIGMAS = 3.0  # the threshold band: mean ± 3σ of realized chunk values
LADDER = (50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000)
MIN_CHUNKS, MAX_CHUNKS, RESAMPLED_CHUNKS = 10, 30, 30
CALIBRATION_SPLITS, CALIBRATION_TEST, ECE_BINS = 10, 0.1, 10
CALIBRATION_WINS = 8  # folds (of 10) on which calibration must lower the ECE
PARALLEL_LOSS_ROWS = 100_000  # loss models on fewer rows are fitted on one thread
MAX_CATEGORIES = 250  # HistGradientBoosting takes at most 255 categories per column
FORMAT, VERSION = "modelbook.estimation", 1

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- results and state


@dataclass(frozen=True)
class Calibration:
    """The calibrator of one class: isotonic breakpoints, or not used (and why)."""

    used: bool
    reason: str
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    ece_raw: float | None = None
    ece_calibrated: float | None = None

    def apply(self, scores: FloatArray) -> FloatArray:
        """Calibrated probabilities (``out_of_bounds='clip'``, as the isotonic regression)."""
        if not self.used:
            return scores
        return np.asarray(np.interp(scores, self.x, self.y), dtype=np.float64)


@dataclass(frozen=True)
class ChunkStats:
    """The realized metric on ``chunks`` evaluation chunks of ``size`` rows."""

    size: int
    chunks: int
    mean: float
    std: float
    resampled: bool = False  # drawn with replacement (small evaluation set)


@dataclass(frozen=True)
class Estimate:
    """One estimated metric of a batch; ``value`` is None when the batch cannot support it."""

    metric: str
    value: float | None
    lower: float | None  # value - 3 SE, clipped to the metric's range
    upper: float | None
    se: float | None
    n: int  # rows the estimate used
    band_lower: float | None
    band_upper: float | None
    band_how: str
    status: str  # 'ok' | 'alert' (value outside the band) | 'insufficient'
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EstimationState:
    """Everything estimation fitted on the evaluation set, as plain numbers (no sklearn objects).

    ``calibration``: one :class:`Calibration` per class for multiclass, one (of ``classes[1]``)
    for binary, none for regression. ``se_sigma``: per metric, σ of the per-row influence values
    (SE of n rows = σ/√n). ``ladder``: per metric, the realized metric on evaluation chunks of
    several sizes (the threshold band). ``realized``: the metrics on the whole evaluation set;
    ``estimated``: what the estimator says on it (classifiers; the band's centre, see
    :meth:`band`; None in states stored before it existed).
    ``features``: the loss model's input columns; ``categories``: the kept values of each
    categorical one (coded by position; other values are missing).
    """

    task: str
    classes: tuple[Any, ...] | None
    n_eval: int
    calibration: tuple[Calibration, ...] = ()
    se_sigma: Mapping[str, float] | None = None
    ladder: Mapping[str, tuple[ChunkStats, ...]] | None = None
    realized: Mapping[str, float] | None = None
    features: tuple[str, ...] | None = None
    categories: Mapping[str, tuple[str, ...]] | None = None
    seed: int = 0
    estimated: Mapping[str, float] | None = None

    @property
    def metrics(self) -> tuple[str, ...]:
        return ESTIMATED_METRICS[self.task]

    def band(self, metric: str, n: int) -> tuple[float, float, str]:
        """Threshold band for a batch of ``n`` rows: ``(lower, upper, how it was made)``.

        mean ± 3σ of the realized metric on evaluation chunks (σ scaled to ``n``), with two
        corrections that keep clean batches inside it (see the module docstring, "Threshold
        band"): σ is never below the sampling error of ``n`` rows (:meth:`se`, itself floored at
        one evaluation row's worth), and the centre moves by the estimator's offset on the
        evaluation set when that offset exceeds the set's own sampling error.
        """
        lower, upper, how = self._band(metric, n)
        if lower is None or upper is None:
            raise DataError(how)
        return lower, upper, how

    def _band(self, metric: str, n: int) -> tuple[float | None, float | None, str]:
        if metric not in self.metrics:
            raise DataError(
                f"{metric!r} is not estimated for {self.task} models; "
                f"choose one of {', '.join(self.metrics)}."
            )
        ladder = (self.ladder or {}).get(metric, ())
        if not ladder:
            return (
                None,
                None,
                (f"no threshold band for {metric}: it was undefined on every evaluation chunk"),
            )
        below = [c for c in ladder if c.size <= n]
        base = below[-1] if below else ladder[0]
        scale = math.sqrt(base.size / max(n, 1))
        sigma = base.std * scale
        how = (
            f"mean ± 3σ of the realized {metric} on {base.chunks} evaluation chunks of "
            f"{base.size:,} rows"
        )
        if base.resampled:
            how += f" (resampled with replacement from {self.n_eval:,} rows)"
        if base.size != n:
            how += f", σ scaled by √({base.size:,}/n) for n = {n:,}"
        se = self.se(metric, n)
        if se is not None and sigma < se * (1.0 - 2.0 / math.sqrt(2.0 * max(base.chunks - 1, 1))):
            # The chunks' σ is itself an estimate (relative SE ≈ 1/√(2(k − 1)) from k chunks):
            # only a σ more than 2 of those below the sampling error is raised to it (chunks
            # that all realize 1.0 give σ = 0; that is the evaluation set's resolution, not a
            # property of the batch).
            sigma = se
            floored = (self.se_sigma or {}).get(metric, 0.0) < self._resolution(metric)
            how += (
                f", σ raised to one evaluation row's worth of sampling error for n = {n:,} "
                f"({se:.4f}: as if 1 of the {self.n_eval:,} evaluation rows went the other way)"
                if floored
                else f", σ raised to the sampling error for n = {n:,} ({se:.4f})"
            )
        centre = base.mean
        shift = self.offset(metric)
        if shift is not None:
            assert self.estimated is not None and self.realized is not None
            centre += shift
            how += (
                f"; centred on the estimate for the evaluation set, "
                f"{self.estimated[metric]:.3f}, which differs from its realized "
                f"{self.realized[metric]:.3f} by {shift:+.3f}"
            )
        low, high = _clip(metric, centre - BAND_SIGMAS * sigma, centre + BAND_SIGMAS * sigma)
        return low, high, how

    def offset(self, metric: str) -> float | None:
        """The estimator's offset on the evaluation set (estimated − realized), when it exceeds
        the set's own sampling error (:meth:`se` of ``n_eval`` rows); else None.

        An estimate is compared with where it sits when nothing changed, and that is its value on
        the evaluation set, not the realized value (CBPE on a small or sharp evaluation set is
        biased by a few hundredths). Below one SE the offset is noise, and moving the band by
        it would change nothing material (the band is ±3 SE wide or more).
        """
        estimated = (self.estimated or {}).get(metric)
        realized = (self.realized or {}).get(metric)
        if estimated is None or realized is None:
            return None
        shift = estimated - realized
        se = self.se(metric, self.n_eval)
        if se is None or abs(shift) <= se:
            return None
        return shift

    def _resolution(self, metric: str) -> float:
        """Smallest per-row σ a metric in [0, 1] can claim from ``n_eval`` rows: a rate of one
        row in ``n_eval`` (√(q(1 − q)), q = 1/n_eval). None observed errors among k rows do
        not mean none will happen: they bound the rate at about 1/k (3/k at 95 %, the rule of
        three). MAE and RMSE have units and no such floor (0)."""
        if metric in ("mae", "rmse") or self.n_eval <= 1:
            return 0.0
        q = 1.0 / self.n_eval
        return math.sqrt(q * (1.0 - q))

    def se(self, metric: str, n: int) -> float | None:
        """Sampling error of ``metric`` for a batch of ``n`` rows (None: not estimable):
        σ_ψ/√n, σ_ψ at least one evaluation row's worth (:meth:`_resolution`)."""
        sigma = (self.se_sigma or {}).get(metric)
        if sigma is None or n <= 0:
            return None
        return max(sigma, self._resolution(metric)) / math.sqrt(n)

    # ------------------------------------------------------------------ serialisation

    def to_bytes(self) -> bytes:
        """Deterministic JSON (sorted keys, exact floats), versioned."""
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "task": self.task,
            "classes": None if self.classes is None else list(self.classes),
            "n_eval": self.n_eval,
            "calibration": [
                {
                    "used": c.used,
                    "reason": c.reason,
                    "x": list(c.x),
                    "y": list(c.y),
                    "ece_raw": c.ece_raw,
                    "ece_calibrated": c.ece_calibrated,
                }
                for c in self.calibration
            ],
            "se_sigma": dict(self.se_sigma or {}),
            "ladder": {
                m: [[c.size, c.chunks, c.mean, c.std, c.resampled] for c in rows]
                for m, rows in (self.ladder or {}).items()
            },
            "realized": dict(self.realized or {}),
            "features": None if self.features is None else list(self.features),
            "categories": (
                None
                if self.categories is None
                else {k: list(v) for k, v in self.categories.items()}
            ),
            "seed": self.seed,
            "estimated": None if self.estimated is None else dict(self.estimated),
        }
        try:
            text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DataError(f"The estimation state cannot be stored: {exc}.") from exc
        return text.encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> EstimationState:
        """The state written by :meth:`to_bytes`; DataError for another format or version."""
        try:
            doc = json.loads(bytes(data).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise DataError(
                "The stored estimation state is not readable JSON: register the evaluation "
                "set again."
            ) from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise DataError(
                "The stored bytes are not a modelbook estimation state: register the "
                "evaluation set again."
            )
        version = doc.get("version")
        if version != VERSION:
            raise DataError(
                f"The estimation state has format version {version!r}, and this modelbook reads "
                f"version {VERSION}: upgrade modelbook (or register the evaluation set again)."
            )
        try:
            classes = doc["classes"]
            features = doc["features"]
            return cls(
                task=str(doc["task"]),
                classes=None if classes is None else tuple(classes),
                n_eval=int(doc["n_eval"]),
                calibration=tuple(
                    Calibration(
                        used=bool(c["used"]),
                        reason=str(c["reason"]),
                        x=tuple(float(v) for v in c["x"]),
                        y=tuple(float(v) for v in c["y"]),
                        ece_raw=c["ece_raw"],
                        ece_calibrated=c["ece_calibrated"],
                    )
                    for c in doc["calibration"]
                ),
                se_sigma={str(k): float(v) for k, v in doc["se_sigma"].items()},
                ladder={
                    str(m): tuple(
                        ChunkStats(int(r[0]), int(r[1]), float(r[2]), float(r[3]), bool(r[4]))
                        for r in rows
                    )
                    for m, rows in doc["ladder"].items()
                },
                realized={str(k): float(v) for k, v in doc["realized"].items()},
                features=None if features is None else tuple(str(f) for f in features),
                categories=(
                    None
                    if doc["categories"] is None
                    else {str(k): tuple(str(v) for v in vs) for k, vs in doc["categories"].items()}
                ),
                seed=int(doc["seed"]),
                estimated=(
                    None  # states stored before the band's centre was recorded
                    if doc.get("estimated") is None
                    else {str(k): float(v) for k, v in doc["estimated"].items()}
                ),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataError(
                f"The stored estimation state is damaged ({type(exc).__name__}: {exc}): "
                "register the evaluation set again."
            ) from exc


# --------------------------------------------------------------------------- input handling


def _to_numpy(values: Any) -> npt.NDArray[Any]:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    return np.asarray(values)


def _vector(values: Any, name: str) -> npt.NDArray[Any]:
    arr = _to_numpy(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    return arr


def _missing(arr: npt.NDArray[Any]) -> BoolArray:
    import pandas as pd

    return np.asarray(pd.isna(arr), dtype=bool)


def _plain(value: Any) -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    if not isinstance(value, (str, int, float, bool)):
        raise DataError(
            f"Class label {value!r} ({type(value).__name__}) cannot be stored: class labels "
            "must be strings, numbers or booleans."
        )
    return value


def _describe(values: Sequence[Any], limit: int = 3) -> str:
    shown = [repr(_plain_or(v)) for v in list(values)[:limit]]
    if len(values) > limit:
        shown.append("…")
    return "(" + ", ".join(shown) + ")"


def _plain_or(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _codes(values: npt.NDArray[Any], classes: tuple[Any, ...], what: str) -> IntArray:
    """Index of each value in ``classes`` (by equality, so 1 == 1.0 == True); DataError if not."""
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = {c: i for i, c in enumerate(classes)}
    mapped = np.array([lookup.get(_plain_or(u), -1) for u in uniques], dtype=np.intp)
    unknown = [u for u, m in zip(uniques, mapped, strict=True) if m < 0]
    if unknown:
        raise DataError(
            f"{what} include {_describe(unknown)}, not among the model's classes "
            f"{_describe(classes, 6)}: pass labels of the model's classes."
        )
    if (codes < 0).any():
        raise DataError(f"{what} contain {int((codes < 0).sum())} missing values (NaN/None).")
    return mapped[codes] if len(mapped) else codes.astype(np.intp)


def _floats(values: npt.NDArray[Any], what: str, *, probability: bool) -> FloatArray:
    try:
        arr = values.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be numbers: {exc}.") from exc
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(
            f"{what} contain {int(bad.sum()):,} missing or infinite values: drop those rows first."
        )
    if probability and ((arr < 0) | (arr > 1)).any():
        outside = int(((arr < 0) | (arr > 1)).sum())
        raise DataError(
            f"{what} have {outside:,} values outside [0, 1]: pass predicted probabilities "
            "(predict_proba), not decision scores."
        )
    return arr


def _scores(scores: Any, task: str, n_classes: int, n: int, what: str) -> FloatArray:
    if scores is None:
        raise DataError(
            f"Estimating a classifier's performance needs its predicted probabilities: pass "
            f"{what} (the model has no predict_proba?)."
        )
    arr = _to_numpy(scores)
    if task == "binary":
        if arr.ndim == 2 and arr.shape[1] == 2:
            arr = arr[:, 1]
        elif arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise DataError(
                f"Binary {what} must be P(positive class) per row, got shape {arr.shape}."
            )
    elif arr.ndim != 2 or arr.shape[1] != n_classes:
        raise DataError(
            f"Multiclass {what} must be a matrix with one column per class ({n_classes}), in the "
            f"order of the model's classes; got shape {arr.shape}."
        )
    if len(arr) != n:
        raise DataError(f"{what} has {len(arr):,} rows but the predictions have {n:,}.")
    return _floats(arr, what, probability=True)


def _clip(metric: str, low: float, high: float) -> tuple[float, float]:
    if metric in ("mae", "rmse"):
        return max(low, 0.0), max(high, 0.0)
    return min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)


# --------------------------------------------------------------------------- calibration


def _pava(x_sorted: FloatArray, y_sorted: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Isotonic fit on pre-sorted scores, equal scores averaged first (as IsotonicRegression)."""
    starts = np.flatnonzero(np.r_[True, x_sorted[1:] != x_sorted[:-1]])
    counts = np.diff(np.r_[starts, len(x_sorted)]).astype(np.float64)
    means = np.add.reduceat(y_sorted, starts) / counts
    try:  # scipy ≥ 1.12 (what scikit-learn calls, without its input checks)
        from scipy.optimize import isotonic_regression as pava

        fitted = pava(means, weights=counts, increasing=True).x
    except ImportError:
        from sklearn.isotonic import isotonic_regression

        fitted = isotonic_regression(means, sample_weight=counts, increasing=True)
    return x_sorted[starts], np.asarray(fitted, dtype=np.float64)


def _ece_sorted(y: FloatArray, p: FloatArray, bins: int = ECE_BINS) -> float:
    """Expected calibration error on equal-count bins of rows already sorted by p:
    Σ_b (n_b/n)·|mean(p)_b − mean(y)_b|."""
    edges = np.linspace(0, len(p), bins + 1).round().astype(np.intp)
    starts = np.unique(edges[:-1][edges[:-1] < len(p)])
    if not len(starts):
        return 0.0
    gap = np.abs(np.add.reduceat(p, starts) - np.add.reduceat(y, starts))
    return float(gap.sum() / len(p))


def _fit_calibration(
    positive: BoolArray, s: FloatArray, order: IntArray, auc: float, seed: int
) -> Calibration:
    """Isotonic calibrator of P(positive), kept only where it lowers the held-out ECE.

    ``order``: argsort of ``s``; ``auc``: the realized ROC AUC of ``s``. The ECE is compared per
    test fold, not on the pooled folds as NannyML does: shuffle-split test folds overlap the
    other folds' training rows, so on pooled bins a calibrator has already seen most of the
    labels it is judged on, and it "wins" on a perfectly calibrated model at large n. And it
    must win clearly (lower mean ECE *and* lower on 8 of the 10 folds): on a calibrated model
    the two ECEs differ by noise, and a coin flip should not decide to refit the scores.

    Scores that separate the classes are judged by the same test, not skipped (NannyML skips
    above ROC AUC 0.999): separation says nothing about whether the scores are *probabilities*.
    A regularised logistic regression on wine separates two of its three classes on a
    100-row evaluation set yet says 0.7 where it is right 98 % of the time; left uncalibrated,
    those columns pulled every estimate down by 0.04–0.13 (ROC AUC 0.969 against a realized
    0.999) and every clean batch alerted. Where the raw scores are already sharp (near 0 and 1)
    the isotonic step changes them little. ``auc`` is reported in the reason.
    """
    n, n_pos = len(s), int(positive.sum())
    if n_pos == 0 or n_pos == n:
        return Calibration(False, "skipped: the evaluation labels have one class here")
    if min(n_pos, n - n_pos) < 2:
        return Calibration(False, "skipped: fewer than 2 evaluation rows of one class")
    rng = np.random.default_rng(seed)
    ss, ys = s[order], positive[order].astype(np.float64)  # sorted by score from here on
    groups = [np.flatnonzero(ys == 1), np.flatnonzero(ys == 0)]
    raw_eces, cal_eces = [], []
    for _ in range(CALIBRATION_SPLITS):
        test = np.zeros(n, dtype=bool)
        for rows in groups:
            k = max(1, round(CALIBRATION_TEST * len(rows)))
            test[rows[rng.choice(len(rows), size=k, replace=False, shuffle=False)]] = True
        bx, by = _pava(ss[~test], ys[~test])
        # isotonic predictions are non-decreasing in the score: the held-out rows stay sorted
        held_s, held_y = ss[test], ys[test]
        raw_eces.append(_ece_sorted(held_y, held_s))
        cal_eces.append(_ece_sorted(held_y, np.interp(held_s, bx, by)))
    ece_raw, ece_cal = float(np.mean(raw_eces)), float(np.mean(cal_eces))
    wins = int(np.sum(np.array(cal_eces) < np.array(raw_eces)))
    if not (ece_cal < ece_raw and wins >= CALIBRATION_WINS):
        return Calibration(
            False,
            f"skipped: isotonic calibration does not clearly lower the calibration error on "
            f"held-out folds (ECE {ece_raw:.4f} raw, {ece_cal:.4f} calibrated; lower on {wins} "
            f"of {CALIBRATION_SPLITS} folds, {CALIBRATION_WINS} needed; ROC AUC {auc:.4f})",
            ece_raw=ece_raw,
            ece_calibrated=ece_cal,
        )
    bx, by = _breakpoints(*_pava(ss, ys))
    return Calibration(
        True,
        f"isotonic: lowers the calibration error on held-out folds (ECE {ece_raw:.4f} → "
        f"{ece_cal:.4f}, lower on {wins} of {CALIBRATION_SPLITS} folds; ROC AUC {auc:.4f})",
        x=tuple(bx.tolist()),
        y=tuple(by.tolist()),
        ece_raw=ece_raw,
        ece_calibrated=ece_cal,
    )


def _breakpoints(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The points of an isotonic fit that interpolation needs: the ends of each constant run
    (what ``IsotonicRegression`` keeps as ``X_thresholds_`` / ``y_thresholds_``)."""
    keep = np.ones(len(y), dtype=bool)
    keep[1:-1] = (y[1:-1] != y[:-2]) | (y[1:-1] != y[2:])
    return x[keep], y[keep]


def _calibrated(state: EstimationState, raw: FloatArray) -> FloatArray:
    if state.task == "binary":
        return np.clip(state.calibration[0].apply(raw), 0.0, 1.0)
    columns = [c.apply(raw[:, j]) for j, c in enumerate(state.calibration)]
    p = np.clip(np.column_stack(columns), 0.0, None)
    total = p.sum(axis=1, keepdims=True)
    uniform = np.full_like(p, 1.0 / p.shape[1])
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, p / safe, uniform)


# --------------------------------------------------------------------------- estimators


def _expected_auc(p: FloatArray, raw: FloatArray) -> float:
    """Area under the expected ROC curve: raw scores descending, ties grouped, Σp̂ vs Σ(1−p̂)."""
    order = np.argsort(-raw, kind="stable")
    r, pp = raw[order], p[order]
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    tp_group = np.add.reduceat(pp, starts)
    fp_group = np.add.reduceat(1.0 - pp, starts)
    tps, fps = np.cumsum(tp_group), np.cumsum(fp_group)
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


def _estimate_binary(
    p: FloatArray, raw: FloatArray, pred_pos: BoolArray, positive: Any
) -> dict[str, tuple[float | None, str | None]]:
    n = len(p)
    n_pred = int(pred_pos.sum())
    tp = float(p[pred_pos].sum())
    fp = n_pred - tp
    exp_pos = float(p.sum())
    fn = exp_pos - tp
    tn = (n - n_pred) - fn
    out: dict[str, tuple[float | None, str | None]] = {}
    exp_neg = n - exp_pos
    if exp_pos < 1 or exp_neg < 1:
        out["roc_auc"] = (
            None,
            f"expected positives {exp_pos:,.1f} and negatives {exp_neg:,.1f} among {n:,} rows; "
            "ROC AUC needs at least 1 of each",
        )
    else:
        out["roc_auc"] = (_expected_auc(p, raw), None)
    out["accuracy"] = ((tp + tn) / n, None)
    if n_pred == 0:
        out["precision"] = (None, f"no predicted positives ({positive!r}) among {n:,} rows")
    else:
        out["precision"] = (tp / n_pred, None)
    if exp_pos <= 0:
        why = f"expected positives 0 among {n:,} rows"
        out["recall"] = (None, why)
        out["f1"] = (None, why) if n_pred == 0 else (0.0, None)
    else:
        out["recall"] = (tp / exp_pos, None)
        out["f1"] = (2 * tp / (2 * tp + fp + fn), None)
    return out


def _estimate_multiclass(
    p: FloatArray, raw: FloatArray, pred: IntArray
) -> dict[str, tuple[float | None, str | None]]:
    n, n_classes = p.shape
    precision, recall, f1, aucs = [], [], [], []
    for c in range(n_classes):
        mine = pred == c
        count = int(mine.sum())
        tp = float(p[mine, c].sum())
        exp_pos = float(p[:, c].sum())
        precision.append(_ratio(tp, count))
        recall.append(_ratio(tp, exp_pos))
        f1.append(_ratio(2 * tp, count + exp_pos))
        if exp_pos >= 1 and n - exp_pos >= 1:
            aucs.append(_expected_auc(p[:, c], raw[:, c]))
    out: dict[str, tuple[float | None, str | None]] = {}
    if len(aucs) < 2:
        out["roc_auc_ovr"] = (
            None,
            f"{len(aucs)} of {n_classes} classes expected with at least 1 row in and out among "
            f"{n:,} rows; ROC AUC (one-vs-rest) needs 2",
        )
    else:
        out["roc_auc_ovr"] = (float(np.mean(aucs)), None)
    out["accuracy"] = (float(p[np.arange(n), pred].mean()), None)
    out["precision_macro"] = (float(np.mean(precision)), None)
    out["recall_macro"] = (float(np.mean(recall)), None)
    out["f1_macro"] = (float(np.mean(f1)), None)
    return out


# --------------------------------------------------------------------------- realized metrics


@dataclass(frozen=True)
class _Labeled:
    """The evaluation set as arrays: what realized metrics and sampling errors need."""

    task: str
    y: IntArray | None = None  # class codes
    pred: IntArray | None = None
    raw: FloatArray | None = None  # binary (n,), multiclass (n, C)
    error: FloatArray | None = None  # regression y - ŷ

    @property
    def n(self) -> int:
        arr = self.error if self.task == "regression" else self.y
        assert arr is not None
        return len(arr)


def _placements(ss: FloatArray, ps: BoolArray) -> tuple[FloatArray, FloatArray]:
    """Mann–Whitney placements of rows sorted by score within each chunk (k, m): for each row,
    the negatives below it and the positives above it, an equal score counting ½."""
    k, m = ss.shape
    new = np.ones((k, m), dtype=bool)
    new[:, 1:] = ss[:, 1:] != ss[:, :-1]
    flat_new = new.ravel()
    gid = np.cumsum(flat_new) - 1
    start = np.flatnonzero(flat_new)
    end = np.r_[start[1:], k * m] - 1
    negs = (~ps).astype(np.float64)
    poss = ps.astype(np.float64)
    out = []
    for counts in (negs, poss):
        cum = np.cumsum(counts, axis=1).ravel()
        excl = cum - counts.ravel()
        before = excl[start]
        inside = cum[end] - before
        out.append((before + inside / 2.0)[gid].reshape(k, m))
    pos_total = poss.sum(axis=1, keepdims=True)
    # positives after the row's group + ½ of its group = total − (before + ½ group)
    return out[0], pos_total - out[1]


def _rank_auc(pos: BoolArray, s: FloatArray, *, presorted: bool = False) -> FloatArray:
    """Realized ROC AUC per row of (k, m) chunk arrays; NaN where a chunk has one class.
    ``presorted``: each chunk's rows already come in ascending score order."""
    if presorted:
        ss, ps = s, pos
    else:
        order = np.argsort(s, axis=1, kind="stable")
        ss = np.take_along_axis(s, order, axis=1)
        ps = np.take_along_axis(pos, order, axis=1)
    neg_below, _ = _placements(ss, ps)
    n_pos = ps.sum(axis=1).astype(np.float64)
    n_neg = ps.shape[1] - n_pos
    u = (neg_below * ps).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((n_pos > 0) & (n_neg > 0), u / (n_pos * n_neg), np.nan)


def _sorted_chunks(order: IntArray, idx: IntArray, n: int) -> IntArray:
    """The disjoint chunks ``idx`` (k, m) with each chunk's rows in ascending score order,
    from the whole set's ``order``: a stable radix sort of chunk numbers, not k float sorts."""
    k, m = idx.shape
    kind = np.int16 if k < 32_767 else np.int32  # 16 bits: numpy's stable sort is a radix sort
    chunk = np.full(n, k, dtype=kind)
    chunk[idx.ravel()] = np.repeat(np.arange(k, dtype=kind), m)
    ranked = order[np.argsort(chunk[order], kind="stable")]
    return ranked[: k * m].reshape(k, m)


def _nan_ratio(a: FloatArray, b: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _zero_ratio(a: FloatArray, b: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def _realized_chunks(
    data: _Labeled,
    idx: IntArray,
    *,
    auc: bool = True,
    sorted_idx: Sequence[IntArray] | None = None,
) -> dict[str, FloatArray]:
    """Realized metrics on chunks of rows ``idx`` (k, m): one value per chunk, NaN = undefined.

    The definitions are those of :mod:`modelbook.stats.metrics` (scikit-learn, zero_division=0
    per class in macro averages, labels = classes present in labels or predictions; roc_auc_ovr
    averages the classes with both labels present). ``auc=False`` leaves ROC AUC out (NaN);
    ``sorted_idx``: per score column, the chunks with rows in ascending score order.
    """

    def chunk_auc(pos_all: BoolArray, s: FloatArray, column: int) -> FloatArray:
        if not auc:
            return np.full(len(idx), np.nan)
        if sorted_idx is not None:
            rows = sorted_idx[column]
            return _rank_auc(pos_all[rows], s[rows], presorted=True)
        return _rank_auc(pos_all[idx], s[idx])

    if data.task == "regression":
        assert data.error is not None
        e = data.error[idx]
        return {"mae": np.abs(e).mean(axis=1), "rmse": np.sqrt((e * e).mean(axis=1))}
    assert data.y is not None and data.pred is not None and data.raw is not None
    y, pred = data.y[idx], data.pred[idx]
    if data.task == "binary":
        pos, ppos = y == 1, pred == 1
        tp = (pos & ppos).sum(axis=1).astype(np.float64)
        n_pos, n_ppos = pos.sum(axis=1).astype(np.float64), ppos.sum(axis=1).astype(np.float64)
        return {
            "roc_auc": chunk_auc(data.y == 1, data.raw, 0),
            "accuracy": (y == pred).mean(axis=1),
            "precision": _nan_ratio(tp, n_ppos),
            "recall": _nan_ratio(tp, n_pos),
            "f1": _nan_ratio(2 * tp, n_ppos + n_pos),
        }
    n_classes = data.raw.shape[1]
    prec, rec, f1, present, aucs = [], [], [], [], []
    for c in range(n_classes):
        pos, ppos = y == c, pred == c
        tp = (pos & ppos).sum(axis=1).astype(np.float64)
        n_pos, n_ppos = pos.sum(axis=1).astype(np.float64), ppos.sum(axis=1).astype(np.float64)
        prec.append(_zero_ratio(tp, n_ppos))
        rec.append(_zero_ratio(tp, n_pos))
        f1.append(_zero_ratio(2 * tp, n_ppos + n_pos))
        present.append((n_pos + n_ppos) > 0)
        aucs.append(chunk_auc(data.y == c, data.raw[:, c], c))
    mask = np.array(present, dtype=np.float64)
    labels = mask.sum(axis=0)
    auc_arr = np.array(aucs)
    auc_ok = np.isfinite(auc_arr)
    n_auc = auc_ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc_mean = np.where(auc_ok, auc_arr, 0.0).sum(axis=0) / n_auc
    return {
        "roc_auc_ovr": np.where(n_auc >= 2, auc_mean, np.nan),
        "accuracy": (y == pred).mean(axis=1),
        "precision_macro": (np.array(prec) * mask).sum(axis=0) / labels,
        "recall_macro": (np.array(rec) * mask).sum(axis=0) / labels,
        "f1_macro": (np.array(f1) * mask).sum(axis=0) / labels,
    }


def _realized(data: _Labeled, aucs: Sequence[float] | None = None) -> dict[str, float]:
    """The metrics on the whole evaluation set; ``aucs``: per score column, the ROC AUCs when
    already computed (NaN: a class without both labels)."""
    values = _realized_chunks(data, np.arange(data.n, dtype=np.intp)[None, :], auc=aucs is None)
    out = {m: float(v[0]) for m, v in values.items() if np.isfinite(v[0])}
    if aucs is not None:
        finite = [a for a in aucs if math.isfinite(a)]
        if data.task == "binary" and finite:
            out = {"roc_auc": finite[0], **out}
        elif data.task == "multiclass" and len(finite) >= 2:
            out = {"roc_auc_ovr": float(np.mean(finite)), **out}
    return out


def _ladder(
    data: _Labeled, seed: int, orders: Sequence[IntArray] | None = None
) -> dict[str, tuple[ChunkStats, ...]]:
    """Realized metrics on evaluation chunks of each ladder size (see the module docstring);
    ``orders``: per score column, the argsort of the whole set's scores."""
    rng = np.random.default_rng(seed + 1)
    n = data.n
    perm = rng.permutation(n).astype(np.intp)
    plans: list[tuple[int, IntArray, bool]] = []
    for size in LADDER:
        k = n // size
        if k < MIN_CHUNKS:
            break
        k = min(k, MAX_CHUNKS)
        plans.append((size, perm[: k * size].reshape(k, size), False))
    if not plans:
        size = LADDER[0]
        plans.append((size, rng.integers(0, n, (RESAMPLED_CHUNKS, size)).astype(np.intp), True))
    out: dict[str, list[ChunkStats]] = {}
    for size, idx, resampled in plans:
        ordered = None
        if orders is not None and not resampled:
            ordered = [_sorted_chunks(order, idx, n) for order in orders]
        for metric, values in _realized_chunks(data, idx, sorted_idx=ordered).items():
            finite = values[np.isfinite(values)]
            if len(finite) < max(5, len(values) // 2):
                continue
            out.setdefault(metric, []).append(
                ChunkStats(size, len(finite), float(finite.mean()), float(finite.std(ddof=1)),
                           resampled)
            )  # fmt: skip
    return {m: tuple(rows) for m, rows in out.items()}


# --------------------------------------------------------------------------- sampling error


def _auc_influence(
    positive: BoolArray, s: FloatArray, order: IntArray | None = None
) -> tuple[float, FloatArray]:
    """ROC AUC and its per-row influence values (DeLong placements, ties ½); ``order``: the
    argsort of ``s`` when already known."""
    n = len(s)
    n_pos = int(positive.sum())
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan, np.zeros(n)
    if order is None:
        order = np.argsort(s, kind="stable")
    ps = positive[order]
    neg_below, pos_above = _placements(s[order][None, :], ps[None, :])
    v = np.where(ps, neg_below[0] / n_neg, pos_above[0] / n_pos)
    auc = float(v[ps].mean())
    share = n_pos / n
    psi_sorted = np.where(ps, (v - auc) / share, (v - auc) / (1.0 - share))
    psi = np.empty(n)
    psi[order] = psi_sorted
    return auc, psi


def _ratio_influence(a: FloatArray, b: FloatArray) -> FloatArray | None:
    """Influence values of Σa/Σb (first-order): (a − R·b)/mean(b); None when Σb = 0."""
    total = b.sum()
    if total <= 0:
        return None
    return np.asarray((a - (a.sum() / total) * b) / b.mean(), dtype=np.float64)


def _se_sigma(data: _Labeled, auc_influence: Sequence[FloatArray | None] = ()) -> dict[str, float]:
    """σ of each metric's per-row influence values on the evaluation set (SE = σ/√n).

    ``auc_influence``: per score column (binary: one), the AUC influence values when already
    computed (None: a class absent from the labels)."""
    psi: dict[str, FloatArray | None] = {}
    if data.task == "regression":
        assert data.error is not None
        e = data.error
        mse = float((e * e).mean())
        rmse = math.sqrt(mse)
        psi["mae"] = np.abs(e) - np.abs(e).mean()
        psi["rmse"] = (e * e - mse) / (2 * rmse) if rmse > 0 else np.zeros(len(e))
    else:
        assert data.y is not None and data.pred is not None and data.raw is not None
        y, pred = data.y, data.pred
        ones = np.ones(len(y))
        psi["accuracy"] = _ratio_influence((y == pred).astype(np.float64), ones)
        if data.task == "binary":
            pos, ppos = (y == 1).astype(np.float64), (pred == 1).astype(np.float64)
            if auc_influence:
                psi["roc_auc"] = auc_influence[0]
            elif 0 < pos.sum() < len(y):
                psi["roc_auc"] = _auc_influence(y == 1, data.raw)[1]
            psi["precision"] = _ratio_influence(pos * ppos, ppos)
            psi["recall"] = _ratio_influence(pos * ppos, pos)
            psi["f1"] = _ratio_influence(2 * pos * ppos, pos + ppos)
        else:
            per: dict[str, list[FloatArray]] = {"precision": [], "recall": [], "f1": []}
            aucs: list[FloatArray] = []
            for c in range(data.raw.shape[1]):
                pos, ppos = (y == c).astype(np.float64), (pred == c).astype(np.float64)
                if pos.sum() + ppos.sum() == 0:
                    continue  # a class absent from labels and predictions is not averaged
                for name, a, b in (
                    ("precision", pos * ppos, ppos),
                    ("recall", pos * ppos, pos),
                    ("f1", 2 * pos * ppos, pos + ppos),
                ):
                    values = _ratio_influence(a, b)
                    per[name].append(np.zeros(len(y)) if values is None else values)
                known = auc_influence[c] if auc_influence else None
                if known is not None:
                    aucs.append(known)
                elif not auc_influence and 0 < pos.sum() < len(y):
                    aucs.append(_auc_influence(y == c, data.raw[:, c])[1])
            for name, rows in per.items():
                psi[f"{name}_macro"] = np.mean(rows, axis=0) if rows else None
            psi["roc_auc_ovr"] = np.mean(aucs, axis=0) if len(aucs) >= 2 else None
    return {m: float(math.sqrt(np.mean(v * v))) for m, v in psi.items() if v is not None}


# --------------------------------------------------------------------------- loss model


def _feature_matrix(
    features: Any,
    predicted: FloatArray,
    columns: tuple[str, ...] | None,
    categories: Mapping[str, tuple[str, ...]] | None,
) -> tuple[FloatArray, tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The loss model's input as floats: the features (categorical columns as codes of their
    kept values, most frequent first; unseen values missing) plus the model's prediction last.

    At fit time (``columns`` None) the columns and each categorical column's kept values (the
    :data:`MAX_CATEGORIES` most frequent) are decided and stored in the state.
    """
    import pandas as pd

    if features is None:
        raise DataError(
            "Estimating a regression model's error needs its input features (the evaluation "
            "set's columns): pass features=."
        )
    if hasattr(features, "to_pandas") and not isinstance(features, pd.DataFrame):
        features = features.to_pandas()
    if not isinstance(features, pd.DataFrame):
        raise DataError(
            f"features must be a DataFrame of the model's inputs, got {type(features).__name__}."
        )
    if len(features) != len(predicted):
        raise DataError(
            f"features have {len(features):,} rows but the predictions have {len(predicted):,}."
        )
    names = {str(c): c for c in features.columns}
    fitting = columns is None
    if columns is None:
        columns = tuple(names)
        categories = {}
    assert categories is not None
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(
            f"features lack {len(missing)} column(s) the loss model was fitted on: "
            f"{_describe(missing, 5)}."
        )
    out = np.empty((len(predicted), len(columns) + 1), dtype=np.float64)
    kept: dict[str, tuple[str, ...]] = dict(categories)
    for j, column in enumerate(columns):
        series = features[names[column]]
        if fitting and not _numeric(series):
            counts = series.dropna().astype(str).value_counts(sort=False)
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            kept[column] = tuple(str(v) for v, _ in ranked[:MAX_CATEGORIES])
        if column in kept:
            lookup = pd.Index(kept[column])
            text = series.astype(object).where(series.notna(), None)
            codes = lookup.get_indexer(
                pd.Index([None if v is None else str(v) for v in text.tolist()], dtype=object)
            ).astype(np.float64)
            codes[codes < 0] = np.nan
            out[:, j] = codes
        else:
            out[:, j] = _numbers(series, column)
    out[:, -1] = predicted
    return out, columns, kept


def _numeric(series: Any) -> bool:
    import pandas as pd

    return bool(
        pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
    )


def _numbers(series: Any, column: str) -> FloatArray:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        values = series.to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
        return np.where(series.isna().to_numpy(), np.nan, values).astype(np.float64)
    try:
        return np.asarray(pd.to_numeric(series, errors="raise"), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"Column {column!r} was numeric in the evaluation set but is not here: {exc}."
        ) from exc


def _fit_loss_model(matrix: FloatArray, error: FloatArray, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.multioutput import MultiOutputRegressor

    # Categorical columns enter as codes ordered by frequency (ordinal encoding), not as
    # declared categoricals: declaring them makes scikit-learn store a functools.partial in the
    # model, which skops will not load without trust=True.
    base = HistGradientBoostingRegressor(random_state=seed)
    targets = np.column_stack([np.abs(error), error * error])
    model = MultiOutputRegressor(base)
    if len(matrix) >= PARALLEL_LOSS_ROWS:
        return model.fit(matrix, targets)
    # Below that size one OpenMP thread is faster or as fast, and on a busy machine much
    # faster: spin-waiting threads made a 5,000-row fit take 17 s instead of 2.8 s on 2 cores.
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1, user_api="openmp"):
        return model.fit(matrix, targets)


# --------------------------------------------------------------------------- fit


def fit_estimation(
    *,
    task: str,
    y_true: Any,
    predicted: Any,
    scores: Any | None = None,
    features: Any | None = None,
    classes: Sequence[Any] | None = None,
    seed: int = 0,
) -> tuple[EstimationState, Any | None]:
    """Fit estimation on the evaluation set (held-out rows with labels, not the training data).

    ``scores``: binary (n,) P(``classes[1]``) (or the (n, 2) matrix); multiclass (n, C) in the
    order of ``classes``. ``predicted``: the model's predicted labels (None: the most probable
    class) or, for regression, its predictions. ``features``: for regression, a DataFrame of the
    model inputs. Returns the state and, for regression, the fitted loss model (a scikit-learn
    ``MultiOutputRegressor`` of two ``HistGradientBoostingRegressor``: |y − ŷ| and (y − ŷ)²),
    else None. Raises :class:`~modelbook.errors.DataError` (one line) for an unusable set.
    """
    if task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {task!r}.")
    y_arr = _vector(y_true, "evaluation labels")
    n = len(y_arr)
    missing = int(_missing(y_arr).sum())
    if missing:
        raise DataError(
            f"The evaluation labels contain {missing:,} missing values (NaN/None): drop those "
            "rows or fill in their labels."
        )
    if n < MIN_EVAL_ROWS:
        raise DataError(
            f"The evaluation set has {n:,} rows; estimation needs at least {MIN_EVAL_ROWS} "
            "labelled held-out rows (not the training data)."
        )
    if task == "regression":
        return _fit_regression(y_arr, predicted, features, seed)
    if classes is None:
        import pandas as pd

        pool = [y_arr] if predicted is None else [y_arr, _vector(predicted, "predictions")]
        try:
            classes = sorted(_plain_or(v) for v in pd.unique(np.concatenate(pool)))
        except TypeError as exc:
            raise DataError(f"The labels cannot be compared: {exc}.") from exc
    known = tuple(_plain(c) for c in classes)
    if len(set(known)) != len(known):
        raise DataError(f"classes {_describe(known, 6)} contain duplicates.")
    if task == "binary" and len(known) != 2:
        raise DataError(
            f"A binary model has 2 classes, got {len(known)} {_describe(known, 6)}: "
            "use task='multiclass'."
        )
    if task == "multiclass" and len(known) < 2:
        raise DataError(f"A classifier needs at least 2 classes, got {_describe(known)}.")
    y = _codes(y_arr, known, "The evaluation labels")
    raw = _scores(scores, task, len(known), n, "scores")
    pred = _predicted_codes(predicted, raw, known, task, n, "The evaluation predictions")
    present = np.bincount(y, minlength=len(known))
    if (present > 0).sum() < 2:
        only = known[int(np.argmax(present))]
        raise DataError(
            f"The evaluation labels have one class ({only!r}, {n:,} rows): estimation needs "
            "labels of at least two classes; pass a held-out set with both outcomes."
        )
    columns = [raw] if task == "binary" else [raw[:, c] for c in range(len(known))]
    targets = [y == 1] if task == "binary" else [y == c for c in range(len(known))]
    calibrations, influence, aucs, orders = [], [], [], []
    for j, (s, positive) in enumerate(zip(columns, targets, strict=True)):
        order = np.argsort(s, kind="stable")  # shared by the AUC, its influence and the folds
        auc, psi = _auc_influence(positive, s, order)
        influence.append(psi if math.isfinite(auc) else None)
        aucs.append(auc)
        orders.append(order)
        calibrations.append(_fit_calibration(positive, s, order, auc, seed + j))
    data = _Labeled(task, y=y, pred=pred, raw=raw)
    state = EstimationState(
        task=task,
        classes=known,
        n_eval=n,
        calibration=tuple(calibrations),
        se_sigma=_se_sigma(data, influence),
        ladder=_ladder(data, seed, orders),
        realized=_realized(data, aucs),
        seed=seed,
    )
    own = _estimate_classes(state, raw, pred)
    estimated = {m: v for m, (v, _) in own.items() if v is not None and math.isfinite(v)}
    return replace(state, estimated=estimated), None


def _predicted_codes(
    predicted: Any, raw: FloatArray, classes: tuple[Any, ...], task: str, n: int, what: str
) -> IntArray:
    if predicted is None:  # the most probable class (binary: P > 0.5, as predict does)
        if task == "binary":
            return (raw > 0.5).astype(np.intp)
        return np.asarray(np.argmax(raw, axis=1), dtype=np.intp)
    arr = _vector(predicted, what)
    if len(arr) != n:
        raise DataError(f"{what} have {len(arr):,} rows but the scores have {n:,}.")
    return _codes(arr, classes, what)


def _fit_regression(
    y_arr: npt.NDArray[Any], predicted: Any, features: Any, seed: int
) -> tuple[EstimationState, Any]:
    n = len(y_arr)
    y = _floats(y_arr, "The evaluation labels", probability=False)
    if predicted is None:
        raise DataError("Estimating a regression model's error needs its predictions (predicted=).")
    pred = _floats(_vector(predicted, "predictions"), "The evaluation predictions",
                   probability=False)  # fmt: skip
    if len(pred) != n:
        raise DataError(
            f"The evaluation predictions have {len(pred):,} rows but the labels have {n:,}."
        )
    matrix, columns, kept = _feature_matrix(features, pred, None, None)
    error = y - pred
    model = _fit_loss_model(matrix, error, seed)
    data = _Labeled("regression", error=error)
    state = EstimationState(
        task="regression",
        classes=None,
        n_eval=n,
        se_sigma=_se_sigma(data),
        ladder=_ladder(data, seed),
        realized=_realized(data),
        features=columns,
        categories=kept,
        seed=seed,
    )
    return state, model


# --------------------------------------------------------------------------- estimate


def estimate(
    state: EstimationState,
    *,
    predicted: Any,
    scores: Any | None = None,
    features: Any | None = None,
    loss_model: Any | None = None,
) -> list[Estimate]:
    """Estimate every metric of ``state.task`` for a batch, without refitting anything.

    ``predicted``: the model's predicted labels (None: the most probable class, binary
    P > 0.5) or, for regression, its predictions; ``scores`` as for :func:`fit_estimation`;
    ``features`` and ``loss_model`` (regression): the batch's model inputs and the loss model
    :func:`fit_estimation` returned. Rows must already be valid (the caller drops NaN and
    out-of-range scores and says so); invalid input raises
    :class:`~modelbook.errors.DataError`. A batch of fewer than
    :data:`MIN_ROWS` rows, or one where a metric is undefined (no predicted positives for
    precision, one expected class for ROC AUC), gives status 'insufficient' with the counts.
    """
    values: dict[str, tuple[float | None, str | None]]
    if state.task == "regression":
        pred = _floats(_vector(predicted, "predictions"), "The predictions", probability=False)
        n = len(pred)
        if n < MIN_ROWS:
            values = {m: (None, _too_few(n)) for m in state.metrics}
        else:
            values = _estimate_regression(state, pred, features, loss_model)
    else:
        assert state.classes is not None
        n = len(_to_numpy(scores)) if scores is not None else len(_vector(predicted, "predictions"))
        raw = _scores(scores, state.task, len(state.classes), n, "scores")
        codes = _predicted_codes(predicted, raw, state.classes, state.task, n, "The predictions")
        if n < MIN_ROWS:
            values = {m: (None, _too_few(n)) for m in state.metrics}
        else:
            values = _estimate_classes(state, raw, codes)
    return [_finish(state, metric, *values[metric], n) for metric in state.metrics]


def _estimate_classes(
    state: EstimationState, raw: FloatArray, codes: IntArray
) -> dict[str, tuple[float | None, str | None]]:
    assert state.classes is not None
    p = _calibrated(state, raw)
    if state.task == "binary":
        return _estimate_binary(p, raw, codes == 1, state.classes[1])
    return _estimate_multiclass(p, raw, codes)


def _too_few(n: int) -> str:
    return f"{n:,} rows; estimation needs at least {MIN_ROWS}"


def _estimate_regression(
    state: EstimationState, pred: FloatArray, features: Any, loss_model: Any
) -> dict[str, tuple[float | None, str | None]]:
    if loss_model is None:
        raise DataError(
            "Estimating a regression model's error needs the loss model fitted at registration "
            "(loss_model=)."
        )
    matrix, _, _ = _feature_matrix(features, pred, state.features, state.categories or {})
    losses = np.asarray(loss_model.predict(matrix), dtype=np.float64)
    if losses.ndim != 2 or losses.shape[1] != 2:
        raise DataError(
            "loss_model must predict two columns (|y − ŷ| and (y − ŷ)²), as the one "
            "fit_estimation returns."
        )
    losses = np.clip(losses, 0.0, None)
    return {
        "mae": (float(losses[:, 0].mean()), None),
        "rmse": (math.sqrt(float(losses[:, 1].mean())), None),
    }


def _finish(
    state: EstimationState, metric: str, value: float | None, reason: str | None, n: int
) -> Estimate:
    band_lower, band_upper, how = state._band(metric, n)
    if value is not None and not math.isfinite(value):
        value, reason = None, f"the estimate is not a finite number on {n:,} rows"
    if value is None:
        return Estimate(metric, None, None, None, None, n, band_lower, band_upper, how,
                        "insufficient", reason or "undefined on this batch")  # fmt: skip
    # ratios of float sums can land a rounding error outside the range (recall 1 + 2e-16),
    # which a band clipped to the range would call an alert
    value = _clip(metric, value, value)[0]
    se = state.se(metric, n)
    lower, upper = (None, None) if se is None else _clip(metric, value - SE_RANGE * se,
                                                          value + SE_RANGE * se)  # fmt: skip
    outside = (
        band_lower is not None
        and band_upper is not None
        and not (band_lower <= value <= band_upper)
    )
    return Estimate(
        metric=metric,
        value=value,
        lower=lower,
        upper=upper,
        se=se,
        n=n,
        band_lower=band_lower,
        band_upper=band_upper,
        band_how=how,
        status="alert" if outside else "ok",
        reason=None,
    )
