"""Segments through the API: small and null groups, Holm across segments, intersections,
folding into (other), the reference's segments (cached), and a scikit-learn dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from segments_data import column, groups, labels, region_frame, register_model

import modelbook
from modelbook.monitoring import MonitorReport


def _monitor(home: Path, batch: pd.DataFrame, **options: Any) -> MonitorReport:
    report = modelbook.monitor("m", data=batch, registry=home, **options)
    assert isinstance(report, MonitorReport)
    return report


def _segment_alerts(report: MonitorReport) -> list[str]:
    return [c.check for c in report.checks if c.check.startswith("segment") and c.status == "alert"]


@pytest.fixture
def model_home(registry: Path) -> Path:
    register_model(registry, region_frame(20_000, seed=1))
    return registry


def test_small_and_null_groups_are_insufficient_and_left_out_of_aggregates(
    model_home: Path,
) -> None:
    batch = region_frame(6_000, seed=2, shift={"east": 0.5})
    batch.loc[:11, "region"] = "tiny"  # a 12-row group
    batch.loc[12:31, "region"] = None  # a 20-row null group
    y = labels(batch, seed=3)
    report = _monitor(model_home, batch, target=y, segments=["region"], store="none")
    by = groups(report, "region")
    for value, rows in (("tiny", 12), ("(null)", 20)):
        g = by[value]
        assert g["rows"] == rows and g["share"] == pytest.approx(rows / 6_000)
        assert g["status"] == "insufficient"
        assert g["reason"] == f"{rows} rows < min_group 30"
        assert g["drift"] == [] and g["quality"] == {} and g["prediction_drift"] is None
        assert g["drifted_share"] is None
        assert [c["check"] for c in g["checks"]] == [f"segment.region={value}.rows"]
        assert g["checks"][0]["status"] == "info"
    # Never part of an aggregate: the Holm family counts the 4 compared groups × 3 columns only,
    # and the summary counts compared segments apart from the insufficient ones.
    east = by["east"]
    assert east["status"] == "alert"
    drift_check = next(c for c in east["checks"] if c["check"].endswith(".drift.column"))
    assert drift_check["column"] == "x2"
    assert "< 8.3e-4" in drift_check["message"]  # 0.01 / 12: the smallest of 12 tests
    summary = next(c for c in report.checks if c.check == "segments.region")
    assert summary.status == "alert"
    assert summary.message.startswith("1 of 4 compared segments alert (worst: region=east")
    assert summary.message.endswith("; 2 insufficient (< 30 rows, not compared)")
    # Worst first: the alert, then the insufficient groups, then the rest.
    assert [g["value"] for g in column(report, "region")["groups"]][:3] == [
        "east",
        "(null)",
        "tiny",
    ]
    assert report.segments["worst"] == {
        "segment": "region=east",
        "status": "alert",
        "message": "drift in 1 of 3 columns; prediction drift",
    }
    assert report.segments["settings"] == {
        "max_segments": 50,
        "min_group": 30,
        "correction": "holm",
    }
    # Realized quality per compared segment, with its n.
    quality = by["south"]["quality"]["accuracy"]
    assert quality["n"] == by["south"]["rows"] and 0.5 < quality["value"] <= 1.0


def _fifty(n: int, seed: int, shifted: str | None = None) -> pd.DataFrame:
    return region_frame(n, seed, n_regions=50, shift={shifted: 0.3} if shifted else None)


@pytest.fixture
def fifty_home(registry: Path) -> Path:
    register_model(registry, _fifty(200_000, seed=1))
    return registry


def test_fifty_unchanged_segments_at_200k_rows_raise_no_alert(fifty_home: Path) -> None:
    batch = _fifty(200_000, seed=2)
    report = _monitor(
        fifty_home, batch, target=labels(batch, seed=3), segments=["region"], store="none"
    )
    slice_ = column(report, "region")
    assert len(slice_["groups"]) == 50 and slice_["other"] is None
    assert all(g["status"] == "ok" for g in slice_["groups"]), [
        (g["value"], g["checks"]) for g in slice_["groups"] if g["status"] != "ok"
    ]
    assert _segment_alerts(report) == []
    assert report.segments["worst"] is None
    assert next(c for c in report.checks if c.check == "segments.region").status == "ok"
    # Every group was tested on every column (x1, x2, plan), with its prediction drift.
    assert all(len(g["drift"]) == 3 and g["prediction_drift"] for g in slice_["groups"])


def test_a_shifted_segment_of_two_percent_is_found(fifty_home: Path) -> None:
    batch = _fifty(200_000, seed=2, shifted="r17")  # x2 moves 0.3 sd in one region (2 %)
    report = _monitor(fifty_home, batch, segments=["region"], store="none")
    by = groups(report, "region")
    assert by["r17"]["share"] == pytest.approx(0.02, abs=0.002)
    assert by["r17"]["status"] == "alert"
    assert [d["column"] for d in by["r17"]["drift"] if d["drifted"]] == ["x2"]
    alerts = _segment_alerts(report)
    assert "segment.region=r17.drift.column" in alerts
    assert all(a.startswith("segment.region=r17.") for a in alerts if a != "segments.region")
    assert next(c for c in report.checks if c.check == "segments.region").status == "alert"
    assert report.segments["worst"]["segment"] == "region=r17"
    # The whole batch does not see it: 2 % of the rows moved by 0.3 sd is below its threshold.
    assert report.drift is not None and report.drift.drifted_columns == ()


def test_intersection_on_request(model_home: Path) -> None:
    batch = region_frame(8_000, seed=2, shift={"east": 0.5})
    report = _monitor(model_home, batch, segments=["region", ("region", "plan")], store="none")
    assert [c["key"] for c in report.segments["columns"]] == ["region", "region*plan"]
    inter = column(report, "region*plan")
    assert inter["by"] == ["region", "plan"] and inter["n_values"] == 8
    assert inter["reference"] == "segment"
    by = groups(report, "region*plan")
    assert set(by) == {
        f"{r}*{p}" for r in ("north", "south", "east", "west") for p in ("basic", "gold")
    }
    # An intersection's own columns are constant within a group: not compared.
    assert {d["column"] for d in by["south*gold"]["drift"]} == {"x1", "x2"}
    assert by["east*basic"]["status"] == by["east*gold"]["status"] == "alert"
    assert "segment.region*plan=east*gold.drift.column" in _segment_alerts(report)
    # Without a request, no intersection is monitored.
    plain = _monitor(model_home, batch, segments=["region"], store="none")
    assert [c["key"] for c in plain.segments["columns"]] == ["region"]


def test_more_than_max_segments_values_fold_into_other(registry: Path) -> None:
    reference = region_frame(12_000, seed=1, n_regions=12)
    modelbook.register(reference, name="ref", registry=registry)
    batch = region_frame(6_000, seed=2, n_regions=12)
    report = modelbook.monitor(
        "ref@1", data=batch, segments="region", rules={"max_segments": 5}, registry=registry
    )
    slice_ = column(report, "region")
    assert slice_["n_values"] == 12
    values = [g["value"] for g in slice_["groups"]]
    assert len(values) == 6 and "(other)" in values
    other = groups(report, "region")["(other)"]
    assert slice_["other"] == {"values": 7, "rows": other["rows"]}
    assert sum(g["rows"] for g in slice_["groups"]) == 6_000
    assert "(other)" in slice_["reference_note"]
    assert report.segments["settings"]["max_segments"] == 5


def test_reference_without_the_segment_column_compares_with_the_whole(registry: Path) -> None:
    reference = region_frame(10_000, seed=1).drop(columns=["region"])
    modelbook.register(reference, name="ref", registry=registry)
    batch = region_frame(6_000, seed=2)
    report = modelbook.monitor("ref@1", data=batch, segments=["region"], registry=registry)
    slice_ = column(report, "region")
    assert slice_["reference"] == "whole"
    assert slice_["reference_note"] == (
        "the reference ref@1 has no column 'region': every group is compared with the whole "
        "reference"
    )
    by = groups(report, "region")
    assert all(g["reference_rows"] is None for g in by.values())
    # north's x1 is +1 sd against the whole reference, as it always was: said, and found.
    assert by["north"]["status"] == "alert"
    # the region column is not an unexpected column of the batch: it names the groups
    assert not [c for c in report.checks if c.check == "schema.unexpected"]


def test_reference_segment_profiles_are_kept_and_reused(model_home: Path) -> None:
    batch = region_frame(6_000, seed=2)
    first = _monitor(model_home, batch, segments=["region"])  # stored: keeps the profiles
    reg = modelbook.registry.Registry(model_home)
    kept = reg.derived_statistic("segment_profiles", "m-training", 1, "data|region|top50|v2")
    assert kept is not None and set(kept["groups"]) == {"north", "south", "east", "west"}
    assert kept["groups"]["north"]["rows"] == groups(first, "region")["north"]["reference_rows"]
    predictions = [
        k for (k,) in _keys(model_home) if k.startswith("predictions|m-training@1|region")
    ]
    assert predictions == ["predictions|m-training@1|region|top50|v2"]
    again = _monitor(model_home, batch, segments=["region"])
    assert again.segments == first.segments


def _keys(home: Path) -> list[tuple[str]]:
    import duckdb

    con = duckdb.connect(str(home / "registry.duckdb"), read_only=True)
    try:
        return con.execute("SELECT key FROM derived_statistics ORDER BY key").fetchall()
    finally:
        con.close()


def test_segments_from_the_settings(model_home: Path) -> None:
    batch = region_frame(4_000, seed=2)
    report = _monitor(
        model_home, batch, rules={"segments": ["region", "region*plan"]}, store="none"
    )
    assert [c["key"] for c in report.segments["columns"]] == ["region", "region*plan"]
    small = _monitor(model_home, batch, segments=["region"], rules={"min_group": 500}, store="none")
    assert groups(small, "region")["north"]["status"] == "insufficient"
    assert groups(small, "region")["north"]["reason"].endswith("rows < min_group 500")
    # segments= given overrides the settings' list; the report round-trips as JSON.
    assert MonitorReport.from_dict(report.to_dict()).segments == report.segments


def test_breast_cancer_with_a_binned_segment(registry: Path) -> None:
    """scikit-learn's breast cancer data, segmented by quartile of `mean radius` (binned with
    pandas): texture moves in the smallest tumours only, and only that segment alerts."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer(as_frame=True)
    X, y = data.data, data.target
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
    edges = np.quantile(X_train["mean radius"], [0, 0.25, 0.5, 0.75, 1])
    edges[0], edges[-1] = -np.inf, np.inf

    def binned(frame: pd.DataFrame) -> pd.DataFrame:
        size = pd.cut(frame["mean radius"], edges, labels=["q1", "q2", "q3", "q4"])
        return frame.assign(size=size.astype("str"))

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_train, y_train)
    modelbook.register(
        model, name="cancer", data=binned(X_train), target=y_train, registry=registry
    )
    batch = binned(X_test)
    small = batch["size"] == "q1"
    batch.loc[small, "mean texture"] += 3 * X_train["mean texture"].std()
    report = modelbook.monitor(
        "cancer", data=batch, target=y_test.to_numpy(), segments=["size"], registry=registry
    )
    by = {g["value"]: g for g in report.segments["columns"][0]["groups"]}
    assert set(by) == {"q1", "q2", "q3", "q4"}
    assert by["q1"]["status"] == "alert"
    assert "mean texture" in [d["column"] for d in by["q1"]["drift"] if d["drifted"]]
    for value in ("q2", "q3", "q4"):
        assert by[value]["status"] == "ok", by[value]["checks"]
    assert by["q1"]["quality"]["accuracy"]["n"] == int(small.sum())
    assert report.segments["worst"]["segment"] == "size=q1"


