"""Fairness across groups of a sensitive feature: per-group rates and their disparity.

The definitions are Fairlearn's (``MetricFrame``, ``demographic_parity_ratio``,
``equalized_odds_difference``, ...), computed here in one vectorised pass (``np.bincount`` over
group codes) so that monitoring needs no fairlearn at runtime; the tests compare every number
with fairlearn's to 1e-9.

What Fairlearn does not do, and this module does (the failure modes peers have):

* **Small groups are never silently compared.** A group with fewer than ``min_group`` rows is
  ``insufficient``: its counts and raw rates are reported, it enters no aggregate. A group with
  fewer than ``min_positives`` positive labels has no TPR (``None``, never 0), and one with fewer
  than ``min_positives`` negative labels no FPR; it is left out of the measures that need that
  rate, with the reason. Every aggregate says how many groups it covers, so an equalized-odds
  difference of 0 computed over one group cannot pass for "fair".
* **Null is a group**, ``"(null)"``: rows whose sensitive value is missing are counted, not lost.
* **All groups insufficient** gives measures with status ``insufficient``, not an error.

How groups are compared (``method``): ``between_groups`` (Fairlearn's default: max − min, and
min / max) or ``to_overall`` (each group against the whole batch: the largest |group − overall|,
and the smallest ratio forced below 1). ``overall`` is always every row of the batch, as in
Fairlearn, including rows of insufficient groups. With ``reference_group`` (Arize's base group)
every other group is compared with that one group: the largest |group − base| and the smallest
ratio forced below 1 (so ``ratio < 0.8`` is Arize's band 0.8–1.25).

Equalized odds (worst case) is the larger of the TPR and FPR differences (the smaller ratio),
computed over the groups in which *both* rates were estimated: a group enters it whole or not at
all, and ``groups_covered`` counts those groups.

Regression: per-group MAE and RMSE, and their ratio (min / max) between groups.
Multiclass: each class one-vs-rest (the caller passes ``selected = predicted == c``).
Without labels: only the selection-rate measures; the label-based ones are ``insufficient``,
with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from modelbook.errors import ConfigError

__all__ = [
    "CLASSIFICATION_MEASURES",
    "GROUP_METRICS",
    "METHODS",
    "NULL_GROUP",
    "REGRESSION_MEASURES",
    "ColumnFairness",
    "FairnessRules",
    "GroupStats",
    "Measure",
    "classification_fairness",
    "combine_groups",
    "encode_groups",
    "group_metrics",
    "regression_fairness",
]

METHODS = ("between_groups", "to_overall")
NULL_GROUP = "(null)"
JOIN = "*"  # an intersection's value: "F*18-30"

#: Measures of a classifier, in report order: (name, kind, base rates it compares).
CLASSIFICATION_MEASURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("demographic_parity_ratio", "ratio", ("selection_rate",)),
    ("demographic_parity_difference", "difference", ("selection_rate",)),
    ("equalized_odds_ratio", "ratio", ("tpr", "fpr")),
    ("equalized_odds_difference", "difference", ("tpr", "fpr")),
    ("equal_opportunity_difference", "difference", ("tpr",)),
)
#: Measures of a regressor: per-group error, compared as a ratio (its units are the target's,
#: so a difference has no unit-free threshold).
REGRESSION_MEASURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("mae_ratio", "ratio", ("mae",)),
    ("rmse_ratio", "ratio", ("rmse",)),
)
_LABELLED = frozenset({"tpr", "fpr", "accuracy", "mae", "rmse"})
_RATE_NAMES = {
    "selection_rate": "selection rate",
    "tpr": "TPR",
    "fpr": "FPR",
    "accuracy": "accuracy",
    "mae": "MAE",
    "rmse": "RMSE",
}

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class FairnessRules:
    """``[tool.modelbook.monitor.fairness]``: when a group counts, and when a disparity alerts.

    ``reference_group``: one group value compared with every other (a string, used for every
    sensitive column that has that value), or a table ``{column key: value}``.
    """

    min_group: int = 30
    min_positives: int = 10
    ratio: float = 0.8
    difference: float = 0.1
    method: str = "between_groups"
    reference_group: str | Mapping[str, str] | None = None

    def reference_for(self, key: str) -> str | None:
        """The base group of the sensitive column ``key`` (None: none set)."""
        if self.reference_group is None or isinstance(self.reference_group, str):
            return self.reference_group
        return self.reference_group.get(key)

    def to_json(self) -> dict[str, Any]:
        ref = self.reference_group
        return {
            "min_group": self.min_group,
            "min_positives": self.min_positives,
            "ratio": self.ratio,
            "difference": self.difference,
            "method": self.method,
            "reference_group": dict(ref) if isinstance(ref, Mapping) else ref,
        }

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], where: str = "fairness") -> FairnessRules:
        """Validate the table; a misspelt key is a :class:`ConfigError` naming the allowed ones."""
        if not isinstance(config, Mapping):
            raise ConfigError(f"{where} must be a table, got {type(config).__name__}.")
        allowed = ("min_group", "min_positives", "ratio", "difference", "method", "reference_group")
        for key in config:
            if key not in allowed:
                raise ConfigError(
                    f"unknown setting {key!r} in {where}; allowed: {', '.join(allowed)}."
                )
        given: dict[str, Any] = {}
        for key in ("min_group", "min_positives"):
            if key in config:
                value = config[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ConfigError(f"{where}.{key} must be a whole number ≥ 1; got {value!r}.")
                given[key] = int(value)
        for key, text in (("ratio", "between 0 and 1, e.g. 0.8"), ("difference", "e.g. 0.1")):
            if key in config:
                value = config[key]
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                high = 1.0 if key == "ratio" else math.inf
                if not ok or math.isnan(float(value)) or not (0.0 < float(value) <= high):
                    raise ConfigError(f"{where}.{key} must be a number > 0 {text}; got {value!r}.")
                given[key] = float(value)
        if "method" in config:
            if config["method"] not in METHODS:
                raise ConfigError(
                    f"{where}.method must be one of {', '.join(METHODS)}; got {config['method']!r}."
                )
            given["method"] = str(config["method"])
        if "reference_group" in config:
            ref = config["reference_group"]
            if isinstance(ref, Mapping):
                if not all(isinstance(k, str) and isinstance(v, str) for k, v in ref.items()):
                    raise ConfigError(
                        f"{where}.reference_group must map column names to group values, e.g. "
                        "{gender = 'M'}."
                    )
                ref = {str(k): str(v) for k, v in ref.items()}
            elif not isinstance(ref, str) or not ref:
                raise ConfigError(
                    f"{where}.reference_group must be a group value (e.g. 'M') or a table of "
                    f"column = value; got {ref!r}."
                )
            given["reference_group"] = ref
        out = replace(cls(), **given)
        if out.method == "to_overall" and out.reference_group is not None:
            raise ConfigError(
                f"{where}: method = 'to_overall' and reference_group compare with different bases "
                "(the whole batch, one group): set one of them."
            )
        return out


@dataclass(frozen=True)
class GroupStats:
    """One group's counts and rates; ``None`` where a rate is not estimated (never 0)."""

    value: str
    rows: int
    positives: int | None  # labelled rows of the positive class (None: no labels)
    negatives: int | None
    selection_rate: float | None
    tpr: float | None
    fpr: float | None
    accuracy: float | None
    mae: float | None
    rmse: float | None
    status: str  # 'ok' | 'insufficient'
    reason: str | None
    insufficient_for: tuple[str, ...]  # the rates this group is left out of

    def rate(self, name: str) -> float | None:
        value: float | None = getattr(self, name)
        return value

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "rows": self.rows,
            "positives": self.positives,
            "negatives": self.negatives,
            "selection_rate": self.selection_rate,
            "tpr": self.tpr,
            "fpr": self.fpr,
            "accuracy": self.accuracy,
            "mae": self.mae,
            "rmse": self.rmse,
            "status": self.status,
            "reason": self.reason,
            "insufficient_for": list(self.insufficient_for),
        }


