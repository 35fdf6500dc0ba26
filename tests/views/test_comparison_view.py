"""The champion/challenger view in its three faces: static HTML (sanitizer-proof, both
distributions in one chart), the live widget, and the lab renderer's MIME data."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from test_sanitized import read, sanitize

import modelbook
from modelbook.render import MIME_TYPE, mimebundle


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import modelbook.registry.paths as paths

    home = tmp_path_factory.mktemp("comparison") / ".modelbook"
    out: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODELBOOK_HOME", str(home))
        paths.set_session_home(None)
        x, y = load_breast_cancer(return_X_y=True, as_frame=True)
        x = x.iloc[:, :10]
        tr, te = x.iloc[:300], x.iloc[300:]
        strong = LogisticRegression(max_iter=5000).fit(tr, y[:300])
        weak = LogisticRegression(max_iter=5000).fit(tr[["mean smoothness"]], y[:300])
        modelbook.register(strong, name="cancer", data=tr, target=y[:300])
        modelbook.register(weak, name="cancer", data=tr[["mean smoothness"]], target=y[:300])
        out["binary"] = modelbook.monitor(
            "cancer@1", data=te, target=y[300:].to_numpy(), challenger="cancer@2"
        )
        xi, yi = load_iris(return_X_y=True, as_frame=True)
        a = LogisticRegression(max_iter=2000).fit(xi, yi)
        b = LogisticRegression(max_iter=2000, C=0.01).fit(xi, yi)
        modelbook.register(a, name="iris", data=xi, target=yi)
        modelbook.register(b, name="iris", data=xi, target=yi)
        out["multiclass"] = modelbook.monitor("iris@1", data=xi, challenger="iris@2")
        yield out
    paths.set_session_home(None)


def test_static_html_survives_the_sanitizer_with_both_distributions(
    results: dict[str, Any],
) -> None:
    result = results["binary"]
    html = mimebundle(result, live=False)["text/html"]
    assert "<svg" not in html and "<script" not in html
    page = read(sanitize(html))
    text = " ".join("".join(page.text).split())
    assert "WORSE" in text and "challenger cancer@2 vs champion cancer@1" in text
    assert (
        "Agreement" in text and f"Quality on {result.comparison.n_labelled} labelled rows" in text
    )
    assert "exact McNemar" in text and "Serving cost" in text
    cells = [c for _, c in page.cells]
    assert "predicted labels differ" in cells and f"{result.comparison.disagreement:.1%}" in cells
    assert "accuracy" in cells and str(result.comparison.n_labelled) in cells
    (img,) = page.images
    assert img["alt"].startswith("score distributions of champion cancer@1 (mean")
    assert "challenger cancer@2" in img["alt"]
    svg = base64.b64decode(img["src"].split(",", 1)[1]).decode()
    # One chart, both versions in its legend.
    assert "champion cancer@1" in svg and "challenger cancer@2" in svg


def test_multiclass_draws_class_counts(results: dict[str, Any]) -> None:
    result = results["multiclass"]
    c = result.comparison
    assert c.distribution["kind"] == "classes" and sum(c.distribution["champion"]) == 150
    assert c.mean_abs_delta is not None  # max probabilities compared
    page = read(sanitize(mimebundle(result, live=False)["text/html"]))
    (img,) = page.images
    assert img["alt"].startswith("predicted classes of champion iris@1 vs challenger iris@2")
    text = " ".join("".join(page.text).split())
    assert "inconclusive" in text and "no labelled rows" in text


def test_text_and_mime_data(results: dict[str, Any]) -> None:
    result = results["binary"]
    bundle = mimebundle(result, live=False)
    text = bundle["text/plain"]
    assert text.startswith("challenger cancer@2 vs champion cancer@1: WORSE (worse: accuracy")
    mime = bundle[MIME_TYPE]
    assert mime["type"] == "challenger_comparison"
    data = mime["data"]
    assert data["verdict"] == "worse" and data["comparison"]["quality"][0]["metric"] == "accuracy"
    assert data["champion"]["target"] == "cancer@1" and data["batch_id"] == result.batch_id


def test_widget_carries_the_static_sections(results: dict[str, Any]) -> None:
    from modelbook.display import widget_bundle
    from modelbook.widgets import ComparisonWidget, widget_for

    result = results["binary"]
    widget = widget_for(result)
    assert isinstance(widget, ComparisonWidget)
    assert "WORSE" in widget.header_html and "Quality on" in widget.sections_html
    assert widget.chart_svg.startswith("<svg") and "challenger cancer@2" in widget.chart_svg
    light = widget.chart_svg
    widget.theme = "dark"
    assert widget.chart_svg != light
    static = mimebundle(result, live=False)
    modelbook.options.display = "widget"
    try:
        bundle = widget_bundle(result, static)
    finally:
        modelbook.options.display = None
    assert bundle is not None and bundle["text/html"] == static["text/html"]
    assert MIME_TYPE in bundle and "application/vnd.jupyter.widget-view+json" in bundle


def test_lab_renderer_is_registered() -> None:
    views = Path(__file__).resolve().parents[2] / "labextension" / "src" / "views"
    index = (views / "index.ts").read_text()
    assert "challenger_comparison: challengerComparison" in index
    source = (views / "comparison.ts").read_text()
    for words in ("Agreement", "Quality on", "histogramChart", "categoryChart", "Runs"):
        assert words in source


@pytest.mark.browser
def test_lab_renderer_draws_the_comparison(
    results: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    """labextension/src/views/comparison.ts (compiled to labextension/lib) drawn in Chromium
    from the saved MIME data alone: verdict, both distributions, quality with n, runs."""
    from views_helpers import lab_views_page

    bundles = {k: mimebundle(results[k], live=False)[MIME_TYPE] for k in ("binary", "multiclass")}
    with lab_views_page(browser, tmp_path / "site", bundles, view="comparison") as page:
        view = page.locator("#binary [data-mb-kind='challenger_comparison']")
        assert view.count() == 1
        text = view.inner_text()
        assert "WORSE" in text and "cancer@2 vs champion cancer@1" in text
        n = results["binary"].comparison.n_labelled
        assert f"Quality on {n} labelled rows" in text and "exact McNemar" in text
        assert view.locator("svg rect").count() > 10  # both histograms drawn
        assert "champion cancer@1" in text and "challenger cancer@2" in text  # the legend
        multi = page.locator("#multiclass [data-mb-kind='challenger_comparison']")
        assert "inconclusive" in multi.inner_text() and multi.locator("svg").count() >= 1
