"""Helpers for the views tests: fixed drift results (no randomness), tables, Chromium."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelbook.stats.drift import ColumnDrift, DatasetDrift

GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def numeric_column(name: str = "age", *, drifted: bool = True) -> ColumnDrift:
    edges = tuple(float(e) for e in range(20, 70, 5))  # 10 edges → 11 bins
    ref = (0, 5, 9, 12, 14, 15, 14, 12, 9, 6, 4)
    cur = (2, 2, 4, 6, 9, 12, 15, 16, 15, 12, 7)
    return ColumnDrift(
        column=name,
        kind="numeric",
        test="wasserstein",
        statistic=0.31 if drifted else 0.01,
        threshold=0.05,
        p_value=1e-9 if drifted else 0.6,
        drifted=drifted,
        reason="Wasserstein distance in reference standard deviations (default for numeric).",
        stats={"wasserstein": 0.31, "ks": 0.2},
        reference_counts=ref,
        current_counts=cur,
        bin_edges=edges,
    )


def categorical_column(name: str = "plan") -> ColumnDrift:
    return ColumnDrift(
        column=name,
        kind="categorical",
        test="jensenshannon",
        statistic=0.12,
        threshold=0.035,
        p_value=1e-6,
        drifted=True,
        reason="Jensen–Shannon distance of category frequencies (default for categorical).",
        stats={"jensenshannon": 0.12},
        reference_counts=(50, 30, 20, 0),
        current_counts=(30, 30, 25, 15),
        bin_labels=("basic", "pro", "team", "enterprise"),
    )


def untested_column(name: str = "notes") -> ColumnDrift:
    return ColumnDrift(
        column=name,
        kind="numeric",
        test="none",
        statistic=math.nan,
        threshold=math.nan,
        p_value=None,
        drifted=False,
        reason="Not tested: the current data has no finite values.",
        stats={},
        reference_counts=(),
        current_counts=(),
        tested=False,
    )


def _column(name: str, edges: Any, ref: Any, cur: Any, **kw: Any) -> ColumnDrift:
    fields: dict[str, Any] = {
        "kind": "numeric",
        "test": "wasserstein",
        "statistic": 0.01,
        "threshold": 0.05,
        "p_value": 0.6,
        "drifted": False,
        "reason": "Wasserstein distance (default for numeric columns).",
        "stats": {},
        **kw,
    }
    return ColumnDrift(
        column=name,
        reference_counts=tuple(int(v) for v in ref),
        current_counts=tuple(int(v) for v in cur),
        bin_edges=tuple(float(e) for e in edges),
        **fields,
    )


def _point_edges(values: Any) -> list[float]:
    """The profile's edges of a discrete float column: [v, v⁺) per value, gaps between."""
    return sorted({float(v) for v in values} | {math.nextafter(float(v), math.inf) for v in values})


def pixel_column() -> ColumnDrift:
    """An integer-valued float column (sklearn's digits: pixels 0..16), one point bin per value;
    the maximum 16 holds the most rows."""
    edges = _point_edges(range(17))
    ref_values = [30, 8, 5, 4, 4, 4, 5, 6, 6, 7, 8, 9, 10, 12, 14, 18, 40]
    cur_values = [20, 6, 5, 5, 4, 4, 4, 5, 6, 7, 9, 10, 12, 14, 16, 20, 60]
    ref, cur = [0], [0]
    for r, c in zip(ref_values, cur_values, strict=True):
        ref += [r, 0]  # the value's point bin, then the empty gap to the next value
        cur += [c, 0]
    ref[-1], cur[-1] = 0, 0  # the last gap is the bin above the maximum
    return _column("pixel_3_4", edges, ref, cur, statistic=0.061, p_value=0.21)


def tied_max_column() -> ColumnDrift:
    """Profiles written before point bins per value: quantile edges, the last bin
    [16, 16⁺) one float wide (it drew as a blank chart with a y axis up to 1e14)."""
    edges = [0.0, 2.0, 5.0, 8.0, 11.0, 13.0, 15.0, 16.0, math.nextafter(16.0, math.inf)]
    ref = [0, 38, 13, 15, 21, 19, 26, 18, 40, 0]
    cur = [0, 26, 14, 13, 22, 22, 30, 20, 60, 0]
    return _column("pixel_0_3", edges, ref, cur, statistic=0.28, p_value=4e-8, drifted=True)