@dataclass(frozen=True)
class Measure:
    """One disparity aggregate over the groups it covers."""

    name: str
    kind: str  # 'ratio' | 'difference'
    value: float | None
    threshold: float
    status: str  # 'alert' | 'ok' | 'insufficient'
    groups_covered: int
    groups_total: int
    message: str
    baseline: float | None = None
    change: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "kind": self.kind,
            "status": self.status,
            "groups_covered": self.groups_covered,
            "groups_total": self.groups_total,
            "baseline": self.baseline,
            "change": self.change,
            "message": self.message,
        }


@dataclass(frozen=True)
class ColumnFairness:
    """The groups of one sensitive column (or intersection) and their disparity measures."""

    key: str  # "gender" or "gender*age_band"
    by: tuple[str, ...]
    class_label: str | None  # multiclass: "<class> (one-vs-rest)"
    groups: tuple[GroupStats, ...]
    measures: tuple[Measure, ...]
    overall: Mapping[str, float | None] = field(default_factory=dict)

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "by": list(self.by),
            "class": self.class_label,
            "groups": [g.to_json() for g in self.groups],
            "measures": [m.to_json() for m in self.measures],
            "overall": dict(self.overall),
        }


# -- groups -----------------------------------------------------------------------------------


def encode_groups(
    parts: Sequence[tuple[Array, Array]],
) -> tuple[npt.NDArray[np.intp], list[str]]:
    """Group codes per row and the group values, from one or more sensitive columns.

    ``parts``: per column, ``(values, null mask)``; values are named by ``str``. See
    :func:`combine_groups` for the naming and order.
    """
    coded: list[tuple[npt.NDArray[np.intp], list[str]]] = []
    for values, null in parts:
        null = np.asarray(null, dtype=bool)
        text = np.asarray(values, dtype=object)[~null].astype(str)
        uniq, inverse = np.unique(text, return_inverse=True)
        codes = np.full(len(null), -1, dtype=np.intp)
        codes[~null] = inverse
        coded.append((codes, [str(u) for u in uniq]))
    return combine_groups(coded)


