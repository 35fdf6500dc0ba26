"""Vega-Lite specs are pure functions of results: compared with golden JSON, valid, rendered."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from views_helpers import (
    GOLDEN,
    categorical_column,
    fixed_drift,
    history_runs,
    numeric_column,
    untested_column,
)

from modelbook.render import charts
from modelbook.run_history import HistoryReport, HistoryRun


def _history() -> HistoryReport:
    runs = [
        HistoryRun(
            run_id=f"r{i}",
            version=1 if i < 3 else 2,
            status=r["status"],
            source="scheduled",
            started_at=r["started_at"],
            finished_at=r["started_at"],
            n_rows=1000,
            drift_share=r["drift_share"],
            n_alerts=1 if r["status"] == "alert" else 0,
            metrics=r["metrics"],
        )
        for i, r in enumerate(history_runs())
    ]
    return HistoryReport(
        name="churn",
        entry_kind="model",
        version=None,
        since=None,
        limit=None,
        runs=tuple(reversed(runs)),  # newest first, as history() returns them
    )


SPECS = {
    "distribution_numeric": lambda: charts.distribution_spec(numeric_column()),
    "distribution_categorical": lambda: charts.distribution_spec(categorical_column()),
    "distributions": lambda: charts.distributions_spec([numeric_column(), categorical_column()]),
    "drift_overview": lambda: charts.drift_overview_spec(fixed_drift()),
    "history": lambda: charts.history_spec(_history()),
    "metrics": lambda: charts.metrics_spec(
        [("auc", 0.81, 0.84), ("f1", 0.6, None)], labels=("churn@1", "churn@2")
    ),
}


def _golden(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    path = GOLDEN / f"{name}.vl.json"
    if os.environ.get("MODELBOOK_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n")
    expected: dict[str, Any] = json.loads(path.read_text())
    return expected


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_matches_golden_json(name: str) -> None:
    spec = SPECS[name]()
    assert json.loads(json.dumps(spec)) == _golden(name, spec)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_is_valid_vega_lite(name: str) -> None:
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema import core

    validate_jsonschema(SPECS[name](), core.load_schema())


def test_specs_are_pure_functions() -> None:
    for make in SPECS.values():
        assert json.dumps(make(), sort_keys=True) == json.dumps(make(), sort_keys=True)


def test_numeric_distribution_is_a_density_on_the_reference_bins() -> None:
    column = numeric_column()
    rows = charts.distribution_spec(column)["data"]["values"]
    ref = [r for r in rows if r["set"] == "reference"]
    cur = [r for r in rows if r["set"] == "current"]
    # Each side integrates to 1 (share per bin ÷ width × width), underflow bin included.
    for side in (ref, cur):
        assert sum(r["density"] * (r["end"] - r["start"]) for r in side) == pytest.approx(1, 1e-5)
    # Values below the reference's first edge get a bar one unit wide (integer edges).
    assert cur[0]["start"] == 19.0 and cur[0]["end"] == 20.0
    assert cur[0]["density"] == pytest.approx(2 / 100)
    assert ref[0]["density"] == 0
    assert ref[1] == {"set": "reference", "start": 20.0, "end": 25.0, "density": 0.01}


def test_many_fine_bins_are_spread_over_at_most_max_bars() -> None:
    from views_helpers import wide_drift

    column = wide_drift(1).columns[0]
    rows = charts.distribution_spec(column)["data"]["values"]
    ref = [r for r in rows if r["set"] == "reference"]
    assert len(ref) <= charts.MAX_BARS + 2
    total = sum(r["density"] * (r["end"] - r["start"]) for r in ref)
    assert total == pytest.approx(1, abs=1e-4)


def test_categorical_distribution_shares_and_order() -> None:
    rows = charts.distribution_spec(categorical_column())["data"]["values"]
    ref = {r["value"]: r["share"] for r in rows if r["set"] == "reference"}
    cur = {r["value"]: r["share"] for r in rows if r["set"] == "current"}
    assert ref == {"basic": 0.5, "pro": 0.3, "team": 0.2, "enterprise": 0.0}
    assert cur == {"basic": 0.3, "pro": 0.3, "team": 0.25, "enterprise": 0.15}


def test_drift_score_reads_one_at_the_threshold() -> None:
    assert charts.drift_score(numeric_column()) == pytest.approx(0.31 / 0.05)
    assert charts.drift_score(untested_column()) is None
    ks = numeric_column()
    ks = type(ks)(**{**ks.__dict__, "test": "ks", "threshold": 0.05, "p_value": 0.05})
    assert charts.drift_score(ks) == pytest.approx(1.0)


def test_overview_lists_tested_columns_by_score() -> None:
    values = charts.drift_overview_spec(fixed_drift())["data"]["values"]
    assert [v["column"] for v in values] == ["age", "plan", "income"]
    assert [v["status"] for v in values] == ["drifted", "drifted", "ok"]


def _clipped(column: Any) -> dict[str, Any]:
    spec = charts.distribution_spec(column)
    spec["mark"] = {**spec["mark"], "clip": True}  # clipped marks make vl-convert emit ids
    return spec


def test_svg_is_offline_and_ids_are_unique_per_chart() -> None:
    a = charts.to_svg(_clipped(numeric_column()))
    b = charts.to_svg(_clipped(categorical_column()))
    assert a.startswith("<svg") and b.startswith("<svg")
    for svg in (a, b):
        assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org", "")
    ids_a = set(re.findall(r'id="([^"]+)"', a))
    ids_b = set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and ids_b and not ids_a & ids_b
    for ref in re.findall(r"url\(#([^)]+)\)", a):
        assert ref in ids_a
    assert ">age<" in a  # the column title is drawn


def test_history_chart_marks_alert_runs() -> None:
    spec = charts.history_spec(_history())
    drift_rows = spec["vconcat"][0]["data"]["values"]
    assert [r["status"] for r in drift_rows] == ["ok", "ok", "ok", "alert", "ok", "alert"]
    assert drift_rows[0]["started"] < drift_rows[-1]["started"]  # oldest first
    assert datetime.fromisoformat(drift_rows[0]["started"]) == datetime(2026, 11, 1, 6)
    metric_rows = spec["vconcat"][1]["data"]["values"]
    assert [r["value"] for r in metric_rows] == [0.81, 0.8, 0.8, 0.71, 0.79, 0.69]


def test_golden_files_exist_for_every_spec() -> None:
    names = {p.name.removesuffix(".vl.json") for p in Path(GOLDEN).glob("*.vl.json")}
    assert names == set(SPECS)
