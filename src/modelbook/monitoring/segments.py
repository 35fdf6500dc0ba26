"""Segments: every slice of the batch judged like the whole batch, and small groups never hidden.

``segments=["region", ("region", "plan")]`` (``--segments region region*plan``, or ``segments``
in ``[tool.modelbook.monitor]``) asks, for each value of each slice: its row count, the drift of
every compared column against the *same segment of the reference* (when the reference has the
slice's columns; else against the whole reference, stated in ``reference_note``), the drift of
the model's predictions (against its predictions on the same reference segment), realized
quality with its ``n`` when the batch has labels, and NaN/±inf. The same rules and thresholds
as the whole batch apply (:mod:`modelbook.stats.drift`, :class:`MonitorRules`).

What is never hidden
--------------------
* Null is its own group ``(null)``; beyond ``max_segments`` (50) values, the most frequent 50
  are kept and the rest form ``(other)`` (compared with the whole reference, said so).
* A group under ``min_group`` (30) rows is ``insufficient``: reported with its size (one
  ``info`` check), never dropped, never tested, never counted in an aggregate. A segment of the
  reference under ``min_group`` rows (or absent) is not a baseline: that group is compared with
  the whole reference instead (listed in ``reference_note``).

Many segments, one question
---------------------------
50 segments × 30 columns are 1,500 tests: at p < 0.01 each, a clean batch would alert by
chance. So the p-value guard is Holm-corrected over every test of one slice (all its
segments' columns together, and separately its segments' prediction drifts), exactly as the
whole batch corrects over its columns: the chance of any false "significant" in a slice stays
at most α. Realized accuracy per segment has a guard of its own (a one-sided binomial test of
the drop, Holm over the slice's segments); other metrics have none, so they are only judged on
segments with at least ``min_group`` labelled rows.

Report
------
Only non-ok segment checks enter ``report.checks`` (named ``segment.<slice>=<value>.<check>``),
plus one ``segments.<slice>`` summary per slice; the detail of every group lives in
``report.segments``::

    {"settings": {"max_segments": 50, "min_group": 30, "correction": "holm"},
     "columns": [{"key": "region", "by": ["region"], "n_values": 53,
                  "other": {"values": 3, "rows": 120} | None,
                  "reference": "segment" | "whole", "reference_note": str | None,
                  "groups": [  # worst first: alert, error, insufficient, info, ok; then score
                     {"value": "north", "rows": 1234, "share": 0.0123, "reference_rows": 987,
                      "status": "alert" | "error" | "insufficient" | "info" | "ok",
                      "reason": "12 rows < min_group 30" | None,
                      "checks": [CheckResult as dict, ...],       # the group's non-ok checks
                      "drift": [{"column", "test", "statistic", "threshold", "p_value",
                                 "drifted"}, ...],                # every tested column
                      "drifted_share": 0.1 | None,
                      "prediction_drift": {"test", "statistic", "threshold", "drifted"} | None,
                      "quality": {"accuracy": {"value": 0.91, "n": 1234}, ...},
                      "nan": {"x1": {"nan": 3, "inf": 0}}}]}],
     "worst": {"segment": "region=north", "status": "alert", "message": "..."} | None}
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modelbook.errors import ConfigError, DataError
from modelbook.monitoring.checks import describe, status_of
from modelbook.monitoring.report import CheckResult
from modelbook.stats.segments import OTHER_GROUP

if TYPE_CHECKING:
    import pyarrow as pa

    from modelbook.monitoring.context import RunContext
    from modelbook.stats.drift import ColumnDrift
    from modelbook.stats.profile import TableProfile
    from modelbook.stats.segments import Grouping

__all__ = ["checks", "dataset_checks", "validate"]

_RANK = {"alert": 0, "error": 1, "insufficient": 2, "info": 3, "ok": 4}


# --------------------------------------------------------------------------- inputs


def validate(ctx: RunContext) -> None:
    """Segment and sensitive columns exist in the batch; sensitive needs a model (before any
    work is done, so bad input costs nothing)."""
    have = set(ctx.batch_names)
    shown = ", ".join(ctx.batch_names[:20]) + (" …" if len(ctx.batch_names) > 20 else "")
    for what, slices in (("segment", ctx.segments), ("sensitive", ctx.sensitive)):
        for names in slices:
            for name in names:
                if name not in have:
                    raise DataError(
                        f"{what} column {name!r} is not in the batch; its columns: {shown}."
                    )
    if ctx.sensitive and ctx.model_row is None:
        raise ConfigError(
            f"sensitive= needs a model: {ctx.target} is a dataset, and fairness measures a "
            "model's predictions across groups (monitor a model version, or drop sensitive=)."
        )


def _batch_table(ctx: RunContext, names: Sequence[str]) -> pa.Table:
    """The batch's columns ``names`` in memory (a file: only those columns are read)."""
    if ctx.source.table is not None:
        return ctx.source.table.select(list(names))
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    assert ctx.source.path is not None
    con = duckdb.connect()
    try:
        cols = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
        return con.sql(
            f"SELECT {cols} FROM {duckdb_scan(ctx.source.path, ctx.source.kind)}"
        ).to_arrow_table()
    finally:
        con.close()