def combine_groups(
    parts: Sequence[tuple[npt.NDArray[np.intp], Sequence[str]]],
) -> tuple[npt.NDArray[np.intp], list[str]]:
    """One code per row for the groups of one column or an intersection of several.

    ``parts``: per column, ``(codes, names)`` with code -1 for a null (a dictionary encoding).
    Nulls become ``"(null)"``; an intersection's value joins its parts with ``*``
    (``"F*18-30"``); only combinations present in the data are groups. Groups are sorted by
    value, any group with a null part last.
    """
    codes: npt.NDArray[np.intp] | None = None
    labels: list[str] = []
    for part, names in parts:
        part = np.asarray(part, dtype=np.intp)
        named = [*map(str, names), NULL_GROUP]
        part = np.where(part < 0, len(named) - 1, part)
        width = len(named)
        combined = part if codes is None else codes * width + part
        # The combinations present, relabelled 0..k-1 by a counting pass (no sort of the rows).
        present = np.flatnonzero(np.bincount(combined))
        lookup = np.full(int(present[-1]) + 1 if len(present) else 0, -1, dtype=np.intp)
        lookup[present] = np.arange(len(present))
        if codes is None:
            labels = [named[int(c)] for c in present]
        else:
            labels = [f"{labels[int(c) // width]}{JOIN}{named[int(c) % width]}" for c in present]
        codes = lookup[combined]
    assert codes is not None, "no sensitive column given"
    order = sorted(range(len(labels)), key=lambda i: (NULL_GROUP in labels[i], labels[i]))
    remap = np.empty(len(labels), dtype=np.intp)
    remap[order] = np.arange(len(labels))
    return remap[codes], [labels[i] for i in order]


def _count(codes: Array, n: int, mask: Array | None = None, weights: Array | None = None) -> Array:
    if mask is not None:
        codes = codes[mask]
        weights = weights[mask] if weights is not None else None
    return np.bincount(codes, weights=weights, minlength=n).astype(np.float64)


def _div(num: Array, den: Array) -> list[float | None]:
    return [float(a / b) if b > 0 else None for a, b in zip(num, den, strict=True)]


