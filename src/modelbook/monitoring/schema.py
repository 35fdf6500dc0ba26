"""Schema, invariants and stability: the batch's columns against the training data's.

Every check reads the batch's profile (counted on the reference's bins and categories) and the
stored reference profile, so the batch is read exactly once whatever is checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from modelbook.monitoring.checks import all_null, pct, status_of
from modelbook.monitoring.report import CheckResult
from modelbook.monitoring.rules import MonitorRules
from modelbook.render.format import fmt_value

if TYPE_CHECKING:
    from modelbook.monitoring.context import RunContext
    from modelbook.stats.profile import ColumnProfile, TableProfile

__all__ = ["checks", "invariant_checks", "schema_checks", "stability_checks"]

_NUMERIC = ("numeric", "datetime")


def checks(ctx: RunContext) -> list[CheckResult]:
    """Missing, unexpected, re-typed and all-null columns; ranges, categories, nulls; NaN, ±inf."""
    ignore = [ctx.label_column] if ctx.label_column else []
    ignore += ctx.served_columns  # a served model's outputs (scores=, predicted=), not inputs
    # Columns that name groups (segments=, sensitive=): a batch may carry them for that alone.
    ignore += [c for names in ctx.segments + ctx.sensitive for c in names]
    found = schema_checks(
        ctx.expected,
        ctx.reference_profile,
        ctx.batch,
        ctx.settings,
        batch_names=ctx.batch_names,
        ignore=ignore,
    )
    comparable = ctx.comparable
    found += invariant_checks(comparable, ctx.reference_profile, ctx.batch, ctx.settings)
    found += stability_checks(comparable, ctx.reference_profile, ctx.batch, ctx.settings)
    return found


def schema_checks(
    expected: Sequence[str],
    reference: TableProfile,
    batch: TableProfile,
    rules: MonitorRules,
    *,
    batch_names: Sequence[str],
    ignore: Sequence[str] = (),
) -> list[CheckResult]:
    """Missing, unexpected, re-typed and all-null columns against the expected inputs."""
    out: list[CheckResult] = []
    have = set(batch_names)
    wanted = set(expected)
    rule = rules.rule("schema.missing")
    if rule.severity != "off":
        for name in expected:
            if name not in have:
                out.append(
                    CheckResult(
                        "schema.missing",
                        status_of(rule, True),
                        "column is missing from the batch",
                        column=name,
                    )
                )
    rule = rules.rule("schema.unexpected")
    if rule.severity != "off":
        for name in batch_names:
            if name not in wanted and name not in ignore:
                out.append(
                    CheckResult(
                        "schema.unexpected",
                        status_of(rule, True),
                        "column was not in the training data",
                        column=name,
                    )
                )
    ref_names, profiled = set(reference.names), set(batch.names)
    for name in expected:
        if name not in profiled or name not in ref_names:
            continue
        ref, cur = reference.column(name), batch.column(name)
        rule = rules.rule("schema.type", name)
        if rule.severity != "off" and (ref.kind != cur.kind or ref.arrow_type != cur.arrow_type):
            kind_changed = ref.kind != cur.kind
            out.append(
                CheckResult(
                    "schema.type",
                    status_of(rule, True) if kind_changed else "info",
                    f"type changed from {ref.arrow_type} to {cur.arrow_type}"
                    + (f" ({ref.kind} → {cur.kind})" if kind_changed else ""),
                    column=name,
                )
            )
        rule = rules.rule("schema.all_null", name)
        if rule.severity != "off" and all_null(cur) and not all_null(ref):
            out.append(
                CheckResult(
                    "schema.all_null",
                    status_of(rule, True),
                    f"all {cur.count:,} values are null",
                    column=name,
                    statistic=1.0,
                )
            )
    if not out:
        out.append(
            CheckResult("schema", "ok", f"all {len(expected)} expected columns present, same types")
        )
    return out


def _above_max(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """Values above the reference maximum, estimated from the top bin (see docs/monitoring.md).

    The top bin holds values ≥ the reference maximum; the part expected *at* the maximum (the
    reference's own top-bin share) is subtracted, so integer columns with many values equal to
    the maximum are not counted as out of range.
    """
    if cur.max is None or ref.max is None or cur.max <= ref.max or not cur.hist_counts:
        return 0.0
    ref_top = ref.hist_counts[-1] / ref.finite if ref.finite and ref.hist_counts else 0.0
    return max(0.0, cur.hist_counts[-1] - ref_top * cur.finite)


RANGE_P_VALUE = 0.01


def _beyond_chance(outside: float, n_batch: int, n_reference: int) -> bool:
    """Whether more values fall outside the reference range than chance explains.

    A new value drawn from the reference's own distribution lands outside the min/max of
    ``n_reference`` values with probability 2 / (n_reference + 1), so a small batch scored
    against a small training set exceeds a share threshold by chance alone; a binomial tail
    below :data:`RANGE_P_VALUE` is required as well.
    """
    from scipy.special import bdtrc

    k = round(outside)
    if k <= 0:
        return False
    p = min(1.0, 2.0 / (n_reference + 1))
    return float(bdtrc(k - 1, n_batch, p)) < RANGE_P_VALUE


def invariant_checks(
    columns: Sequence[str], reference: TableProfile, batch: TableProfile, rules: MonitorRules
) -> list[CheckResult]:
    """Values outside the training range, unseen categories, null-rate increases."""
    out: list[CheckResult] = []
    ran = {"invariants.range": 0, "invariants.categories": 0, "invariants.nulls": 0}
    for name in columns:
        ref, cur = reference.column(name), batch.column(name)
        rule = rules.rule("invariants.range", name)
        if rule.severity != "off" and ref.kind in _NUMERIC and cur.finite and ref.finite:
            ran["invariants.range"] += 1
            below = cur.hist_counts[0] if cur.hist_counts else 0
            outside = below + _above_max(ref, cur)
            share = outside / cur.finite
            threshold = rule.threshold or 0.0
            if share > threshold and _beyond_chance(outside, cur.finite, ref.finite):
                out.append(
                    CheckResult(
                        "invariants.range",
                        status_of(rule, True),
                        f"{pct(share)} of values outside the training range "
                        f"[{fmt_value(ref.min)}, {fmt_value(ref.max)}] "
                        f"(batch: {fmt_value(cur.min)} to {fmt_value(cur.max)})",
                        column=name,
                        test="share outside range",
                        statistic=share,
                        threshold=threshold,
                    )
                )
        rule = rules.rule("invariants.categories", name)
        if (
            rule.severity != "off"
            and ref.kind == "categorical"
            and ref.other_count == 0
            and ref.top_values
        ):
            ran["invariants.categories"] += 1
            known = set(ref.top_values)
            unseen = [
                (v, c)
                for v, c in zip(cur.top_values, cur.top_counts, strict=True)
                if v not in known
            ]
            total = sum(cur.top_counts) + cur.other_count
            share = (sum(c for _, c in unseen) + cur.other_count) / total if total else 0.0
            threshold = rule.threshold or 0.0
            if share > threshold:
                shown = ", ".join(repr(v) for v, _ in unseen[:5])
                out.append(
                    CheckResult(
                        "invariants.categories",
                        status_of(rule, True),
                        f"{pct(share)} of rows have categories unseen in training ({shown})",
                        column=name,
                        test="share unseen",
                        statistic=share,
                        threshold=threshold,
                    )
                )
        rule = rules.rule("invariants.nulls", name)
        if rule.severity != "off":
            ran["invariants.nulls"] += 1
            ref_share = ref.nulls / ref.count if ref.count else 0.0
            cur_share = cur.nulls / cur.count if cur.count else 0.0
            threshold = rule.threshold or 0.0
            if cur_share - ref_share > threshold:
                out.append(
                    CheckResult(
                        "invariants.nulls",
                        status_of(rule, True),
                        f"null share rose from {pct(ref_share)} to {pct(cur_share)}",
                        column=name,
                        test="null share increase",
                        statistic=cur_share - ref_share,
                        threshold=threshold,
                    )
                )
    return out + _ok_rows(out, ran)


def _ok_rows(found: list[CheckResult], ran: Mapping[str, int]) -> list[CheckResult]:
    hit = {c.check for c in found}
    return [
        CheckResult(check, "ok", f"passed on {n} column{'s' if n != 1 else ''}")
        for check, n in ran.items()
        if n and check not in hit
    ]


def stability_checks(
    columns: Sequence[str], reference: TableProfile, batch: TableProfile, rules: MonitorRules
) -> list[CheckResult]:
    """NaN and ±inf in the inputs, against the training data's own share."""
    out: list[CheckResult] = []
    ran = {"stability.nan": 0, "stability.inf": 0}
    for name in columns:
        ref, cur = reference.column(name), batch.column(name)
        if ref.kind not in _NUMERIC or not cur.count:
            continue
        rule = rules.rule("stability.nan", name)
        if rule.severity != "off":
            ran["stability.nan"] += 1
            ref_share = ref.nan / ref.count if ref.count else 0.0
            cur_share = cur.nan / cur.count
            threshold = rule.threshold or 0.0
            if cur_share - ref_share > threshold:
                out.append(
                    CheckResult(
                        "stability.nan",
                        status_of(rule, True),
                        f"{cur.nan:,} NaN ({pct(cur_share)}; training: {pct(ref_share)})",
                        column=name,
                        test="NaN share increase",
                        statistic=cur_share - ref_share,
                        threshold=threshold,
                    )
                )
        rule = rules.rule("stability.inf", name)
        if rule.severity != "off":
            ran["stability.inf"] += 1
            ref_inf = ref.pos_inf + ref.neg_inf
            cur_inf = cur.pos_inf + cur.neg_inf
            cur_share = cur_inf / cur.count
            threshold = rule.threshold or 0.0
            if ref_inf:
                threshold = max(threshold, 0.01)
                value = cur_share - ref_inf / ref.count
            else:
                value = cur_share
            if cur_inf and value > threshold:
                out.append(
                    CheckResult(
                        "stability.inf",
                        status_of(rule, True),
                        f"{cur.pos_inf:,} +inf and {cur.neg_inf:,} -inf ({pct(cur_share)}; "
                        f"training: {ref_inf:,})",
                        column=name,
                        test="±inf share",
                        statistic=value,
                        threshold=threshold,
                    )
                )
    return out + _ok_rows(out, ran)