# --------------------------------------------------------------------------- family


def dataset_checks(ctx: RunContext) -> list[CheckResult]:
    """The family for a dataset target (a model's segments run after its predictions)."""
    return checks(ctx) if ctx.model_row is None else []


def checks(ctx: RunContext) -> list[CheckResult]:
    """Every requested slice; records ``report.segments``."""
    if not ctx.segments:
        return []
    from modelbook.stats.segments import group_rows

    slice_cols = {c for names in ctx.segments for c in names}
    compared = [c for c in ctx.comparable if c != ctx.label_column]
    table = _batch_table(ctx, sorted(set(compared) | slice_cols))
    columns: list[dict[str, Any]] = []
    found: list[CheckResult] = []
    for by in ctx.segments:
        grouping = group_rows(table, by, max_segments=ctx.settings.max_segments)
        column, summary = _one_slice(ctx, table, grouping, [c for c in compared if c not in by])
        columns.append(column)
        for group in column["groups"]:
            found += [CheckResult(**c) for c in group["checks"]]
        found.append(summary)
    ctx.findings.segments = {
        "settings": {
            "max_segments": ctx.settings.max_segments,
            "min_group": ctx.settings.min_group,
            "correction": ctx.settings.drift.correction,
        },
        "columns": columns,
        "worst": _worst(columns),
    }
    return found


def _one_slice(
    ctx: RunContext, table: pa.Table, g: Grouping, compared: list[str]
) -> tuple[dict[str, Any], CheckResult]:
    from modelbook.monitoring.segment_reference import reference_segments
    from modelbook.stats.segments import profile_groups

    min_group = ctx.settings.min_group
    rows = g.rows
    total = int(rows.sum())
    # The reference's segments are read (JSON: holds the GIL) while the batch's are profiled
    # (numpy sorts: release it).
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(reference_segments, ctx, g.by)
        batch = profile_groups(table, g, ctx.reference_profile, compared)
        ref = reading.result()
    whole_note: list[str] = []
    groups: list[dict[str, Any]] = []
    bases: dict[str, TableProfile] = {}
    for j, value in enumerate(g.values):
        n = int(rows[j])
        ref_rows = ref.groups[value].rows if value in ref.groups else None
        group: dict[str, Any] = {
            "value": value,
            "rows": n,
            "share": n / total if total else 0.0,
            "reference_rows": ref_rows if not ref.missing else None,
            "status": "ok",
            "reason": None,
            "checks": [],
            "drift": [],
            "drifted_share": None,
            "prediction_drift": None,
            "quality": {},
            "nan": {},
        }
        groups.append(group)
        if n < min_group:
            group["status"], group["reason"] = "insufficient", f"{n:,} rows < min_group {min_group}"
            continue
        if not ref.missing and (ref_rows is None or ref_rows < min_group or value == OTHER_GROUP):
            whole_note.append(value)
        base = ref.groups[value] if value in ref.groups and value not in whole_note else None
        bases[value] = base if base is not None else ctx.reference_profile
    _drift(ctx, g, groups, batch, bases, compared)
    if ctx.model is not None and ctx.model.predictions is not None:
        _prediction_drift(ctx, g, groups, ref.missing)
        if ctx.has_labels:
            _quality(ctx, g, groups)
    for group in groups:
        _finish(group, g.key)
    groups.sort(key=_order)
    note = _reference_note(ctx, ref.missing, whole_note)
    folded = g.other_values
    column = {
        "key": g.key,
        "by": list(g.by),
        "n_values": g.n_values,
        "other": {"values": folded, "rows": g.rows_of(OTHER_GROUP)} if folded else None,
        "reference": "whole" if ref.missing else "segment",
        "reference_note": note,
        "groups": groups,
    }
    return column, _summary(g.key, groups, ctx.settings.min_group)