def _group_status(
    rows: int, rules: FairnessRules, rates: dict[str, float | None], labelled: bool
) -> tuple[str, str | None, tuple[str, ...]]:
    if rows < rules.min_group:
        left_out = tuple(r for r in rates if r in _RATE_NAMES)
        return "insufficient", f"{rows:,} rows < min_group {rules.min_group}", left_out
    missing = tuple(r for r, v in rates.items() if v is None and (labelled or r not in _LABELLED))
    return "ok", None, missing


# -- classification ---------------------------------------------------------------------------


def classification_fairness(
    codes: npt.NDArray[np.intp],
    values: Sequence[str],
    selected: Array,
    *,
    truth: Array | None,
    labelled: Array | None = None,
    rules: FairnessRules,
    key: str,
    by: Sequence[str],
    class_label: str | None = None,
    no_labels: str = "no labels",
) -> ColumnFairness:
    """Per-group rates and the disparity measures of a classifier's positive decisions.

    ``selected``: the prediction is the positive class (bool per row). ``truth``: the label is
    the positive class (bool per row; None: no labels, ``no_labels`` says why); ``labelled``:
    the rows whose label is known (None: all). The selection rate counts every row (a decision
    needs no label); the label-based rates count the labelled rows.
    """
    n = len(values)
    selected = np.asarray(selected, dtype=bool)
    rows = _count(codes, n)
    chosen = _count(codes, n, selected)
    selection = _div(chosen, rows)
    overall: dict[str, float | None] = {
        "selection_rate": float(selected.mean()) if len(selected) else None
    }
    has_labels = truth is not None
    tpr: list[float | None] = [None] * n
    fpr: list[float | None] = [None] * n
    acc: list[float | None] = [None] * n
    pos_n: list[int | None] = [None] * n
    neg_n: list[int | None] = [None] * n
    reasons: list[list[str]] = [[] for _ in range(n)]
    if truth is not None:
        truth = np.asarray(truth, dtype=bool)
        known = np.ones(len(truth), dtype=bool) if labelled is None else np.asarray(labelled)
        pos_rows, neg_rows = known & truth, known & ~truth
        pos, neg = _count(codes, n, pos_rows), _count(codes, n, neg_rows)
        tp, fp = _count(codes, n, pos_rows & selected), _count(codes, n, neg_rows & selected)
        correct = _count(codes, n, known & (selected == truth))
        need = max(rules.min_positives, 1)
        for i in range(n):
            pos_n[i], neg_n[i] = int(pos[i]), int(neg[i])
            if pos[i] >= need:
                tpr[i] = float(tp[i] / pos[i])
            else:
                reasons[i].append(
                    f"{int(pos[i])} positives < min_positives {rules.min_positives}: "
                    "TPR not estimated"
                )
            if neg[i] >= need:
                fpr[i] = float(fp[i] / neg[i])
            else:
                reasons[i].append(
                    f"{int(neg[i])} negatives < min_positives {rules.min_positives}: "
                    "FPR not estimated"
                )
            if pos[i] + neg[i] > 0:
                acc[i] = float(correct[i] / (pos[i] + neg[i]))
        total_pos, total_neg = int(pos.sum()), int(neg.sum())
        overall["tpr"] = float(tp.sum() / total_pos) if total_pos else None
        overall["fpr"] = float(fp.sum() / total_neg) if total_neg else None
        overall["accuracy"] = (
            float(correct.sum() / (total_pos + total_neg)) if total_pos + total_neg else None
        )
    groups: list[GroupStats] = []
    for i, value in enumerate(values):
        rates: dict[str, float | None] = {"selection_rate": selection[i]}
        if has_labels:
            rates.update(tpr=tpr[i], fpr=fpr[i], accuracy=acc[i])
        status, reason, left_out = _group_status(int(rows[i]), rules, rates, has_labels)
        if status == "ok" and reasons[i]:
            reason = "; ".join(reasons[i])
        groups.append(
            GroupStats(
                value=value,
                rows=int(rows[i]),
                positives=pos_n[i],
                negatives=neg_n[i],
                selection_rate=selection[i],
                tpr=tpr[i],
                fpr=fpr[i],
                accuracy=acc[i],
                mae=None,
                rmse=None,
                status=status,
                reason=reason,
                insufficient_for=left_out,
            )
        )
    measures = tuple(
        _measure(name, kind, bases, groups, overall, rules, key, has_labels, no_labels)
        for name, kind, bases in CLASSIFICATION_MEASURES
    )
    return ColumnFairness(key, tuple(by), class_label, tuple(groups), measures, overall)


