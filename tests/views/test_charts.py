"""Vega-Lite specs are pure functions of results: compared with golden JSON, valid, rendered."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from views_helpers import (
    GOLDEN,
    capped_score_column,
    categorical_column,
    fixed_drift,
    history_runs,
    mixed_drift,
    near_constant_column,
    numeric_column,
    out_of_range_column,
    pixel_column,
    rating_column,
    seconds_apart_runs,
    tied_max_column,
    untested_column,
)

from modelbook.render import charts
from modelbook.run_history import HistoryReport, HistoryRun


def _history(runs_data: list[dict[str, Any]] | None = None) -> HistoryReport:
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
        for i, r in enumerate(runs_data or history_runs())
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
    "history_seconds_apart": lambda: charts.history_spec(_history(seconds_apart_runs())),
    "distribution_pixels": lambda: charts.distribution_spec(pixel_column()),
    "distribution_tied_max": lambda: charts.distribution_spec(tied_max_column()),
    "distribution_rating": lambda: charts.distribution_spec(rating_column()),
    "distribution_capped_score": lambda: charts.distribution_spec(capped_score_column()),
    "distribution_near_constant": lambda: charts.distribution_spec(near_constant_column()),
    "distribution_out_of_range": lambda: charts.distribution_spec(out_of_range_column()),
    "drift_overview_mixed": lambda: charts.drift_overview_spec(mixed_drift()),
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


NUMERIC = {
    "age": numeric_column,
    "pixels": pixel_column,
    "tied_max": tied_max_column,
    "rating": rating_column,
    "capped_score": capped_score_column,
    "near_constant": near_constant_column,
    "out_of_range": out_of_range_column,
}


def _panels(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(main panel, out-of-range panel or None) of a numeric distribution spec."""
    if "hconcat" in spec:
        return spec["hconcat"][0], spec["hconcat"][1]
    return spec, None


@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_numeric_distribution_shares_add_up_and_stay_bounded(name: str) -> None:
    """Bars are shares of rows (never share ÷ bin width, which a tied maximum's one-float-wide
    bin blew up to ~1e14): each side's bars, in range and out of range, add up to 1."""
    spec = charts.distribution_spec(NUMERIC[name]())
    main, side = _panels(spec)
    rows = main["data"]["values"] + (side["data"]["values"] if side else [])
    for label in ("reference", "current"):
        shares = [r["share"] for r in rows if r["set"] == label]
        assert sum(shares) == pytest.approx(1, abs=1e-3), label
        assert all(0 <= s <= 1 for s in shares)
    top = main["encoding"]["y"]["scale"]["domain"][1]
    assert max(r["share"] for r in rows) <= top <= 1.05
    assert all(r["end"] > r["start"] for r in main["data"]["values"])


def test_tied_maximum_is_a_bar_at_the_maximum() -> None:
    rows = charts.distribution_spec(tied_max_column())["data"]["values"]
    cur = [r for r in rows if r["set"] == "current"]
    last = max(cur, key=lambda r: r["start"])
    assert (last["start"], last["end"]) == (16.0, 16.4)  # the current half of the slot at 16
    assert last["share"] == pytest.approx(60 / 207, abs=1e-4)
    # Every bar is as wide as the others: one integer slot each.
    widths = {round(r["end"] - r["start"], 6) for r in rows}
    assert len(widths) == 1


@pytest.mark.parametrize("column", [pixel_column, rating_column])
def test_discrete_columns_are_bars_at_their_values(column: Any) -> None:
    spec = charts.distribution_spec(column())
    rows = spec["data"]["values"]
    centres = sorted({(r["start"] + r["end"]) / 2 for r in rows})
    values = sorted({round(c) for c in centres})
    # Reference bar left of the value, current bar right of it, both within half a unit.
    for r in rows:
        v = round(r["end"] if r["set"] == "reference" else r["start"])
        assert v in values and abs(r["start"] - v) <= 0.5 and abs(r["end"] - v) <= 0.5
    assert spec["encoding"]["x"]["axis"]["tickMinStep"] == 1
    if column is rating_column:
        assert values == [1, 2, 3, 4, 5]
        ref = {round(r["end"]): r["share"] for r in rows if r["set"] == "reference"}
        assert ref == {1: 0.107, 2: 0.146, 3: 0.259, 4: 0.288, 5: 0.2}
    else:
        assert values == list(range(17))