def rating_column() -> ColumnDrift:
    """An int64 rating 1..5: integer profiles get unit bins [v, v + 1)."""
    edges = [1, 2, 3, 4, 5, 6]
    ref = [0, 107, 146, 259, 288, 200, 0]
    cur = [0, 300, 220, 197, 196, 87, 0]
    return _column("rating", edges, ref, cur, statistic=0.59, p_value=5e-93, drifted=True)


def capped_score_column() -> ColumnDrift:
    """A score in [0.2, 1] capped at 1.0: a fifth of the rows sit exactly on the cap."""
    body = [round(0.2 + 0.04 * k, 2) for k in range(20)]  # 0.2 … 0.96
    edges = [*body, 1.0, math.nextafter(1.0, math.inf)]
    ref = [0, *[4] * 20, 20, 0]
    cur = [0, *[3] * 20, 40, 0]
    return _column("score", edges, ref, cur, statistic=0.27, p_value=1e-35, drifted=True)


def near_constant_column() -> ColumnDrift:
    """One non-zero training value: its effect size is inflated (17.7× the threshold) but the
    p-value says there is nothing to see."""
    edges = _point_edges([0.0, 5.0])
    ref = [0, 999, 0, 1, 0]
    cur = [0, 970, 30, 0, 0]
    return _column("near_constant", edges, ref, cur, statistic=0.885, p_value=0.2)


def out_of_range_column() -> ColumnDrift:
    """A reading in 11–15 in training (the profile's last bin [15, 15⁺) holds the maximum); the
    batch has 10 % above 15 (up to 45) and 2 % below 11."""
    edges = [*(11 + 0.2 * k for k in range(21)), math.nextafter(15.0, math.inf)]
    ref = [0, *[50] * 19, 45, 5, 0]
    cur = [20, *[44] * 19, 44, 0, 100]
    return _column("temperature", edges, ref, cur, statistic=0.4, p_value=1e-13, drifted=True)


def mixed_drift() -> DatasetDrift:
    cols = (
        near_constant_column(),
        rating_column(),
        pixel_column(),
        out_of_range_column(),
        capped_score_column(),
        untested_column(),
    )
    tested = [c for c in cols if c.tested]
    share = sum(c.drifted for c in tested) / len(tested)
    return DatasetDrift(columns=cols, drifted_share=share, share_threshold=0.5, drifted=True)


def fixed_drift() -> DatasetDrift:
    cols = (numeric_column(), categorical_column(), numeric_column("income", drifted=False))
    cols = (*cols, untested_column())
    return DatasetDrift(columns=cols, drifted_share=2 / 3, share_threshold=0.5, drifted=True)


def wide_drift(n_columns: int, *, seed: int = 0) -> DatasetDrift:
    """A drift result over n numeric/categorical columns, a third of them drifted."""
    rng = np.random.default_rng(seed)
    edges = tuple(float(e) for e in np.quantile(rng.normal(size=5000), np.linspace(0, 1, 101)))
    cols = []
    for i in range(n_columns):
        drifted = i % 3 == 0
        if i % 5 == 4:
            labels = tuple(f"v{j}" for j in range(12))
            ref = tuple(int(v) for v in rng.integers(50, 100, 12))
            cur = tuple(int(v) + (40 if drifted and j < 3 else 0) for j, v in enumerate(ref))
            cols.append(
                ColumnDrift(f"cat_{i}", "categorical", "jensenshannon", 0.1 if drifted else 0.01,
                            0.035, 1e-5 if drifted else 0.5, drifted, "default", {},
                            ref, cur, bin_labels=labels)
            )  # fmt: skip
        else:
            ref = tuple(int(v) for v in rng.integers(40, 60, 101))
            shift = 3 if drifted else 0
            cur = tuple(int(v) for v in np.roll(np.asarray(ref), shift))
            cols.append(
                ColumnDrift(f"num_{i}", "numeric", "wasserstein", 0.2 if drifted else 0.01, 0.05,
                            1e-8 if drifted else 0.4, drifted, "default", {}, ref, cur,
                            bin_edges=edges[1:])
            )  # fmt: skip
    share = sum(c.drifted for c in cols) / n_columns
    return DatasetDrift(columns=tuple(cols), drifted_share=share, share_threshold=0.5,
                        drifted=share >= 0.5)  # fmt: skip