# -- regression -------------------------------------------------------------------------------


def regression_fairness(
    codes: npt.NDArray[np.intp],
    values: Sequence[str],
    predicted: Array,
    *,
    truth: Array | None,
    labelled: Array | None = None,
    rules: FairnessRules,
    key: str,
    by: Sequence[str],
    no_labels: str = "no labels",
) -> ColumnFairness:
    """Per-group MAE and RMSE of a regressor and their ratio between groups (labels needed)."""
    n = len(values)
    rows = _count(codes, n)
    mae: list[float | None] = [None] * n
    rmse: list[float | None] = [None] * n
    overall: dict[str, float | None] = {}
    labelled_n = np.zeros(n)
    if truth is not None:
        pred = np.asarray(predicted, dtype=np.float64)
        true = np.asarray(truth, dtype=np.float64)
        known = np.isfinite(true) & np.isfinite(pred)
        if labelled is not None:
            known &= np.asarray(labelled, dtype=bool)
        err = np.where(known, pred - true, 0.0)
        labelled_n = _count(codes, n, known)
        abs_sum = _count(codes, n, known, np.abs(err))
        sq_sum = _count(codes, n, known, err * err)
        mae = _div(abs_sum, labelled_n)
        rmse = [math.sqrt(v) if v is not None else None for v in _div(sq_sum, labelled_n)]
        total = float(labelled_n.sum())
        overall["mae"] = float(abs_sum.sum() / total) if total else None
        overall["rmse"] = math.sqrt(sq_sum.sum() / total) if total else None
    groups: list[GroupStats] = []
    for i, value in enumerate(values):
        rates: dict[str, float | None] = {}
        reason: str | None = None
        if truth is not None:
            rates = {"mae": mae[i], "rmse": rmse[i]}
        status, reason, left_out = _group_status(int(rows[i]), rules, rates, truth is not None)
        if status == "ok" and truth is not None and labelled_n[i] < rules.min_group:
            reason = f"{int(labelled_n[i]):,} labelled rows < min_group {rules.min_group}"
            left_out = ("mae", "rmse")
        groups.append(
            GroupStats(
                value=value,
                rows=int(rows[i]),
                positives=None,
                negatives=None,
                selection_rate=None,
                tpr=None,
                fpr=None,
                accuracy=None,
                mae=mae[i],
                rmse=rmse[i],
                status=status,
                reason=reason,
                insufficient_for=left_out,
            )
        )
    measures = tuple(
        _measure(name, kind, bases, groups, overall, rules, key, truth is not None, no_labels)
        for name, kind, bases in REGRESSION_MEASURES
    )
    return ColumnFairness(key, tuple(by), None, tuple(groups), measures, overall)


# -- aggregates -------------------------------------------------------------------------------


def _usable(group: GroupStats, bases: tuple[str, ...]) -> bool:
    if group.status != "ok":
        return False
    return all(b not in group.insufficient_for and group.rate(b) is not None for b in bases)


def _sub_one(x: float) -> float:
    """Fairlearn's ratio forced below 1."""
    return 1.0 / x if x > 1 else x


def _aggregate(kind: str, rates: list[float], base: float | None, method: str) -> float | None:
    """One base rate's difference or ratio over the covered groups (None: undefined, 0/0)."""
    if method == "between_groups":
        low, high = min(rates), max(rates)
        if kind == "difference":
            return high - low
        return low / high if high > 0 else None
    assert base is not None
    if kind == "difference":
        return max(abs(r - base) for r in rates)
    ratios = [_sub_one(r / base) for r in rates if base > 0]
    return min(ratios) if ratios else None