def test_values_outside_the_reference_range_are_labelled_bars() -> None:
    spec = charts.distribution_spec(out_of_range_column())
    main, side = _panels(spec)
    assert side is not None
    outside = {(r["range"], r["set"]): r["share"] for r in side["data"]["values"]}
    assert outside == {
        ("< 11", "reference"): 0.0,
        ("< 11", "current"): 0.02,
        ("> 15", "reference"): 0.0,
        ("> 15", "current"): 0.1,
    }
    # Nothing is drawn past the last edge of the main panel, and its x axis fits the data.
    x = main["encoding"]["x"]["scale"]
    assert x["domain"] == [11.0, 15.0] and x["zero"] is False
    assert max(r["end"] for r in main["data"]["values"]) <= 15.0
    # The two panels share one y scale.
    assert side["encoding"]["y"]["scale"] == main["encoding"]["y"]["scale"]


def test_x_axis_is_fitted_to_the_data() -> None:
    for make in NUMERIC.values():
        main, _ = _panels(charts.distribution_spec(make()))
        scale = main["encoding"]["x"]["scale"]
        assert scale["zero"] is False
        lo, hi = scale["domain"]
        starts = [r["start"] for r in main["data"]["values"]]
        ends = [r["end"] for r in main["data"]["values"]]
        assert lo <= min(starts) and max(ends) <= hi
        assert hi - lo <= 1.2 * (max(ends) - min(starts)) + 1.0


def test_near_constant_column_shows_its_single_value_and_the_new_values() -> None:
    rows = charts.distribution_spec(near_constant_column())["data"]["values"]
    ref = {round((r["start"] + r["end"]) / 2): r["share"] for r in rows if r["set"] == "reference"}
    cur = {round((r["start"] + r["end"]) / 2): r["share"] for r in rows if r["set"] == "current"}
    assert ref[0] == 0.999 and ref[5] == 0.001
    assert cur[0] == 0.97 and sum(cur[v] for v in (1, 2, 3, 4)) == pytest.approx(0.03)


def test_capped_score_keeps_its_mass_at_the_cap() -> None:
    rows = charts.distribution_spec(capped_score_column())["data"]["values"]
    last = max(rows, key=lambda r: (r["end"], r["set"] == "current"))
    assert last["end"] == 1.0 and last["set"] == "current"
    assert last["share"] >= 0.4  # 40 of 100 rows sit on the cap


def test_many_fine_bins_are_spread_over_at_most_max_bars() -> None:
    from views_helpers import wide_drift

    column = wide_drift(1).columns[0]
    main, side = _panels(charts.distribution_spec(column))
    ref = [r for r in main["data"]["values"] if r["set"] == "reference"]
    outside = [r for r in (side or {"data": {"values": []}})["data"]["values"]]
    assert len(ref) <= charts.MAX_BARS
    total = sum(r["share"] for r in ref + outside if r["set"] == "reference")
    assert total == pytest.approx(1, abs=1e-3)


def test_distribution_alt_says_what_the_chart_shows() -> None:
    assert charts.distribution_alt(out_of_range_column()) == (
        "reference vs current distribution of temperature: drifted (effect 0.4 ≥ 0.05 and "
        "p = 1e-13: drifted); 2% of current values below the reference minimum 11; "
        "10% of current values above the reference maximum 15"
    )
    assert charts.distribution_alt(categorical_column()).startswith(
        "reference vs current distribution of plan: drifted"
    )


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


def test_overview_lists_tested_columns_by_decision() -> None:
    values = charts.drift_overview_spec(fixed_drift())["data"]["values"]
    assert [v["column"] for v in values] == ["age", "plan", "income"]
    assert [v["decision"] for v in values] == ["drifted", "drifted", "ok"]


def test_overview_ranks_by_decision_not_by_an_inflated_ratio() -> None:
    """The near-constant column's 17.7× effect is not significant: it comes after every drifted
    column, its bar is cut at the cap (labelled with its ratio), the drifted bars stay visible."""
    spec = charts.drift_overview_spec(mixed_drift())
    values = spec["data"]["values"]
    assert [v["column"] for v in values] == [
        "rating", "score", "temperature", "near_constant", "pixel_3_4"
    ]  # fmt: skip
    assert [v["decision"] for v in values] == [
        "drifted", "drifted", "drifted", "not significant", "not significant"
    ]  # fmt: skip
    near = values[3]
    assert near["ratio"] == charts.OVERVIEW_CAP and near["label"] == "18×, p 0.20"
    assert spec["layer"][0]["encoding"]["y"]["sort"] == [v["column"] for v in values]
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, charts.OVERVIEW_CAP]
    assert charts.drift_overview_alt(mixed_drift()) == (
        "drift decision per column, drifted first: 3 of 5 tested columns drifted (rating, "
        "score, temperature); 2 columns past the effect threshold but not significant"
    )