# --------------------------------------------------------------------------- measures


def _check_name(key: str, value: str, check: str) -> str:
    return f"segment.{key}={value}.{check}"


def _add(group: dict[str, Any], key: str, c: CheckResult, check: str) -> None:
    named = dataclasses.replace(c, check=_check_name(key, group["value"], check))
    group["checks"].append(dataclasses.asdict(named))


def _drift(
    ctx: RunContext,
    g: Grouping,
    groups: list[dict[str, Any]],
    batch: dict[str, TableProfile],
    bases: dict[str, TableProfile],
    compared: list[str],
) -> None:
    """Column drift of every compared group, Holm-corrected over the whole slice."""
    from modelbook.monitoring.schema import stability_checks
    from modelbook.stats.drift import drift_from_profiles

    settings = ctx.settings
    uncorrected = dataclasses.replace(settings.drift, correction="none")
    tested = [c for c in compared if settings.rule("drift.column", c).severity != "off"]
    results: dict[str, list[ColumnDrift]] = {}
    for group in groups:
        value = group["value"]
        if value not in bases:
            continue
        cur, base = batch[value], bases[value]
        both = set(cur.names) & set(base.names)
        names = [c for c in tested if c in both]
        results[value] = list(
            drift_from_profiles(base, cur, rules=uncorrected, columns=names, lean=True).columns
        )
        stable = [c for c in compared if c in both]
        for c in stability_checks(stable, base, cur, settings):
            if c.status != "ok" and c.column is not None:
                _add(group, g.key, c, c.check)
        group["nan"] = {
            p.name: {"nan": p.nan, "inf": p.pos_inf + p.neg_inf}
            for p in cur.columns
            if p.nan or p.pos_inf or p.neg_inf
        }
    corrected = _holm(results, settings.drift, "tests of this slice")
    for group in groups:
        drifts = corrected.get(group["value"])
        if drifts is None:
            continue
        group["drift"] = [_drift_row(d) for d in drifts if d.tested]
        n_tested = sum(d.tested for d in drifts)
        n_drifted = sum(d.drifted for d in drifts)
        group["drifted_share"] = n_drifted / n_tested if n_tested else None
        for d in drifts:
            if d.tested and d.drifted:
                rule = settings.rule("drift.column", d.column)
                _add(group, g.key, _drift_check(d, status_of(rule, True)), "drift.column")
        rule = settings.rule("drift.dataset")
        share = group["drifted_share"]
        if share is not None and share >= settings.drift.drift_share and rule.severity != "off":
            message = f"{n_drifted} of {n_tested} columns drifted in this segment"
            c = CheckResult(
                "drift.dataset",
                status_of(rule, True),
                message,
                test="share of drifted columns",
                statistic=share,
                threshold=settings.drift.drift_share,
            )
            _add(group, g.key, c, "drift.dataset")


def _holm(
    results: dict[str, list[ColumnDrift]], rules: Any, family_name: str
) -> dict[str, list[ColumnDrift]]:
    """Every p-value of the slice corrected together (Holm), decided as the batch's are."""
    from modelbook.stats.drift import P_VALUE_TESTS, _alpha, _decide, _in_family, holm_levels

    if rules.correction != "holm":
        return results
    where = [(v, i) for v, ds in results.items() for i, d in enumerate(ds) if _in_family(d)]
    if len(where) < 2:
        return results
    ps = [results[v][i].p_value or 1.0 for v, i in where]
    alphas = [_alpha(results[v][i], rules) for v, i in where]
    out = {v: list(ds) for v, ds in results.items()}
    m = len(where)
    for (v, i), level in zip(where, holm_levels(ps, alphas), strict=True):
        d = results[v][i]
        if d.test not in P_VALUE_TESTS and not d.statistic >= d.threshold:
            continue  # an effect below its threshold is no drift at any level: nothing to redo
        d = _decide(d, level, family=m, rules=rules)
        verdict = d.verdict.replace(f"over {m} columns", f"over {m} {family_name}")
        out[v][i] = dataclasses.replace(d, verdict=verdict)
    return out


