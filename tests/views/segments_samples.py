"""Fixed ``report.segments`` / ``report.fairness`` JSON (the shapes in monitoring/segments.py and
monitoring/fairness.py), built without randomness, for the segments view tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from modelbook.monitoring.report import CheckResult, MonitorReport


def _drift(column: str, statistic: float, *, drifted: bool) -> dict[str, Any]:
    return {
        "column": column,
        "test": "psi",
        "statistic": statistic,
        "threshold": 0.2,
        "p_value": 1e-9 if drifted else 0.4,
        "drifted": drifted,
    }


def _group(
    value: str, rows: int, total: int, *, drifted: int = 0, columns: int = 30,
    status: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    key = "region"
    if status == "insufficient" or rows < 30:
        return {
            "value": value, "rows": rows, "share": rows / total, "reference_rows": None,
            "status": "insufficient", "reason": f"{rows} rows < min_group 30",
            "checks": [{"check": f"segment.{key}={value}.rows", "column": None, "status": "info",
                        "message": f"{rows} rows < min_group 30: insufficient", "test": None,
                        "statistic": float(rows), "threshold": 30.0}],
            "drift": [], "drifted_share": None, "prediction_drift": None, "quality": {},
            "nan": {},
        }  # fmt: skip
    drift = [_drift(f"x{i}", 0.31 + 0.01 * i, drifted=True) for i in range(drifted)]
    drift += [_drift(f"x{i}", 0.01 * (i % 7), drifted=False) for i in range(drifted, columns)]
    checks = [
        {"check": f"segment.{key}={value}.drift.column", "column": d["column"], "status": "alert",
         "message": f"{d['column']} drifted (psi {d['statistic']:.2f} ≥ 0.2)", "test": "psi",
         "statistic": d["statistic"], "threshold": 0.2}
        for d in drift if d["drifted"]
    ]  # fmt: skip
    return {
        "value": value,
        "rows": rows,
        "share": rows / total,
        "reference_rows": rows,
        "status": "alert" if drifted else "ok",
        "reason": None,
        "checks": checks,
        "drift": drift,
        "drifted_share": drifted / columns,
        "prediction_drift": {"test": "psi", "statistic": 0.25 if drifted else 0.02,
                             "threshold": 0.2, "drifted": bool(drifted)},
        "quality": {"accuracy": {"value": 0.71 if drifted else 0.9, "n": rows}},
        "nan": {"x1": {"nan": 3, "inf": 0}} if value == "south" else {},
    }  # fmt: skip


def segments_json(n_values: int = 5, *, columns: int = 30) -> dict[str, Any]:
    """``region`` with ``n_values`` values: north drifts (3 columns), a 12-row group and the
    null group are insufficient, the rest are ok; worst first."""
    names = ["north", "south", "east", "west", *(f"r{i:03d}" for i in range(max(0, n_values - 4)))]
    names = names[: max(n_values - 2, 1)]
    total = 20_000
    groups = [_group("north", 1_500, total, drifted=3, columns=columns)]
    groups += [_group("(null)", 12, total), _group("tiny", 12, total)]
    groups += [_group(v, 1_000 + i, total, columns=columns) for i, v in enumerate(names[1:])]
    return {
        "settings": {"max_segments": 50, "min_group": 30, "correction": "holm"},
        "columns": [
            {
                "key": "region",
                "by": ["region"],
                "n_values": len(groups),
                "other": None,
                "reference": "segment",
                "reference_note": None,
                "groups": groups,
            }
        ],
        "worst": {"segment": "region=north", "status": "alert",
                  "message": "drift in 3 of 30 columns"},
    }  # fmt: skip


def _fgroup(value: str, rows: int, pos: int, sel: float, tpr: float | None, fpr: float | None,
            *, insufficient: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "value": value, "rows": rows, "positives": pos, "negatives": rows - pos,
        "selection_rate": sel, "tpr": tpr, "fpr": fpr, "accuracy": 0.85, "mae": None,
        "rmse": None, "status": "insufficient" if insufficient else "ok",
        "reason": insufficient, "insufficient_for": ["tpr", "fpr"] if insufficient else [],
    }  # fmt: skip


def fairness_json() -> dict[str, Any]:
    """``gender``: F selected at 0.21, M at 0.30 (ratio 0.70 < 0.8), X has 12 rows."""
    groups = [
        _fgroup("F", 900, 200, 0.21, 0.62, 0.08),
        _fgroup("M", 1_000, 240, 0.30, 0.81, 0.12),
        _fgroup("X", 12, 3, 0.25, None, None, insufficient="12 rows < min_group 30"),
    ]
    measures = [
        {"name": "demographic_parity_ratio", "value": 0.7, "threshold": 0.8, "kind": "ratio",
         "status": "alert", "groups_covered": 2, "groups_total": 3, "baseline": 0.93,
         "change": -0.23, "message": "ratio 0.70 < 0.8 (2 of 3 groups)"},
        {"name": "demographic_parity_difference", "value": 0.09, "threshold": 0.1,
         "kind": "difference", "status": "ok", "groups_covered": 2, "groups_total": 3,
         "baseline": 0.02, "change": 0.07, "message": "difference 0.09 ≤ 0.1 (2 of 3 groups)"},
        {"name": "equalized_odds_difference", "value": 0.19, "threshold": 0.1,
         "kind": "difference", "status": "alert", "groups_covered": 2, "groups_total": 3,
         "baseline": None, "change": None,
         "message": "difference 0.19 > 0.1 (2 of 3 groups)"},
    ]  # fmt: skip
    return {
        "settings": {"min_group": 30, "min_positives": 10, "ratio": 0.8, "difference": 0.1,
                     "method": "between_groups", "reference_group": None},
        "task": "binary", "labels": True, "positive": "1", "note": None,
        "columns": [{"key": "gender", "by": ["gender"], "class": None, "groups": groups,
                     "measures": measures}],
    }  # fmt: skip


def report(
    segments: dict[str, Any] | None, fairness: dict[str, Any] | None = None
) -> MonitorReport:
    """A monitor report carrying the given JSON and the checks the engine would add."""
    checks = []
    if segments:
        for col in segments["columns"]:
            bad = [g for g in col["groups"] if g["status"] == "alert"]
            checks.append(
                CheckResult(
                    check=f"segments.{col['key']}",
                    status="alert" if bad else "ok",
                    message=f"{len(bad)} of {len(col['groups'])} segments alert",
                )
            )
            for g in bad:
                for c in g["checks"]:
                    checks.append(CheckResult(**c))
    if fairness:
        for col in fairness["columns"]:
            for m in col["measures"]:
                checks.append(
                    CheckResult(
                        check=f"fairness.{col['key']}.{m['name']}",
                        status="alert" if m["status"] == "alert" else "ok",
                        message=m["message"],
                        statistic=m["value"],
                        threshold=m["threshold"],
                    )
                )
                if m.get("baseline") is not None and m.get("value") is not None:
                    ratio = m["kind"] == "ratio"
                    moved = (
                        m["value"] < m["baseline"] * m["threshold"]
                        if ratio
                        else m["value"] - m["baseline"] > m["threshold"]
                    )
                    checks.append(
                        CheckResult(
                            check=f"fairness.{col['key']}.{m['name']}.change",
                            status="alert" if moved else "ok",
                            message=f"{m['value']:.2f}, {m['baseline']:.2f} on the baseline",
                        )
                    )
    status = "alert" if any(c.status == "alert" for c in checks) else "ok"
    t = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
    return MonitorReport(
        target="churn@2", target_kind="model", reference="churn@2 training data",
        status=status, checks=tuple(checks), n_rows=20_000, started_at=t, finished_at=t,
        segments=segments, fairness=fairness,
    )  # fmt: skip


def many_segments(n: int = 100, *, alerting: int = 30, columns: int = 30) -> dict[str, Any]:
    """A slice of ``n`` segments over ``columns`` columns: the first ``alerting`` drift (in
    3 to 8 columns), two are insufficient, the rest are ok; worst first."""
    total = 200_000
    groups = [
        _group(f"s{i:03d}", 2_000 - i, total, drifted=3 + i % 6, columns=columns)
        for i in range(alerting)
    ]
    groups += [_group("(null)", 12, total), _group("s999", 25, total)]
    groups += [
        _group(f"s{i:03d}", 1_500 - i, total, columns=columns) for i in range(alerting, n - 2)
    ]
    return {
        "settings": {"max_segments": n, "min_group": 30, "correction": "holm"},
        "columns": [
            {"key": "store", "by": ["store"], "n_values": n, "other": None,
             "reference": "segment", "reference_note": None, "groups": groups}
        ],
        "worst": {"segment": "store=s000", "status": "alert",
                  "message": "drift in 3 of 30 columns"},
    }  # fmt: skip
