"""Every result's static HTML still says everything after a strict allow-list sanitizer.

A reviewer opening someone else's notebook sees it untrusted: JupyterLab and Notebook 7 drop
``<style>`` and inline ``<svg>`` (a chart became run-on words: "01234concavity error…") but keep
inline ``style`` attributes and ``<img src="data:image/svg+xml;base64,…">``. This test passes
the HTML of every result kind through nh3 (ammonia) configured like GitHub's sanitizer and
checks that the tables, the images with their ``alt`` text and the status words survive, and that
nothing needed the ``<style>`` block.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelbook
from modelbook.render import mimebundle

TAGS = {
    "table", "thead", "tbody", "tr", "th", "td", "div", "span", "p", "h3", "h4", "ul", "li",
    "details", "summary", "code", "pre", "img", "b", "strong", "em", "br",
}  # fmt: skip
ATTRIBUTES = {"*": {"style"}, "img": {"src", "alt", "width", "height"}, "details": {"open"}}


def sanitize(html: str) -> str:
    import nh3

    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"data", "https"},
        strip_comments=True,
        link_rel=None,
    )


class _Page(HTMLParser):
    """What a reader sees: the text, the images (src, alt) and each cell's inline style."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[dict[str, str]] = []
        self.cells: list[tuple[str, str]] = []  # (style, text)
        self.columns: list[list[tuple[str, str]]] = []  # body cells by column, data tables
        self.tags: list[str] = []
        self._cell: list[Any] | None = None
        self._tables: list[dict[str, Any]] = []  # open tables
        self._column = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "img":
            self.images.append(found)
        if tag == "table":
            self._tables.append({"head": False, "columns": {}})
        if tag == "thead" and self._tables:
            self._tables[-1]["head"] = True
        if tag == "tr":
            self._column = 0
        if tag in ("td", "th"):
            self._cell = [found.get("style", ""), [], tag]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            cell = (self._cell[0], "".join(self._cell[1]).strip())
            self.cells.append(cell)
            if self._tables and self._cell[2] == "td":
                self._tables[-1]["columns"].setdefault(self._column, []).append(cell)
            self._column += 1
            self._cell = None
        if tag == "table" and self._tables:
            table = self._tables.pop()
            if table["head"]:
                self.columns.extend(table["columns"].values())

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell[1].append(data)


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One result of every kind, from a real registry (a model whose batch alerts)."""
    from sklearn.linear_model import LogisticRegression

    import modelbook.registry.paths as paths

    home = tmp_path_factory.mktemp("sanitized") / ".modelbook"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODELBOOK_HOME", str(home))
        paths.set_session_home(None)
        rng = np.random.default_rng(3)
        n = 600
        x = pd.DataFrame(
            {
                "age": rng.integers(18, 80, n).astype(float),
                "income": rng.normal(50_000, 12_000, n),
                "rating": rng.integers(1, 6, n),
                "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            }
        )
        y = pd.Series((x.income + rng.normal(0, 9_000, n) > 50_000).astype(int), name="label")
        features = x[["age", "income", "rating"]]
        out: dict[str, Any] = {}
        out["dataset_version"] = modelbook.register(x, name="customers")
        model = LogisticRegression(max_iter=500).fit(features, y)
        out["model_version"] = modelbook.register(model, name="churn", data=features, target=y)
        batch = features.copy()
        batch["age"] = batch["age"] + 25  # out of range, drifted
        batch["income"] = batch["income"] * 1.6
        out["monitor_report"] = modelbook.monitor("churn@1", data=batch)
        assert out["monitor_report"].status == "alert"
        modelbook.monitor("churn@1", data=features)
        out["history"] = modelbook.history("churn")
        model2 = LogisticRegression(max_iter=500, C=0.1).fit(batch, y)
        modelbook.register(model2, name="churn", data=batch, target=y)
        out["model_diff"] = modelbook.diff("churn@1", "churn@2")
        out["challenger_comparison"] = modelbook.monitor(
            "churn@1", data=features, target=y, challenger="churn@2"
        )
        x2 = x.assign(income=x.income * 1.3, city=np.where(x.index % 4 == 0, "Berlin", x.city))
        modelbook.register(x2, name="customers")
        out["dataset_diff"] = modelbook.diff("customers@1", "customers@2")
        out["listing"] = modelbook.ls()
        out["alias_change"] = modelbook.alias("churn@2", "production")
        out["gc_report"] = modelbook.gc()
        out["check_report"] = modelbook.check()
        # Estimated performance (an evaluation set): its section and the summary's lead.
        cut = n // 3
        modelbook.register(
            model, name="scored", data=features[:cut], target=y[:cut],
            eval_data=features[cut:], eval_target=y[cut:],
        )  # fmt: skip
        out["monitor_estimated"] = modelbook.monitor("scored@1", data=features, target=y)
        yield out
    paths.set_session_home(None)


KINDS = [
    "dataset_version", "model_version", "monitor_report", "history", "model_diff",
    "dataset_diff", "listing", "alias_change", "gc_report", "check_report", "monitor_estimated",
    "challenger_comparison",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_html_needs_no_style_block_and_no_inline_svg(results: dict[str, Any], kind: str) -> None:
    html = mimebundle(results[kind], live=False)["text/html"]
    assert "<svg" not in html, "inline SVG is stripped by the notebook sanitizer"
    assert "class=" not in html.split("</style>", 1)[-1].replace('class="mb"', ""), (
        "meaning must not hang on a class the <style> block styles"
    )
    clean = sanitize(html)
    assert "<style" not in clean
    page = read(clean)
    text = " ".join(page.text)
    # No CSS and no chart labels leak into the text as run-on words.
    assert "{" not in text and "font-family" not in text
    for img in page.images:
        assert img["src"].startswith("data:image/svg+xml;base64,")
        assert len(img.get("alt", "")) > 20, img.get("alt")
        svg = base64.b64decode(img["src"].split(",", 1)[1]).decode()
        assert svg.startswith("<svg") and "<script" not in svg
    # Tables keep their alignment inline: text left, numbers right (in data tables; a
    # key/value list keeps its values left).
    for style, cell in page.cells:
        assert "text-align:" in style, (style, cell)
    for column in page.columns:
        cells = [(style, text) for style, text in column if text]
        if len(cells) < 2:  # one cell does not make a column of numbers
            continue
        if all(re.fullmatch(r"[-+−]?[\d,.]+(e-?\d+)?%?", t) for _, t in cells):
            assert all("text-align:right" in style for style, _ in cells), cells
        if all(re.fullmatch(r"[A-Za-z_][\w .]*", t) for _, t in cells):
            assert all("text-align:left" in style for style, _ in cells), cells


def test_monitor_report_survives_the_sanitizer(results: dict[str, Any]) -> None:
    report = results["monitor_report"]
    before = mimebundle(report, live=False)["text/html"]
    page = read(sanitize(before))
    text = " ".join(page.text)
    assert "ALERT" in text  # the badge's word, not its colour
    assert "Findings" in text and "Data drift:" in text
    assert page.tags.count("table") >= 3
    alts = [img["alt"] for img in page.images]
    assert any(a.startswith("drift decision per column") for a in alts)
    assert "reference vs current distribution of age: drifted" in " ".join(alts)
    # The colour is still there for those who see it (inline, kept by the sanitizer).
    assert 'style="color:#ffffff;background-color:#cf222e' in sanitize(before)
    # Every drift row says its p-value and why.
    rows = [c for s, c in page.cells]
    assert any(c.startswith("effect ") for c in rows)


def test_multivariate_section_survives_the_sanitizer(results: dict[str, Any]) -> None:
    report = results["monitor_report"]
    assert report.multivariate is not None and report.multivariate.pca is not None
    page = read(sanitize(mimebundle(report, live=False)["text/html"]))
    text = " ".join(page.text)
    assert "Multivariate drift:" in text and "Mean reconstruction error" in text
    alts = [img["alt"] for img in page.images]
    band = [a for a in alts if a.startswith("mean reconstruction error of the batch")]
    assert band and "reference band" in band[0]
    headers = [c for s, c in page.cells]
    assert "batch mean squared residual" in headers  # the columns carrying the change


def test_status_words_survive_in_every_face(results: dict[str, Any]) -> None:
    history = read(sanitize(mimebundle(results["history"], live=False)["text/html"]))
    words = [c for _, c in history.cells]
    assert "ALERT" in words and "ok" in words
    assert history.images and history.images[0]["alt"].startswith("share of drifted columns over")
    diff = read(sanitize(mimebundle(results["dataset_diff"], live=False)["text/html"]))
    assert any(img["alt"].startswith("reference vs current distribution of") for img in diff.images)
    assert "DRIFTED" in [c for _, c in diff.cells]


def test_a_page_of_results_reads_without_its_stylesheet(
    results: dict[str, Any], tmp_path: Path
) -> None:
    """The sanitized page, as a reviewer's browser would get it (kept for a look)."""
    parts = [sanitize(mimebundle(results[k], live=False)["text/html"]) for k in KINDS]
    page = "<!doctype html><meta charset=utf-8><body>" + "<hr>".join(parts) + "</body>"
    out = Path(__file__).resolve().parents[2] / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "views-sanitized.html").write_text(page)
    assert page.count("<img") >= 4


def test_estimated_performance_survives_the_sanitizer(results: dict[str, Any]) -> None:
    report = results["monitor_estimated"]
    page = read(sanitize(mimebundle(report, live=False)["text/html"]))
    text = " ".join(page.text)
    roc = report.estimated["roc_auc"]
    assert f"estimated ROC AUC {roc['value']:.3f} ({roc['lower']:.3f}–{roc['upper']:.3f})" in text
    assert "Estimated and realized performance" in text
    cells = [c for _, c in page.cells]
    assert "ROC AUC" in cells and f"{roc['realized']:.3f}" in cells
    assert f"{roc['band_lower']:.3f}–{roc['band_upper']:.3f}" in cells
    assert roc["status"] in cells  # the badge's word
