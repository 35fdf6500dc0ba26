"""Benchmark: ``modelbook.monitor`` with a 50-value segment column against the unsegmented run.

    python benchmarks/bench_segments.py                  # 1M rows × 30 columns (issue 13)
    python benchmarks/bench_segments.py --rows 20000     # CI size, seconds

The batch has the house benchmark shape (20 float, 5 int, 5 categorical columns;
``_common.make_frame``) plus a ``segment`` column of 50 values (Zipf-like shares, so the
smallest segments hold ~0.3 % of the rows), and one segment shifted. The reference (same shape,
other seed) is registered first. Three figures, in wall and CPU seconds (the CPU time of all
the process's threads moves less with the load of a shared machine); the two steady-state runs
are interleaved and the best of ``--repeat`` each is kept:

* the unsegmented run (``segments=None``);
* the first segmented run, which also profiles the reference's segments from its stored
  Parquet and keeps them (``derived_statistics``): paid once per reference and slice;
* the segmented run with those profiles cached: the steady state, whose ratio to the
  unsegmented run is the issue's figure (target ≤ 3×).

Both runs monitor a *dataset* version (data checks, drift, segments; no model), store the run
(``store='profile'``) and read the same in-memory batch.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import make_frame

N_SEGMENTS = 50


def with_segments(frame: Any, seed: int, *, shift: str | None = None) -> Any:
    """The frame with a 50-value ``segment`` column; ``shift``: that segment's f0 moves by 1 sd."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, N_SEGMENTS + 1) ** 0.8
    names = np.asarray([f"s{k:02d}" for k in range(N_SEGMENTS)], dtype=object)
    codes = rng.choice(N_SEGMENTS, size=len(frame), p=weights / weights.sum())
    out = frame.assign(segment=names[codes])
    out["segment"] = out["segment"].astype("str")
    if shift is not None:
        mask = out["segment"] == shift
        out.loc[mask, "f0"] = out.loc[mask, "f0"] + 1.0
    return out


def timed(func: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds (all threads of this process) of one call, and its value."""
    w0, c0 = time.perf_counter(), time.process_time()
    value = func()
    return time.perf_counter() - w0, time.process_time() - c0, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import modelbook

    home = Path(tempfile.mkdtemp(prefix="bench-segments-")) / ".modelbook"
    try:
        reference = with_segments(make_frame(args.rows, seed=1), seed=2)
        batch = with_segments(make_frame(args.rows, seed=3), seed=4, shift="s20")
        modelbook.register(reference, name="ref", registry=home)

        def run(segments: Any) -> Any:
            return modelbook.monitor(
                "ref@1", data=batch, segments=segments, store="profile", registry=home
            )

        run(None)  # warm-up: imports, first-use caches
        first_wall, first_cpu, _ = timed(lambda: run(["segment"]))
        # Interleaved, best of each: the machine's load moves both sides alike.
        plain, seg = [math.inf, math.inf], [math.inf, math.inf]
        report: Any = None
        for _ in range(args.repeat):
            wall, cpu, _ = timed(lambda: run(None))
            plain = [min(plain[0], wall), min(plain[1], cpu)]
            wall, cpu, report = timed(lambda: run(["segment"]))
            seg = [min(seg[0], wall), min(seg[1], cpu)]
        column = report.segments["columns"][0]
        alerts = [g["value"] for g in column["groups"] if g["status"] == "alert"]
        rows = f"{args.rows:,} rows × 30 columns + a {N_SEGMENTS}-value segment column"
        print(f"monitor, {rows} (best of {args.repeat}, interleaved; wall / CPU seconds)")
        print(f"  unsegmented run:                           {plain[0]:6.2f} s / {plain[1]:6.2f} s")
        print(
            f"  segmented, first run (reference profiled): {first_wall:6.2f} s / {first_cpu:6.2f} s"
        )
        print(f"  segmented, reference profiles cached:      {seg[0]:6.2f} s / {seg[1]:6.2f} s")
        print(
            f"  ratio segmented / unsegmented: {seg[0] / plain[0]:.2f}× wall, "
            f"{seg[1] / plain[1]:.2f}× CPU (target ≤ 3×)"
        )
        print(f"  first-run ratio: {first_wall / plain[0]:.2f}× wall")
        print(
            f"  segments compared: {len(column['groups'])}, alerting: {', '.join(alerts) or 'none'}"
            " (s20 was shifted)"
        )
    finally:
        shutil.rmtree(home.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
