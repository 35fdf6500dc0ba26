"""The timeline's three faces: text, sanitizer-proof HTML (100 chunks × 30 columns under 300 KB),
the lab renderer's JSON, and the live widget."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_sanitized import read, sanitize

import modelbook
from modelbook.monitoring.timeline import MonitorTimeline
from modelbook.render import MIME_TYPE, mimebundle

N_CHUNKS = 100
N_COLUMNS = 30


@pytest.fixture(scope="module")
def timelines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, MonitorTimeline]]:
    """A 100-day × 30-column dataset timeline (second half shifted in six columns) and a model
    timeline with estimated and realized performance."""
    from sklearn.linear_model import LogisticRegression

    import modelbook.registry.paths as paths

    home = tmp_path_factory.mktemp("timeline") / ".modelbook"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODELBOOK_HOME", str(home))
        paths.set_session_home(None)
        rng = np.random.default_rng(7)
        names = [f"feature_{i:02d}" for i in range(N_COLUMNS)]
        modelbook.register(
            pd.DataFrame(rng.normal(size=(5_000, N_COLUMNS)), columns=names), name="wide"
        )
        per_day = 60
        batch = pd.DataFrame(rng.normal(size=(N_CHUNKS * per_day, N_COLUMNS)), columns=names)
        second = batch.index >= len(batch) // 2
        for name in names[:6]:
            batch.loc[second, name] += 1.0
        batch["ts"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(
            np.repeat(np.arange(N_CHUNKS), per_day) * 86400 + 3600, unit="s"
        )
        out: dict[str, MonitorTimeline] = {}
        wide = modelbook.monitor("wide@1", data=batch, time="ts", chunk="1d", store="none")
        assert isinstance(wide, MonitorTimeline)
        out["wide"] = wide

        def scored(n: int, seed: int, squeeze: float = 1.0) -> tuple[pd.DataFrame, Any]:
            r = np.random.default_rng(seed)
            x = pd.DataFrame(r.normal(size=(n, 3)), columns=["x0", "x1", "x2"])
            x["x0"] *= squeeze
            return x, (r.random(n) < 1 / (1 + np.exp(-(3 * x.x0 + x.x1)))).astype(int)

        x, y = scored(2_000, 1)
        xe, ye = scored(2_000, 2)
        model = LogisticRegression().fit(x, y)
        modelbook.register(model, name="scored", data=x, target=y, eval_data=xe, eval_target=ye)
        a, ya = scored(1_200, 3)
        b, yb = scored(1_200, 4, squeeze=0.3)
        mixed = pd.concat([a, b], ignore_index=True)
        mixed["label"] = np.concatenate([ya, yb])
        estimated = modelbook.monitor("scored", data=mixed, target="label", chunk=400, store="none")
        assert isinstance(estimated, MonitorTimeline)
        out["estimated"] = estimated
        yield out
    paths.set_session_home(None)


def _images(html: str) -> list[dict[str, str]]:
    return read(sanitize(html)).images


def test_100_chunks_by_30_columns_stay_small_and_readable(
    timelines: dict[str, MonitorTimeline],
) -> None:
    wide = timelines["wide"]
    assert len(wide) == N_CHUNKS
    bundle = mimebundle(wide, live=False)
    html = bundle["text/html"]
    assert len(html.encode()) < 300_000, len(html.encode())
    images = _images(html)
    assert len(images) == 2  # the drift share per chunk, the drift strip
    strip = base64.b64decode(images[1]["src"].split(",", 1)[1]).decode()
    root = ET.fromstring(strip)  # well-formed SVG
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert all(f"feature_{i:02d}" in labels for i in range(N_COLUMNS))
    # worst columns first: the six shifted columns lead
    assert set(wide.drift_columns[:6]) == {f"feature_{i:02d}" for i in range(6)}
    cells = sum(p.get("d", "").count("z") for p in root.iter("{http://www.w3.org/2000/svg}path"))
    assert cells == N_CHUNKS * (N_COLUMNS + 1)  # every column and the status row, per chunk
    assert "drifted in 50 of 100" in images[1]["alt"]
    # the JSON for the lab renderer is compact too: no bin counts
    data = json.dumps(bundle[MIME_TYPE])
    assert len(data) < 200_000
    assert bundle[MIME_TYPE]["type"] == "monitor_timeline"
    chunks = bundle[MIME_TYPE]["data"]["chunks"]
    assert len(chunks) == N_CHUNKS and len(chunks[0]["drift"]) == N_COLUMNS
    assert bundle[MIME_TYPE]["data"]["columns"] == list(wide.drift_columns)


def test_drift_alerts_only_in_the_shifted_half(timelines: dict[str, MonitorTimeline]) -> None:
    wide = timelines["wide"]
    drifted = [
        {c.column for c in r.checks if c.check == "drift.column" and c.status == "alert"}
        for r in wide
    ]
    shifted = {f"feature_{i:02d}" for i in range(6)}
    assert sum(bool(d) for d in drifted[: N_CHUNKS // 2]) <= 3  # chance at 60 rows × 30 columns
    assert sum(len(d & shifted) >= 4 for d in drifted[N_CHUNKS // 2 :]) >= 45


@pytest.mark.parametrize("kind", ["wide", "estimated"])
def test_html_passes_the_sanitizer(timelines: dict[str, MonitorTimeline], kind: str) -> None:
    html = mimebundle(timelines[kind], live=False)["text/html"]
    assert "<svg" not in html and "<script" not in html
    clean = sanitize(html)
    page = read(clean)
    text = " ".join(page.text)
    assert "{" not in text and "font-family" not in text
    assert "ALERT" in text  # the status badge's word survives
    for img in page.images:
        assert img["src"].startswith("data:image/svg+xml;base64,")
        assert len(img["alt"]) > 20
    for style, cell in page.cells:
        assert "text-align:" in style, (style, cell)
    assert "Chunks" in text and page.tags.count("table") >= 1


def test_estimated_performance_chart(timelines: dict[str, MonitorTimeline]) -> None:
    from modelbook.render.timeline import lead_metric, performance_alt, performance_spec

    timeline = timelines["estimated"]
    assert [r.n_rows for r in timeline] == [400] * 6
    assert lead_metric(timeline) == "roc_auc"
    spec = performance_spec(timeline)
    assert spec is not None
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks[:2] == ["area", "area"]  # threshold band, ±3 SE band
    assert "rule" in marks  # the registered value
    series = {row["series"] for layer in spec["layer"] for row in layer["data"]["values"]
              if "series" in row}  # fmt: skip
    assert series == {"estimated", "realized"}
    alt = performance_alt(timeline)
    assert alt.startswith("roc_auc per chunk over 6 chunks by 400 rows: estimated roc_auc from")
    assert "realized roc_auc" in alt and "registered" in alt
    text = str(timeline)
    assert "est. roc_auc" in text and "rows 1–400" in text
    img = _images(mimebundle(timeline, live=False)["text/html"])[0]
    assert img["alt"] == alt


def test_widget_carries_the_static_view(
    timelines: dict[str, MonitorTimeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelbook import options
    from modelbook.widgets import TimelineWidget, widget_for
    from modelbook.widgets.timeline import DRIFT_SHARE

    timeline = timelines["estimated"]
    widget = widget_for(timeline)
    assert isinstance(widget, TimelineWidget)
    assert widget.metric == "roc_auc" and DRIFT_SHARE in widget.metrics
    assert widget.chart_svg.startswith("<svg") and widget.heatmap_svg.startswith("<svg")
    first = widget.chart_svg
    widget.metric = "accuracy"
    assert widget.chart_svg != first
    widget.theme = "dark"
    assert 'fill="#e0e0e0"' in widget.heatmap_svg
    assert "Chunks" in widget.table_html and "timeline of model scored@1" in widget.header_html
    monkeypatch.setattr(options, "display", "widget")
    bundle = mimebundle(timeline)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == mimebundle(timeline, live=False)["text/html"]
    assert bundle[MIME_TYPE]["type"] == "monitor_timeline"


@pytest.mark.browser
def test_lab_renderer_draws_the_timeline(
    timelines: dict[str, MonitorTimeline], browser: Any, tmp_path: Path
) -> None:
    """labextension/src/views/timeline.ts (compiled to labextension/lib by the build) drawn in
    Chromium from the saved MIME data alone: chart, drift strip, one row per chunk."""
    from views_helpers import lab_views_page

    bundle = mimebundle(timelines["estimated"], live=False)[MIME_TYPE]
    with lab_views_page(browser, tmp_path / "site", {"data": bundle}, view="timeline") as page:
        view = page.locator("[data-mb-kind='monitor_timeline']")
        assert view.count() == 1
        text = view.inner_text()
        assert "timeline" in text and "scored@1" in text and "6 chunks by 400 rows" in text
        assert view.locator("svg.mb-timeline-chart polyline").count() == 2  # estimated, realized
        assert view.locator("svg.mb-timeline-chart polygon").count() == 2  # ±3 SE, expected range
        cells = view.locator("svg.mb-timeline-strip rect").count()
        assert cells == 6 * (len(bundle["data"]["columns"]) + 1)
        assert view.locator("tbody tr").count() >= 6
        view.locator("select").select_option("")  # the drift share instead of a metric
        assert view.locator("svg.mb-timeline-chart polyline").count() == 1