def _fmt(value: float, kind: str) -> str:
    return f"{value:.2f}" if kind == "ratio" else f"{value:.3f}"


def _measure(
    name: str,
    kind: str,
    bases: tuple[str, ...],
    groups: list[GroupStats],
    overall: Mapping[str, float | None],
    rules: FairnessRules,
    key: str,
    has_labels: bool,
    no_labels: str,
) -> Measure:
    threshold = rules.ratio if kind == "ratio" else rules.difference
    total = len(groups)

    def insufficient(why: str, covered: int = 0) -> Measure:
        return Measure(name, kind, None, threshold, "insufficient", covered, total, why)

    if not has_labels and any(b in _LABELLED for b in bases):
        names = " and ".join(_RATE_NAMES[b] for b in bases)
        if no_labels != "no labels":  # labels given but unusable: the caller says why
            return insufficient(f"insufficient: {no_labels}")
        verb = "need" if len(bases) > 1 else "needs"
        return insufficient(f"insufficient: no labels; {names} {verb} the batch's labels (target=)")
    ref_value = rules.reference_for(key)
    method = "reference_group" if ref_value is not None else rules.method
    base_group: GroupStats | None = None
    if ref_value is not None:
        base_group = next((g for g in groups if g.value == ref_value), None)
        if base_group is None:
            return insufficient(f"insufficient: reference group {ref_value!r} is not in {key}")
        if not _usable(base_group, bases):
            why = base_group.reason or "its rates are not estimated"
            return insufficient(f"insufficient: reference group {ref_value!r}: {why}")
    covered = [g for g in groups if _usable(g, bases)]
    others = [g for g in covered if g is not base_group]
    need = 2 if method == "between_groups" else 1
    if method == "reference_group":
        need = 2  # the base and one other
    if len(covered) < need or (method == "reference_group" and not others):
        names = " and ".join(_RATE_NAMES[b] for b in bases)
        return insufficient(
            f"insufficient: {len(covered)} of {total} groups have enough rows and estimated "
            f"{names} (needs {need}; min_group {rules.min_group}"
            + (f", min_positives {rules.min_positives}" if bases != ("selection_rate",) else "")
            + ")",
            len(covered),
        )
    parts: list[float | None] = []
    for b in bases:
        compared = others if base_group is not None else covered
        rates = [float(g.rate(b) or 0.0) for g in compared]  # usable: every rate is set
        if method == "reference_group":
            assert base_group is not None
            parts.append(_aggregate(kind, rates, base_group.rate(b), "to_overall"))
        elif method == "to_overall":
            base = overall.get(b)
            if base is None:
                return insufficient(f"insufficient: the overall {_RATE_NAMES[b]} is not estimated")
            parts.append(_aggregate(kind, rates, base, "to_overall"))
        else:
            parts.append(_aggregate(kind, rates, None, "between_groups"))
    defined = [p for p in parts if p is not None]
    scope = f"{len(covered)} of {total} groups"
    if not defined:  # every rate 0 in every group: a ratio of 0/0
        names = " and ".join(_RATE_NAMES[b] for b in bases)
        return Measure(
            name, kind, None, threshold, "ok", len(covered), total,
            f"ratio undefined: {names} is 0 in every group ({scope})",
        )  # fmt: skip
    value = min(defined) if kind == "ratio" else max(defined)
    failed = value < threshold if kind == "ratio" else value > threshold
    sign = ("<" if failed else "≥") if kind == "ratio" else (">" if failed else "≤")
    rate = bases[parts.index(value)]  # the rate that sets the value (worst case)
    centre = overall.get(rate) if method == "to_overall" else None
    extremes = _extremes(rate, covered, base_group, centre, kind)
    message = f"{kind} {_fmt(value, kind)} {sign} {threshold:g} ({extremes}; {scope})"
    return Measure(
        name, kind, value, threshold, "alert" if failed else "ok", len(covered), total, message
    )


