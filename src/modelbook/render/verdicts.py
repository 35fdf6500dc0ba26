"""Drift decisions in words and in order: what every face (HTML, text, charts) says per column.

The engine explains each decision in ``ColumnDrift.verdict`` (so all faces show the same words);
:func:`verdict` uses it and only builds a sentence of the same kind for results that lack it
(older stored runs). :func:`decision_key` is the one order every view lists columns in: drifted
first, then by p-value, then by effect size relative to its threshold; never by the raw ratio
alone, which near-constant columns inflate.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from modelbook.render.format import fmt_num, fmt_p

if TYPE_CHECKING:
    from modelbook.stats.drift import ColumnDrift

__all__ = [
    "P_VALUE_TESTS",
    "category",
    "decision_key",
    "effect_ratio",
    "status",
    "verdict",
]

#: Tests whose decision is the p-value alone (no effect-size gate).
P_VALUE_TESTS = ("ks", "chisquare")


def status(c: ColumnDrift) -> str:
    """'drifted', 'ok' or 'not tested'."""
    if not c.tested:
        return "not tested"
    return "drifted" if c.drifted else "ok"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def effect_ratio(c: ColumnDrift) -> float | None:
    """How far the effect size is from its threshold (1 = at the threshold); for p-value tests
    −log10(p) ÷ −log10(threshold), which reads the same way. None when not tested."""
    if not c.tested or not _finite(c.threshold) or c.threshold <= 0:
        return None
    if c.test in P_VALUE_TESTS:
        p = c.p_value if c.p_value is not None else 1.0
        denominator = -math.log10(c.threshold)
        if denominator <= 0:
            return None
        return min(-math.log10(max(p, 1e-300)) / denominator, 1e3)
    if not _finite(c.statistic):
        return None
    return c.statistic / c.threshold


def category(c: ColumnDrift) -> str:
    """'drifted', 'not significant' (effect size past its threshold, p-value not small enough),
    'ok' or 'not tested'."""
    if not c.tested:
        return "not tested"
    if c.drifted:
        return "drifted"
    ratio = effect_ratio(c)
    if c.test not in P_VALUE_TESTS and ratio is not None and ratio >= 1:
        return "not significant"
    return "ok"


def decision_key(c: ColumnDrift) -> tuple[bool, bool, float, float, str]:
    """Sort key: drifted first, untested last, then by p-value, then by effect ÷ threshold."""
    p = c.p_value if _finite(c.p_value) else 1.0
    ratio = effect_ratio(c)
    return (not c.drifted, not c.tested, float(p), -(ratio or 0.0), c.column)  # type: ignore[arg-type]


def _rows(c: ColumnDrift) -> int:
    return int(sum(c.current_counts)) if c.current_counts else 0


def verdict(c: ColumnDrift) -> str:
    """The column's decision in one line, e.g. "effect 0.19 ≥ 0.05 but p = 0.31: not
    significant at 171 rows" (the engine's ``verdict`` when it has one)."""
    given = getattr(c, "verdict", "")
    if given:
        return str(given)
    if not c.tested:
        return c.reason
    p = fmt_p(c.p_value)
    p_threshold = getattr(c, "p_threshold", None)
    if c.test in P_VALUE_TESTS:
        sign = "<" if c.drifted else "≥"
        return f"p = {p} {sign} {fmt_num(c.threshold, 2)}: {'drifted' if c.drifted else 'no drift'}"
    effect = f"effect {fmt_num(c.statistic, 2)}"
    threshold = fmt_num(c.threshold, 2)
    guard = f" {'<' if c.drifted else '≥'} {fmt_num(p_threshold, 2)}" if p_threshold else ""
    if c.drifted:
        return f"{effect} ≥ {threshold} and p = {p}{guard}: drifted"
    if _finite(c.statistic) and c.statistic >= c.threshold:
        rows = _rows(c)
        at = f" at {rows:,} row{'' if rows == 1 else 's'}" if rows else ""
        return f"{effect} ≥ {threshold} but p = {p}{guard}: not significant{at}"
    return f"{effect} < {threshold}: no drift"
