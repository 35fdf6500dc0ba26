"""The segments and fairness sections of a monitor report in their three faces: the static HTML
(sanitizer-proof, worst first, insufficient groups marked in words, 100 segments under 300 KB),
the text, the live widget (the same sections in the same order) and the lab renderer."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from segments_samples import fairness_json, many_segments, report, segments_json
from test_sanitized import read, sanitize
from views_helpers import GOLDEN

from modelbook.monitoring.report import MonitorReport
from modelbook.render import MIME_TYPE, mimebundle
from modelbook.render.segments import (
    OPEN,
    fairness_section_html,
    fairness_spec,
    segments_section_html,
    segments_spec,
    threshold_line,
)

SAMPLES = Path(__file__).parent / "samples"


def team_samples() -> tuple[dict[str, Any], dict[str, Any]]:
    """The engines' own sample JSON (two slices with an intersection, (other) and a reference
    'whole'; two sensitive columns, one an intersection with a TPR not estimated)."""
    return (
        json.loads((SAMPLES / "segments.json").read_text()),
        json.loads((SAMPLES / "fairness.json").read_text()),
    )


def _text(html: str) -> str:
    return " ".join("".join(read(html).text).split())


def _statuses(html: str) -> list[str]:
    """The status column of the first segments table, top to bottom."""
    table = html.split("<table>")[1]
    return re.findall(r"<tr><td[^>]*>(?:<span[^>]*>)?([A-Za-z]+)<", table)


def test_sections_have_no_style_or_inline_svg_and_survive_the_sanitizer() -> None:
    seg, fair = team_samples()
    r = report(seg, fair)
    for section in (segments_section_html(r), fairness_section_html(r)):
        assert section.count("<h4") == 1  # one heading per section; slices are <h5>
        assert "<style" not in section and "<svg" not in section and "<script" not in section
    html = mimebundle(r, live=False)["text/html"]
    assert "<svg" not in html
    page = read(sanitize(html))
    text = " ".join("".join(page.text).split())
    assert "Segments: worst region=north (drift in 2 of 4 columns; prediction drift)" in text
    assert "Segments by region*plan: 1 of 3 segments alert, 1 insufficient" in text
    assert "the other 8 values (95 rows) are the segment (other)" in text
    assert "the reference has no column 'region': groups compared with the whole reference" in text
    assert "ratio 0.71 < 0.8 (2 of 3 groups)" in text
    assert "Holm-corrected" in text and "Fairlearn" in text
    for word in ("ALERT", "insufficient", "DRIFTED", "ok"):
        assert word in text
    alts = [img["alt"] for img in page.images]
    assert any(
        a.startswith("largest drift per segment of region, worst first: 1 of 5") for a in alts
    )
    assert any("insufficient: (null) with 12 rows" in a for a in alts)
    assert any(a.startswith("per-group rates of gender: selection rate: F 0.221") for a in alts)
    assert any("line at 0.8 × the highest group's 0.249" in a for a in alts)
    for img in page.images:  # every chart is an SVG data URI that kept its src
        assert img["src"].startswith("data:image/svg+xml;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1]).startswith(b"<svg")


def test_worst_first_and_insufficient_marked_in_words() -> None:
    seg = segments_json(8)
    # Shuffle the engine's order: the view still lists alert, insufficient, then ok.
    groups = seg["columns"][0]["groups"]
    seg["columns"][0]["groups"] = groups[3:] + groups[:3]
    r = report(seg, fairness_json())
    html = segments_section_html(r)
    assert _statuses(html) == ["ALERT", "insufficient", "insufficient"] + ["ok"] * 5
    page = read(sanitize(html))
    rows = [c for _, c in page.cells]
    assert "insufficient: 12 rows < min_group 30; not in any aggregate" in rows
    text = mimebundle(r, live=False)["text/plain"]
    lines = [ln for ln in text.splitlines() if ln.startswith("  ") and "region=" in ln]
    assert [ln.split()[0] for ln in lines] == ["ALERT", "insufficient", "insufficient"] + ["ok"] * 5
    assert "region=(null)  12 rows (0.1%): insufficient: 12 rows < min_group 30" in text
    fair = fairness_section_html(r)
    cells = [c for _, c in read(sanitize(fair)).cells]
    assert "insufficient 12 rows < min_group 30" in cells  # the badge's word, then why
    assert cells.count("insufficient") == 2  # X's TPR and FPR


def test_summary_line_names_the_worst_segment_and_the_fairness_gap() -> None:
    seg, fair = team_samples()
    bundle = mimebundle(report(seg, fair), live=False)
    first = bundle["text/plain"].splitlines()[0]
    assert first.startswith("monitor churn@2: ALERT (")
    assert "worst segment region=north (drift in 2 of 4 columns; prediction drift)" in first
    assert "fairness: demographic parity ratio by gender ratio 0.71 < 0.8 (+8 more)" in first
    assert "worst segment region=north" in _text(bundle["text/html"]).split("Findings")[0]
    # All ok: no worst segment named.
    ok = segments_json(3)
    ok["worst"] = {"segment": "region=south", "status": "ok", "message": "no drift"}
    assert "worst segment" not in mimebundle(report(ok), live=False)["text/plain"].splitlines()[0]


def test_findings_keep_one_check_per_slice_not_every_segment_check() -> None:
    r = report(many_segments(100, alerting=30))
    assert sum(c.check.startswith("segment.") for c in r.checks) > 100
    text = mimebundle(r, live=False)["text/plain"]
    findings = [ln for ln in text.splitlines() if ln.startswith("  alert ")]
    assert findings == ["  alert segments.store: 30 of 100 segments alert"]


def test_100_segments_stay_readable_and_under_300_kb() -> None:
    r = report(many_segments(100, alerting=30), fairness_json())
    html = mimebundle(r, live=False)["text/html"]
    size = len(html.encode())
    assert size < 300 * 1024, f"{size / 1024:.0f} KB"
    section = segments_section_html(r)
    # The first OPEN segments in the visible table, the other 90 folded in one <details>.
    visible = section.split("<details>")[0]
    assert visible.count("<tr><td") == OPEN
    assert (
        "<summary>90 more segments of store, worst first (20 alert, 2 insufficient, 68 ok)"
        in section
    )
    # Segments with findings: 30 detail blocks, the first OPEN open.
    assert section.count("<details open>") == OPEN
    assert section.count("store=s0") >= 100
    text = mimebundle(r, live=False)["text/plain"]
    assert "… 90 more segments of store, worst first (20 alert, 2 insufficient, 68 ok)" in text


def test_mime_data_round_trips_segments_and_fairness() -> None:
    seg, fair = team_samples()
    r = report(seg, fair)
    mime = mimebundle(r, live=False)[MIME_TYPE]
    assert mime["type"] == "monitor_report"
    assert mime["data"]["segments"] == seg and mime["data"]["fairness"] == fair
    again = MonitorReport.from_dict(mime["data"])
    assert again.segments == seg and again.fairness == fair
    assert mimebundle(again, live=False)["text/html"] == mimebundle(r, live=False)["text/html"]


def test_threshold_line_follows_the_method() -> None:
    _seg, fair = team_samples()
    col = fair["columns"][0]
    settings = dict(fair["settings"])
    line, how = threshold_line(col, "selection_rate", settings)
    assert line == pytest.approx(0.8 * 0.3109) and how == "0.8 × the highest group's"
    line, how = threshold_line(col, "selection_rate", {**settings, "reference_group": "F"})
    assert line == pytest.approx(0.8 * 0.2207) and how == "0.8 × group F's"
    # The insufficient (null) group never sets the line, even with the highest rate.
    col = {**col, "groups": [*col["groups"][:2], {**col["groups"][2], "selection_rate": 0.9}]}
    assert threshold_line(col, "selection_rate", settings)[0] == pytest.approx(0.8 * 0.3109)
    regression = {"groups": [{"value": "a", "rows": 99, "mae": 2.0, "status": "ok"},
                             {"value": "b", "rows": 99, "mae": 3.0, "status": "ok"}]}  # fmt: skip
    assert threshold_line(regression, "mae", settings) == (2.0 / 0.8, "the lowest group's ÷ 0.8")


def _golden(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    path = GOLDEN / "segments" / f"{name}.vl.json"
    if os.environ.get("MODELBOOK_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    expected: dict[str, Any] = json.loads(path.read_text())
    return expected


@pytest.mark.parametrize("name", ["segments", "fairness", "fairness_intersection"])
def test_specs_match_golden_json(name: str) -> None:
    seg, fair = team_samples()
    spec = {
        "segments": lambda: segments_spec(seg["columns"][0]),
        "fairness": lambda: fairness_spec(fair["columns"][0], fair["settings"]),
        "fairness_intersection": lambda: fairness_spec(fair["columns"][1], fair["settings"]),
    }[name]()
    assert json.loads(json.dumps(spec)) == _golden(name, spec)


def test_widget_shows_the_same_sections_in_the_same_order() -> None:
    from modelbook.widgets import MonitorWidget

    seg, fair = team_samples()
    r = report(seg, fair)
    widget = MonitorWidget(r)
    keys = [s["key"] for s in widget.sections]
    assert keys == ["summary", "findings", "segments", "fairness"]
    html = mimebundle(r, live=False)["text/html"]
    for section in widget.sections[2:]:
        inner = section["html"].split('<div class="mb">', 1)[1].removesuffix("</div>")
        assert inner in html  # the static report's own HTML
    static = _text(html)
    assert static.index("Segments: worst") < static.index("Fairness: demographic parity")


def test_lab_renderer_is_wired_in_the_monitor_view() -> None:
    views = Path(__file__).resolve().parents[2] / "labextension" / "src" / "views"
    monitor = (views / "monitor.ts").read_text()
    assert "keyed('segments', segmentsSection(segments)" in monitor
    assert "keyed('fairness', fairnessSection(fairness, checks)" in monitor
    source = (views / "segments.ts").read_text()
    for words in ("insufficient", "findings only", "Filter segments…", "worst first"):
        assert words in source


@pytest.mark.browser
def test_lab_renderer_draws_segments_and_fairness(browser: Any, tmp_path: Path) -> None:
    """labextension/src/views/segments.ts (compiled) drawn in Chromium from the saved MIME
    data alone: worst first, insufficient marked, per-group bars with the threshold line, and
    100 segments filterable."""
    from views_helpers import ARTIFACTS, lab_views_page

    seg, fair = team_samples()
    bundles = {
        "sample": mimebundle(report(seg, fair), live=False)[MIME_TYPE],
        "many": mimebundle(report(many_segments(100, alerting=30)), live=False)[MIME_TYPE],
    }
    with lab_views_page(browser, tmp_path / "site", bundles, view="segments") as page:
        view = page.locator("#sample [data-mb-kind='monitor_report']")
        header = view.locator("[data-mb-section='summary']").inner_text()
        assert "worst segment region=north (drift in 2 of 4 columns; prediction drift)" in header
        assert "fairness: demographic parity ratio by gender ratio 0.71 < 0.8" in header
        segments = view.locator("[data-mb-section='segments']")
        text = segments.inner_text()
        assert "Segments by region: 1 of 5 segments alert, 1 insufficient" in text
        rows = segments.locator("[data-mb-slice='region'] .mb-segments-table tbody tr.mb-row")
        statuses = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
        assert statuses == ["alert", "insufficient", "ok", "ok", "ok"]
        assert "insufficient: 12 rows < min_group 30" in rows.nth(1).inner_text()
        assert segments.locator("svg.mb-bars").count() >= 3  # two slices + open segment details
        fairness = view.locator("[data-mb-section='fairness']")
        ftext = fairness.inner_text()
        assert "ratio 0.71 < 0.8 (2 of 3 groups)" in ftext
        assert "TPR insufficient: 6 positives < min_positives 10" in ftext
        gender = fairness.locator("[data-mb-sensitive='gender']")
        assert gender.locator("svg.mb-bars").count() == 3  # selection rate, TPR, FPR
        assert gender.locator("svg.mb-bars line.mb-threshold").count() == 3
        assert "(null) (n 12, insufficient)" in gender.locator("svg.mb-bars").first.inner_html()
        many = page.locator("#many [data-mb-section='segments']")
        assert many.locator("details.mb-segment[open]").count() == OPEN
        table = many.locator(".mb-segments-table")
        assert table.locator("tbody tr.mb-row").count() == 100
        table.locator("input.mb-filter").fill("s999")
        assert table.locator("tbody tr.mb-row").count() == 1
        assert "insufficient" in table.locator("tbody tr.mb-row").first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        view.screenshot(path=str(ARTIFACTS / "lab-segments.png"))


def test_a_real_fairness_run_renders_baseline_changes_and_intersections() -> None:
    """fairness.json from a real run (credit model, gender and gender*age_band, evaluation
    baseline): change alerts listed, per-group metrics, three insufficient (null) groups."""
    fair = json.loads((SAMPLES / "fairness_real.json").read_text())
    r = report(None, fair)
    html = fairness_section_html(r)
    page = read(sanitize(html))
    text = " ".join("".join(page.text).split())
    assert "baseline from the model's evaluation data credit-eval@1." in text
    assert "fairness.gender.demographic_parity_ratio.change: 0.29, 0.96 on the baseline" in text
    assert "Fairness by gender*age_band ALERT" in text
    heads = [c for s, c in page.cells if c in ("precision", "f1", "roc_auc", "recall")]
    assert heads == ["precision", "f1", "roc_auc"] * 2  # recall is the TPR column
    cells = [c for _, c in page.cells]
    assert cells.count("insufficient 5 rows < min_group 30") == 2
    assert "insufficient 2 rows < min_group 30" in cells
    alt = next(i["alt"] for i in page.images if "gender*age_band" in i["alt"])
    assert "insufficient groups: (null)*18-30 (5 rows < min_group 30)" in alt
    lines = mimebundle(r, live=False)["text/plain"].splitlines()
    assert "fairness by gender: (baseline from the model's evaluation data credit-eval@1)" in lines


def test_threshold_line_reads_a_reference_group_table() -> None:
    _seg, fair = team_samples()
    col = fair["columns"][0]
    table = {**fair["settings"], "reference_group": {"gender": "F", "age_band": "18-30"}}
    assert threshold_line(col, "selection_rate", table)[1] == "0.8 × group F's"
    html = fairness_section_html(report(None, {**fair, "settings": table}))
    assert "compared to a base group (gender: F, age_band: 18-30)" in _text(html)