def _extremes(
    rate: str,
    covered: list[GroupStats],
    base: GroupStats | None,
    overall: float | None,
    kind: str,
) -> str:
    """The groups behind the value, e.g. ``selection rate F 0.221 vs M 0.311``."""

    def of(group: GroupStats) -> float:
        value = group.rate(rate)
        assert value is not None
        return value

    pairs = sorted((of(g), g.value) for g in covered if g is not base)
    if base is None and overall is None:
        low, high = pairs[0], pairs[-1]
    else:
        ref = (of(base), base.value) if base is not None else (float(overall or 0.0), "overall")
        if kind == "difference":
            far = max(pairs, key=lambda p: abs(p[0] - ref[0]))
        else:
            far = min(pairs, key=lambda p: _sub_one(p[0] / ref[0]) if ref[0] else 1.0)
        low, high = (far, ref) if far[0] <= ref[0] else (ref, far)
    return f"{_RATE_NAMES[rate]} {low[1]} {low[0]:.3f} vs {high[1]} {high[0]:.3f}"


# -- the model's metrics per group ------------------------------------------------------------

#: Metrics computed per group from counts (one bincount each); score-based ones (ROC AUC, log
#: loss) would cost a sort per group and are left to the whole-batch quality checks.
GROUP_METRICS = {
    "binary": ("accuracy", "precision", "recall", "f1", "balanced_accuracy"),
    "regression": ("mae", "rmse", "r2"),
}


def group_metrics(
    codes: npt.NDArray[np.intp],
    n_groups: int,
    names: Sequence[str],
    *,
    selected: Array | None = None,
    truth: Array | None = None,
    predicted: Array | None = None,
    labelled: Array | None = None,
) -> list[dict[str, float]]:
    """scikit-learn's ``names`` (those in :data:`GROUP_METRICS`) per group, from counts.

    Binary: ``selected`` / ``truth`` are the positive class (bool per row). Regression:
    ``predicted`` / ``truth`` are values. ``labelled``: the rows with a label. A metric whose
    denominator is 0 in a group (precision with no positive decision) is left out of it.
    """
    known = np.ones(len(codes), dtype=bool) if labelled is None else np.asarray(labelled, bool)
    out: list[dict[str, float]] = [{} for _ in range(n_groups)]
    if selected is not None and truth is not None:
        sel, tru = np.asarray(selected, bool), np.asarray(truth, bool)
        tp = _count(codes, n_groups, known & sel & tru)
        fp = _count(codes, n_groups, known & sel & ~tru)
        fn = _count(codes, n_groups, known & ~sel & tru)
        tn = _count(codes, n_groups, known & ~sel & ~tru)
        formulas = {
            "accuracy": (tp + tn, tp + tn + fp + fn),
            "precision": (tp, tp + fp),
            "recall": (tp, tp + fn),
            "f1": (2 * tp, 2 * tp + fp + fn),
        }
        for name in names:
            if name in formulas:
                num, den = formulas[name]
                for i, v in enumerate(_div(num, den)):
                    if v is not None:
                        out[i][name] = v
            elif name == "balanced_accuracy":
                for i, (a, b) in enumerate(zip(_div(tp, tp + fn), _div(tn, tn + fp), strict=True)):
                    if a is not None and b is not None:
                        out[i][name] = (a + b) / 2
    elif predicted is not None and truth is not None:
        pred, true = np.asarray(predicted, np.float64), np.asarray(truth, np.float64)
        known &= np.isfinite(pred) & np.isfinite(true)
        err = np.where(known, pred - true, 0.0)
        yv = np.where(known, true, 0.0)
        rows = _count(codes, n_groups, known)
        abs_sum = _count(codes, n_groups, known, np.abs(err))
        sq_sum = _count(codes, n_groups, known, err * err)
        y_sum = _count(codes, n_groups, known, yv)
        y_sq = _count(codes, n_groups, known, yv * yv)
        for i in range(n_groups):
            if rows[i] == 0:
                continue
            if "mae" in names:
                out[i]["mae"] = float(abs_sum[i] / rows[i])
            if "rmse" in names:
                out[i]["rmse"] = math.sqrt(sq_sum[i] / rows[i])
            total = y_sq[i] - y_sum[i] ** 2 / rows[i]
            if "r2" in names and total > 0:
                out[i]["r2"] = float(1 - sq_sum[i] / total)
    return out