def _drift_row(d: ColumnDrift) -> dict[str, Any]:
    return {
        "column": d.column,
        "test": d.test,
        "statistic": _finite(d.statistic),
        "threshold": _finite(d.threshold),
        "p_value": _finite(d.p_value),
        "drifted": bool(d.drifted),
    }


def _message(d: ColumnDrift) -> str:
    """A drifted verdict in one line, with the level its p-value met and the family it met it
    in: "drifted: wasserstein 0.5 (threshold 0.05; p = 1.4e-51 < 8.3e-4 after Holm over 12
    tests of this slice)"."""
    after = d.verdict.split(" and p = ", 1)[-1].removesuffix(": drifted")
    if d.test in ("ks", "chisquare"):
        after = d.verdict.removesuffix(": drifted")
    elif " and p = " not in d.verdict:  # no p-value guard
        return f"drifted: {d.test} {d.statistic:.4g} (threshold {d.threshold:g}; no p-value guard)"
    else:
        after = f"p = {after}"
    return f"drifted: {d.test} {d.statistic:.4g} (threshold {d.threshold:g}; {after})"


def _drift_check(d: ColumnDrift, status: str) -> CheckResult:
    return CheckResult(
        "drift.column",
        status,
        _message(d),
        column=d.column,
        test=d.test,
        statistic=_finite(d.statistic),
        threshold=_finite(d.threshold),
    )


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _prediction_drift(
    ctx: RunContext, g: Grouping, groups: list[dict[str, Any]], missing: tuple[str, ...]
) -> None:
    """Each compared group's predictions against the model's on the same reference segment."""
    import numpy as np

    from modelbook.monitoring.predictions import prediction_table
    from modelbook.monitoring.segment_reference import reference_predictions
    from modelbook.stats.drift import drift_from_profiles
    from modelbook.stats.profile import TableProfile
    from modelbook.stats.segments import profile_groups

    assert ctx.model is not None and ctx.model.predictions is not None
    rule = ctx.settings.rule("drift.prediction")
    if rule.severity == "off":
        return
    preds = ctx.model.predictions
    classes_only = ctx.model.task == "binary" and preds.scores is None
    categorical = ctx.model.task == "multiclass" or classes_only
    try:
        whole, ref_groups = reference_predictions(
            ctx, g.by, classes_only=classes_only, categorical=categorical, grouped=not missing
        )
    except Exception as exc:  # the model is user code
        for group in groups:
            if group["status"] != "insufficient":
                c = CheckResult(
                    "drift.prediction",
                    "error",
                    f"reference predictions could not be computed: {describe(exc)}",
                )
                _add(group, g.key, c, "prediction_drift")
        return
    values = preds.labels if classes_only else preds.monitored
    if whole.columns and whole.columns[0].name != "prediction":
        whole = TableProfile(
            rows=whole.rows, columns=(dataclasses.replace(whole.columns[0], name="prediction"),)
        )
    table = prediction_table(np.asarray(values), categorical=categorical)
    cur = profile_groups(table, g, whole, ["prediction"])
    results: dict[str, list[ColumnDrift]] = {}
    min_group = ctx.settings.min_group
    for group in groups:
        value = group["value"]
        if group["status"] == "insufficient" or not cur[value].columns:
            continue
        base = ref_groups.get(value)
        if base is None or base.rows < min_group or value == OTHER_GROUP:
            base = whole
        results[value] = list(
            drift_from_profiles(
                base,
                cur[value],
                rules=dataclasses.replace(ctx.settings.drift, correction="none"),
                lean=True,
            ).columns
        )
    corrected = _holm(results, ctx.settings.drift, "segments of this slice")
    for group in groups:
        drifts = corrected.get(group["value"])
        if not drifts or not drifts[0].tested:
            continue
        d = drifts[0]
        group["prediction_drift"] = {
            "test": d.test,
            "statistic": _finite(d.statistic),
            "threshold": _finite(d.threshold),
            "drifted": bool(d.drifted),
        }
        if d.drifted:
            c = CheckResult(
                "drift.prediction",
                status_of(rule, True),
                f"predictions {_message(d)}",
                test=d.test,
                statistic=_finite(d.statistic),
                threshold=_finite(d.threshold),
            )
            _add(group, g.key, c, "prediction_drift")


