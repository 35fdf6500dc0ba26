"""Benchmark: ``modelbook.monitor`` data drift on a 1M × 30 batch, against a plain DuckDB scan,
scipy per column and (optionally) Evidently; and a 10M-row batch streamed from a Parquet path.

    python benchmarks/bench_monitor.py                      # 1M rows, 10M-row Parquet
    python benchmarks/bench_monitor.py --rows 20000 --parquet-rows 50000   # CI size, seconds
    python benchmarks/bench_monitor.py --evidently          # needs evidently (pandas<3)

Columns: 20 float, 5 int, 5 categorical; a third of them shifted in the batch. The batch is
monitored with its string columns as Arrow strings (pandas 3's ``str``) and as object dtype
(pandas 2, most loaders), interleaved, and the ratio printed (issue 10: target ≤ 1.3×). The reference
(same size as the batch) is registered first, so its profile is stored; monitoring a *dataset*
ref runs the data checks and drift without a model. Each figure is the best of ``--repeat``
runs (wall time) and the peak resident memory above the baseline during the best run
(Linux: the peak is reset through /proc/self/clear_refs before each run). The Parquet run happens
in a subprocess, so its peak RSS is the whole process's.

Evidently 0.7 needs pandas < 3, so it cannot share modelbook's environment; run this script in
a separate virtualenv with ``pip install -e . 'pandas<3' evidently`` and pass ``--evidently``.
Without evidently installed the comparison is skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

N_FLOAT, N_INT, N_CAT = 20, 5, 5
CATEGORIES = [f"cat_{i}" for i in range(12)]


def make_frame(rows: int, seed: int, *, shifted: bool) -> Any:
    """20 float, 5 int and 5 categorical columns; with ``shifted``, a third of them move."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i in range(N_FLOAT):
        x = rng.normal(10.0, 2.0, rows)
        if shifted and i % 3 == 0:
            x = x + 0.4 if i % 2 == 0 else 10.0 + (x - 10.0) * 1.3
        data[f"f{i}"] = x
    for i in range(N_INT):
        lam = 20.0 + (3.0 if shifted and i % 3 == 0 else 0.0)
        data[f"i{i}"] = rng.poisson(lam, rows).astype(np.int64)
    base = np.linspace(3.0, 1.0, len(CATEGORIES))
    for i in range(N_CAT):
        p = base / base.sum()
        if shifted and i % 3 == 0:
            p = p.copy()
            p[0] -= 0.06
            p[-1] += 0.06
        codes = rng.choice(len(CATEGORIES), size=rows, p=p)
        data[f"c{i}"] = pd.Series(np.asarray(CATEGORIES, dtype=object)[codes], dtype="str")
    return pd.DataFrame(data)


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def measure(func: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best wall time (s) and the peak RSS increase (MB) of the best run."""
    best, best_mem = float("inf"), 0.0
    for _ in range(repeat):
        _reset_peak()
        base = _rss_kb("VmRSS:")
        t0 = time.perf_counter()
        func()
        elapsed = time.perf_counter() - t0
        peak = _rss_kb("VmHWM:")
        if elapsed < best:
            best, best_mem = elapsed, max(0.0, (peak - base) / 1024)
    return best, best_mem


def duckdb_scan(frame: Any) -> Callable[[], Any]:
    import duckdb

    numeric = [c for c in frame.columns if not c.startswith("c")]
    cats = [c for c in frame.columns if c.startswith("c")]
    sql = (
        "SELECT "
        + ", ".join([f'sum("{c}")' for c in numeric] + [f'min("{c}")' for c in cats])
        + " FROM frame"
    )

    def run() -> Any:
        con = duckdb.connect()
        con.register("frame", frame)
        out = con.execute(sql).fetchall()
        con.close()
        return out

    return run


def scipy_drift(ref: Any, cur: Any) -> Callable[[], Any]:
    from scipy import stats

    def run() -> Any:
        out = {}
        for c in ref.columns:
            if c.startswith("c"):
                r = ref[c].value_counts()
                k = cur[c].value_counts().reindex(r.index, fill_value=0)
                expected = r / r.sum() * k.sum()
                out[c] = stats.chisquare(k, expected).pvalue
            else:
                a, b = ref[c].to_numpy(), cur[c].to_numpy()
                out[c] = (stats.ks_2samp(a, b).pvalue, stats.wasserstein_distance(a, b))
        return out

    return run


def evidently_drift(ref: Any, cur: Any) -> Callable[[], Any] | None:
    try:
        from evidently import Report  # type: ignore[import-not-found]
        from evidently.presets import DataDriftPreset  # type: ignore[import-not-found]
    except Exception as exc:  # not installed, or broken by pandas 3
        print(f"  evidently: skipped ({type(exc).__name__}: {str(exc)[:80]}); see the docstring")
        return None

    def run() -> Any:
        return Report([DataDriftPreset()]).run(cur, ref)

    return run


def parquet_run(home: Path, path: Path) -> dict[str, float]:
    """Monitor a Parquet path in a fresh process: wall time and the process's peak RSS."""
    code = (
        "import json, time, modelbook\n"
        "t0 = time.perf_counter()\n"
        f"r = modelbook.monitor('bench-ref', data={str(path)!r}, store='none', "
        f"registry={str(home)!r})\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(json.dumps({'seconds': time.perf_counter() - t0, 'status': r.status, "
        "'drifted': len(r.drift.drifted_columns), 'peak_rss_mb': int(hwm.split()[1]) / 1024}))\n"
    )
    env = dict(os.environ, MODELBOOK_PROGRESS="never")
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    _, status, _usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"parquet run failed: {out}")
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def parquet_scan(path: Path) -> dict[str, float]:
    """A plain DuckDB scan of every column of the file, in a fresh process (for the ratio)."""
    code = (
        "import duckdb, json, time\n"
        f"path = {str(path)!r}\n"
        "con = duckdb.connect()\n"
        "cols = con.sql(f\"SELECT * FROM read_parquet('{path}')\").columns\n"
        "types = con.sql(f\"SELECT * FROM read_parquet('{path}')\").types\n"
        "agg = ', '.join(f'sum(length(\"{c}\"))' if str(t) == 'VARCHAR' else f'sum(\"{c}\")' "
        "for c, t in zip(cols, types))\n"
        "t0 = time.perf_counter()\n"
        "con.execute(f\"SELECT {agg} FROM read_parquet('{path}')\").fetchall()\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(json.dumps({'seconds': time.perf_counter() - t0, "
        "'peak_rss_mb': int(hwm.split()[1]) / 1024}))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    _, status, _usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"parquet scan failed: {out}")
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def strings(home: Path, cur: Any, repeat: int) -> None:
    """monitor (store='none') with the batch's 5 string columns as Arrow strings and as object
    dtype, interleaved so that a loaded machine slows both alike; best of ``repeat``."""
    from _common import with_object_strings

    import modelbook

    variants = {
        "Arrow strings (str)": cur,
        "object strings": with_object_strings(cur),
        "object, one str per cell": with_object_strings(cur, per_cell=True),
    }
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):
        for label, data in variants.items():
            t, mb = measure(
                lambda data=data: modelbook.monitor(
                    "bench-ref", data=data, store="none", registry=home
                ),
                1,
            )
            if label not in best or t < best[label][0]:
                best[label] = (t, mb)
    base = best["Arrow strings (str)"][0]
    print(f"  monitor, 5 string columns as (best of {repeat}):")
    for label, (t, mb) in best.items():
        target = "   (target ≤ 1.3×)" if "object" in label else ""
        print(f"    {label:<26} {t:7.3f} s  {mb:7.1f} MB   {t / base:4.2f}× Arrow strings{target}")