def test_realized_quality_per_segment_with_a_guard_for_small_groups(model_home: Path) -> None:
    """A segment whose labels went bad alerts on accuracy; a 40-row group whose accuracy fell
    as far by chance is reported as noise (binomial test, Holm over the slice), not alerted."""
    batch = region_frame(8_000, seed=2)
    y = labels(batch, seed=3).to_numpy().copy()
    predicted = modelbook.load("m").predict(batch[["x1", "x2"]])
    rng = np.random.default_rng(4)
    west = np.flatnonzero(batch["region"].to_numpy() == "west")
    flip = rng.choice(west, size=len(west) // 4, replace=False)
    y[flip] = 1 - y[flip]
    batch.loc[:39, "region"] = "small"
    right = np.flatnonzero(y[:40] == predicted[:40])
    y[right[:3]] = 1 - y[right[:3]]  # 3 more errors in 40 rows: 0.13 below the baseline
    report = _monitor(model_home, batch, target=y, segments=["region"], store="none")
    by = groups(report, "region")
    west_checks = {c["check"]: c for c in by["west"]["checks"]}
    accuracy = west_checks["segment.region=west.quality.accuracy"]
    assert accuracy["status"] == "alert" and "; p = " in accuracy["message"]
    assert by["west"]["quality"]["accuracy"]["n"] == by["west"]["rows"]
    small = {c["check"]: c for c in by["small"]["checks"]}["segment.region=small.quality.accuracy"]
    assert small["status"] == "info"
    assert small["message"].endswith("at 40 labelled rows: noise")
    assert by["small"]["quality"]["accuracy"]["n"] == 40
    assert by["small"]["status"] == "info"