def _quality(ctx: RunContext, g: Grouping, groups: list[dict[str, Any]]) -> None:
    """Realized quality per group (labelled rows), with n; judged like the batch's."""
    from modelbook.monitoring.segment_quality import segment_quality

    segment_quality(ctx, g, groups, add=lambda group, c: _add(group, g.key, c, c.check))


# --------------------------------------------------------------------------- verdicts


def _finish(group: dict[str, Any], key: str) -> None:
    if group["status"] == "insufficient":
        c = CheckResult(
            "rows",
            "info",
            f"{group['reason']}: reported, not compared",
            statistic=float(group["rows"]),
        )
        _add(group, key, c, "rows")
        return
    statuses = {c["status"] for c in group["checks"]}
    for status in ("alert", "error", "info"):
        if status in statuses:
            group["status"] = status
            return


def _score(group: dict[str, Any]) -> float:
    ratios = [
        d["statistic"] / d["threshold"]
        for d in group["drift"]
        if d["statistic"] is not None and d["threshold"]
    ]
    return max(ratios, default=0.0)


def _order(group: dict[str, Any]) -> tuple[int, float, int]:
    return (_RANK[group["status"]], -_score(group), -group["rows"])


def _describe(group: dict[str, Any]) -> str:
    """What is wrong with a group, in a few words."""
    if group["status"] == "insufficient":
        return str(group["reason"])
    parts = []
    drifted = [d for d in group["drift"] if d["drifted"]]
    if drifted:
        parts.append(f"drift in {len(drifted)} of {len(group['drift'])} columns")
    if group["prediction_drift"] and group["prediction_drift"]["drifted"]:
        parts.append("prediction drift")
    for c in group["checks"]:
        if ".quality." in c["check"] and c["status"] == "alert":
            parts.append(c["message"])
        elif ".stability." in c["check"] and c["status"] == "alert":
            parts.append(f"{c['check'].rsplit('.', 1)[-1]} in {c['column']}")
        elif c["status"] == "error":
            parts.append(c["message"])
    return "; ".join(dict.fromkeys(parts)) or "no finding"


def _summary(key: str, groups: list[dict[str, Any]], min_group: int) -> CheckResult:
    alerts = [gr for gr in groups if gr["status"] == "alert"]
    small = [gr for gr in groups if gr["status"] == "insufficient"]
    compared = len(groups) - len(small)
    text = f"{len(alerts)} of {compared} compared segments alert"
    if alerts:
        text += f" (worst: {key}={alerts[0]['value']}: {_describe(alerts[0])})"
    if small:
        text += f"; {len(small)} insufficient (< {min_group} rows, not compared)"
    return CheckResult(
        f"segments.{key}",
        "alert" if alerts else "ok",
        text,
        test="segments alerting",
        statistic=float(len(alerts)),
        threshold=0.0,
    )


def _worst(columns: list[dict[str, Any]]) -> dict[str, Any] | None:
    best: tuple[tuple[int, float, int], str, dict[str, Any]] | None = None
    for column in columns:
        for group in column["groups"]:
            if group["status"] in ("ok", "insufficient"):
                continue
            rank = _order(group)
            if best is None or rank < best[0]:
                best = (rank, column["key"], group)
    if best is None:
        return None
    _, key, group = best
    return {
        "segment": f"{key}={group['value']}",
        "status": group["status"],
        "message": _describe(group),
    }


def _reference_note(ctx: RunContext, missing: tuple[str, ...], whole: list[str]) -> str | None:
    if missing:
        cols = ", ".join(repr(c) for c in missing)
        return (
            f"the reference {ctx.reference} has no column {cols}: every group is compared "
            "with the whole reference"
        )
    if not whole:
        return None
    shown = ", ".join(whole[:10]) + (f" and {len(whole) - 10} more" if len(whole) > 10 else "")
    return (
        f"compared with the whole reference (the reference has fewer than "
        f"{ctx.settings.min_group} rows of them, or folds them into {OTHER_GROUP}): {shown}"
    )