def write_parquet(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunk = 1_000_000
    writer = None
    try:
        for start in range(0, rows, chunk):
            frame = make_frame(min(chunk, rows - start), seed=100 + start // chunk, shifted=True)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of reference and batch")
    parser.add_argument("--parquet-rows", type=int, default=10_000_000, help="0 to skip")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--evidently", action="store_true", help="also time Evidently")
    parser.add_argument("--no-scipy", action="store_true", help="skip the scipy comparison")
    args = parser.parse_args()
    os.environ.setdefault("MODELBOOK_PROGRESS", "never")

    import modelbook

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / ".modelbook"
        ref = make_frame(args.rows, seed=1, shifted=False)
        cur = make_frame(args.rows, seed=2, shifted=True)
        modelbook.register(ref, name="bench-ref", registry=home)
        print(f"{args.rows:,} rows × {ref.shape[1]} columns (20 float, 5 int, 5 categorical)")

        def run(store: str) -> Callable[[], Any]:
            return lambda: modelbook.monitor("bench-ref", data=cur, store=store, registry=home)

        report = run("none")()
        shifted = sorted(report.drift.drifted_columns) if report.drift else []
        print(f"  drifted columns found: {len(shifted)} ({', '.join(shifted)})")
        scan_s, scan_mb = measure(duckdb_scan(cur), args.repeat)
        print(f"  DuckDB plain scan:              {scan_s:7.3f} s  {scan_mb:7.1f} MB")
        for store in ("none", "profile"):
            t, mb = measure(run(store), args.repeat)
            print(
                f"  monitor drift (store={store:<7}): {t:7.3f} s  {mb:7.1f} MB"
                f"   {t / scan_s:5.1f}× the scan"
            )
            if store == "none":
                none_s = t
        strings(home, cur, args.repeat)
        if not args.no_scipy:
            t, mb = measure(scipy_drift(ref, cur), args.repeat)
            print(
                f"  scipy per column:               {t:7.3f} s  {mb:7.1f} MB"
                f"   {t / scan_s:5.1f}× the scan, {t / none_s:5.1f}× monitor"
            )
        if args.evidently:
            func = evidently_drift(ref, cur)
            if func is not None:
                t, mb = measure(func, 1)
                print(
                    f"  Evidently DataDriftPreset:      {t:7.3f} s  {mb:7.1f} MB"
                    f"   {t / scan_s:5.1f}× the scan, {t / none_s:5.1f}× monitor"
                )
        if args.parquet_rows:
            path = Path(tmp) / "batch.parquet"
            write_parquet(path, args.parquet_rows)
            size = path.stat().st_size / 2**20
            scan = parquet_scan(path)
            result = parquet_run(home, path)
            print(
                f"  {args.parquet_rows:,} rows from Parquet ({size:,.0f} MB): "
                f"{result['seconds']:.2f} s, peak RSS {result['peak_rss_mb']:,.0f} MB "
                f"(whole process), {result['drifted']} columns drifted; DuckDB scan of the "
                f"file {scan['seconds']:.2f} s ({result['seconds'] / scan['seconds']:.1f}×), "
                f"peak RSS {scan['peak_rss_mb']:,.0f} MB"
            )


if __name__ == "__main__":
    main()
