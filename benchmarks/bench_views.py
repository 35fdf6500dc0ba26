"""Benchmark: building the drift view and the static bundle for wide monitor reports.

    python benchmarks/bench_views.py                 # 30, 100 and 500 columns (the issue's figures)
    python benchmarks/bench_views.py --columns 30    # the tiny size CI uses

For each width, registers a dataset (``--rows`` rows; four numeric columns for every
categorical one), monitors a batch in which a third of the columns drifted, then times:

* ``drift view``: building the live drift widget (its table rows and the first column's chart);
* ``static bundle``: ``_repr_mimebundle_`` without a frontend: text, the self-contained HTML with
  its inline SVG charts (vl-convert), and the JSON for the MIME renderer;

each as the first call in the process for that width ("cold": the first vl-convert call of the
process also starts its JavaScript engine, ~0.5-0.8 s once) and the median of ``--repeat`` later
calls ("warm"), plus the HTML size. Target: 500 columns in under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _tables(rows: int, columns: int) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    ref: dict[str, Any] = {}
    cur: dict[str, Any] = {}
    cats = np.array([f"v{k}" for k in range(12)])
    for i in range(columns):
        drifted = i % 3 == 0
        if i % 5 == 4:
            ref[f"c{i}"] = cats[rng.integers(0, 12, rows)]
            p = np.r_[np.full(3, 0.2), np.full(9, 0.4 / 9)] if drifted else None
            cur[f"c{i}"] = cats[rng.choice(12, rows, p=p)]
        else:
            ref[f"x{i}"] = rng.normal(0, 1, rows)
            cur[f"x{i}"] = rng.normal(0.5 if drifted else 0, 1, rows)
    return pd.DataFrame(ref), pd.DataFrame(cur)


def _time(func: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def run(columns: int, rows: int, repeat: int, home: Path) -> dict[str, Any]:
    import modelbook
    from modelbook.render import mimebundle
    from modelbook.widgets import widget_for

    ref, cur = _tables(rows, columns)
    name = f"wide{columns}"
    modelbook.register(ref, name=name, registry=home)
    report = modelbook.monitor(f"{name}@1", data=cur, store="none", registry=home)
    assert report.drift is not None
    view_cold, _ = _time(lambda: widget_for(report))
    bundle_cold, bundle = _time(lambda: mimebundle(report, live=False))
    views = [_time(lambda: widget_for(report))[0] for _ in range(repeat)]
    bundles = [_time(lambda: mimebundle(report, live=False))[0] for _ in range(repeat)]
    html = bundle["text/html"]
    return {
        "columns": columns,
        "drifted": len(report.drift.drifted_columns),
        "view_cold": view_cold,
        "view_warm": statistics.median(views),
        "bundle_cold": bundle_cold,
        "bundle_warm": statistics.median(bundles),
        "html_kb": len(html.encode()) / 1024,
        "svgs": html.count("<svg"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--columns", type=int, nargs="+", default=[30, 100, 500])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"drift view and static bundle of a monitor report ({args.rows:,} rows per table)")
    header = (
        f"{'columns':>7} {'drifted':>7} {'view cold':>10} {'view warm':>10} "
        f"{'bundle cold':>12} {'bundle warm':>12} {'view+bundle':>12} {'HTML':>9} {'SVGs':>4}"
    )
    print(header)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.columns:
            r = run(n, args.rows, args.repeat, Path(tmp) / ".modelbook")
            total = r["view_warm"] + r["bundle_warm"]
            worst = max(worst, total) if n >= 500 else worst
            print(
                f"{r['columns']:>7} {r['drifted']:>7} {r['view_cold']:>9.3f}s "
                f"{r['view_warm']:>9.3f}s {r['bundle_cold']:>11.3f}s {r['bundle_warm']:>11.3f}s "
                f"{total:>11.3f}s {r['html_kb']:>6.0f} KB {r['svgs']:>4}"
            )
    if worst:
        verdict = "meets" if worst < 1.0 else "MISSES"
        print(f"500 columns, view + bundle (warm): {worst:.3f} s — {verdict} the < 1 s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