def _clipped(column: Any) -> dict[str, Any]:
    spec = charts.distribution_spec(column)
    main, _ = _panels(spec)
    main["mark"] = {**main["mark"], "clip": True}  # clipped marks make vl-convert emit ids
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
    assert drift_rows[0]["started"] == "2026-11-01T06:00:00Z"  # UTC, said so
    metric_rows = spec["vconcat"][1]["data"]["values"]
    assert [r["value"] for r in metric_rows] == [0.81, 0.8, 0.8, 0.71, 0.79, 0.69]
    flagged = spec["vconcat"][1]["layer"][2]["data"]["values"]
    assert [r["value"] for r in flagged] == [0.71, 0.69]


def test_history_time_axis_suits_runs_a_second_apart() -> None:
    spec = charts.history_spec(_history(seconds_apart_runs()))
    x = spec["vconcat"][0]["layer"][0]["encoding"]["x"]
    assert x["axis"]["format"] == "%H:%M:%S" and x["scale"] == {"type": "utc"}
    assert x["title"] == "run start, 2026-11-01 (UTC)"
    ticks = x["axis"]["values"]
    assert len(ticks) >= 3 and all(t % 1000 == 0 for t in ticks)  # whole seconds, no ".800"
    days = charts.history_spec(_history())["vconcat"][0]["layer"][0]["encoding"]["x"]
    assert days["axis"]["format"] == "%b %d" and days["title"] == "run start (UTC)"


def test_history_has_one_legend_and_one_colour_per_metric() -> None:
    spec = charts.history_spec(_history(seconds_apart_runs()))
    metrics = spec["vconcat"][1]
    colors = [layer["encoding"].get("color") for layer in metrics["layer"]]
    assert colors[0] == colors[1] and colors[0]["field"] == "metric"
    assert colors[0]["scale"]["domain"] == ["auc", "f1"]
    assert len(set(colors[0]["scale"]["range"])) == 2
    assert "legend" not in colors[0]  # one metric legend; the alert rings have none
    assert colors[2] is None
    titles = json.dumps(spec).count('"title": "metric"')
    assert titles == 2  # the same legend spec on the line and its points: drawn once


def test_history_scale_keeps_small_changes_small() -> None:
    """auc moving by 0.0006 spans a sliver of the panel, not its full height."""
    spec = charts.history_spec(_history(seconds_apart_runs()))
    lo, hi = spec["vconcat"][1]["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert hi - lo >= 0.05 * 0.8
    assert 0.0006 / (hi - lo) < 0.05


def test_history_metrics_of_different_magnitudes_get_labelled_panels() -> None:
    runs = history_runs()
    for i, r in enumerate(runs):
        r["metrics"] = {**r["metrics"], "rmse": 1200.0 + 50 * i}
    spec = charts.history_spec(_history(runs))
    titles = [p["title"] for p in spec["vconcat"]]
    assert titles == ["share of drifted columns", "metric auc", "metric rmse"]
    assert spec["vconcat"][2]["layer"][0]["encoding"]["y"]["title"] == "rmse"


def test_history_alt() -> None:
    assert charts.history_alt(_history(seconds_apart_runs()), metrics=("auc",)) == (
        "share of drifted columns over 8 runs from 2026-11-01 06:00:53 to 2026-11-01 06:01:00 "
        "UTC and auc; 2 runs with alerts or errors marked; newest drift share 10%, highest 70%; "
        "auc 0.8 → 0.8006"
    )


def test_minified_svg_keeps_the_text() -> None:
    svg = charts.to_svg(charts.distribution_spec(out_of_range_column()))
    assert ">temperature<" in svg and ">&lt; 11<" in svg and ">&gt; 15<" in svg
    assert "aria-" not in svg and 'class="' not in svg


@pytest.mark.parametrize(
    "name",
    ["distribution_pixels", "distribution_tied_max", "distribution_out_of_range",
     "history_seconds_apart", "drift_overview_mixed"],
)  # fmt: skip
def test_charts_render_to_png_for_a_look(name: str, artifacts: Path) -> None:
    """PNGs kept in test-artifacts/charts/ for a person to look at after a change."""
    import vl_convert as vlc

    png = vlc.vegalite_to_png(SPECS[name](), vl_version=charts.VL_VERSION, scale=1.5)
    (artifacts / "charts").mkdir(exist_ok=True)
    (artifacts / "charts" / f"{name}.png").write_bytes(png)
    assert png.startswith(b"\x89PNG") and len(png) > 8_000


def test_golden_files_exist_for_every_spec() -> None:
    names = {p.name.removesuffix(".vl.json") for p in Path(GOLDEN).glob("*.vl.json")}
    assert names == set(SPECS)