def seconds_apart_runs() -> list[dict[str, Any]]:
    """Eight runs one second apart (a loop in a notebook): auc moves by 0.0006 only."""
    start = datetime(2026, 11, 1, 6, 0, 53)
    return [
        {
            "started_at": start + timedelta(seconds=i),
            "status": "alert" if i in (3, 6) else "ok",
            "drift_share": [0.0, 0.05, 0.1, 0.6, 0.1, 0.05, 0.7, 0.1][i],
            "metrics": {"auc": 0.8 + 0.0006 * (i % 2), "f1": 0.61 - 0.01 * (i == 3)},
        }
        for i in range(8)
    ]


def history_runs() -> list[dict[str, Any]]:
    start = datetime(2026, 11, 1, 6, 0, 0)
    return [
        {
            "started_at": start + timedelta(days=i),
            "status": "alert" if i in (3, 5) else "ok",
            "drift_share": [0.0, 0.05, 0.1, 0.6, 0.1, 0.7][i],
            "metrics": {"auc": [0.81, 0.8, 0.8, 0.71, 0.79, 0.69][i]},
        }
        for i in range(6)
    ]


def customer_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two versions of a table with a key: rows added, removed and changed, a column added."""
    rng = np.random.default_rng(7)
    n = 400
    a = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50_000, 12_000, n).round(2),
            "plan": rng.choice(["basic", "pro", "team"], n),
        }
    )
    b = a[~a["id"].isin([3, 10, 11])].copy()  # 3 removed
    b.loc[b["id"].isin(range(20, 30)), "income"] += 1000.0  # 10 changed incomes
    b.loc[b["id"].isin([25, 26, 40]), "plan"] = "enterprise"  # 3 plans (2 overlap)
    b.loc[b["id"] == 41, "age"] = None  # an age becomes null
    extra = pd.DataFrame(
        {"id": [1000, 1001], "age": [30, 40], "income": [1.0, 2.0], "plan": ["pro", "team"]}
    )
    b = pd.concat([b, extra], ignore_index=True)
    b["age"] = b["age"].astype("Int64")
    b["score"] = rng.random(len(b))  # a new column
    return a, b


LAB_LIB = Path(__file__).resolve().parents[2] / "labextension" / "lib"
LAB_SRC = Path(__file__).resolve().parents[2] / "labextension" / "src"


@contextlib.contextmanager
def lab_views_page(
    browser: Any, site: Path, bundles: dict[str, dict[str, Any]], *, view: str
) -> Iterator[Any]:
    """A Chromium page where the compiled lab renderer (labextension/lib) draws each MIME bundle
    (our ``data``, saved as a notebook keeps it) into ``<div id=NAME>``, with no JupyterLab.

    ``view``: the view module the test is about; a missing or stale build fails the test with
    what to run. The page has loaded without a script error when this yields.
    """
    import functools
    import http.server
    import json
    import shutil
    import threading

    built, source = LAB_LIB / "views" / f"{view}.js", LAB_SRC / "views" / f"{view}.ts"
    if not built.exists() or built.stat().st_mtime < source.stat().st_mtime:
        pytest.fail("labextension/lib is missing or stale: run `cd labextension && jlpm build`.")
    modules = sorted(p.relative_to(LAB_LIB).with_suffix("") for p in LAB_LIB.rglob("*.js"))
    imports = {f"/lib/{m}": f"/lib/{m}.js" for m in modules}
    site.mkdir(parents=True, exist_ok=True)
    shutil.copytree(LAB_LIB, site / "lib")
    for name, bundle in bundles.items():
        (site / f"{name}.json").write_text(json.dumps(bundle))
    (site / "index.html").write_text(
        "<!doctype html><html><body><div id='out'></div>"
        f"<script type='importmap'>{json.dumps({'imports': imports})}</script>"
        "<script type='module'>"
        "import { renderBundle } from '/lib/views/index';"
        f"for (const name of {json.dumps(list(bundles))}) {{"
        "  const data = await (await fetch(`/${name}.json`)).json();"
        "  const box = document.createElement('div'); box.id = name;"
        "  box.append(renderBundle(data)); document.getElementById('out').append(box);"
        "}"
        "document.body.dataset.done = '1';"
        "</script></body></html>"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        page.wait_for_selector("body[data-done='1']", timeout=20_000)
        assert errors == []
        yield page
    finally:
        context.close()
        server.shutdown()
