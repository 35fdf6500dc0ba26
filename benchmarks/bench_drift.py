"""Benchmark: profiling and drift against a plain DuckDB scan and scipy per column.

    python benchmarks/bench_drift.py                     # 1M × 30 in memory + 10M-row Parquet
    python benchmarks/bench_drift.py --rows 20000 --parquet-rows 50000   # CI size, seconds

Data: a reference and a batch of N rows × 30 columns (20 float64, 5 int64, 5 string categorical
with 20 values); the batch shifts a third of the columns. Timings are the best of ``--repeats``
wall-clock runs. Memory figures say what they measure:

* "py peak" is tracemalloc's peak during one extra run: Python and numpy allocations only (numpy
  reports to tracemalloc); Arrow and DuckDB buffers are not included.
* Parquet runs happen in a fresh subprocess each; "peak RSS" is that process's VmHWM from
  /proc/self/status (the whole process: interpreter, imports, Arrow and DuckDB buffers; not
  ru_maxrss, which Linux carries over from the parent across exec), printed next to the VmHWM of
  a subprocess that only does the imports.
"""

from __future__ import annotations

import argparse
import gc
import pathlib
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

N_FLOAT, N_INT, N_CAT, N_VALUES = 20, 5, 5, 20


def make_table(n: int, *, shifted: bool, seed: int) -> pa.Table:
    """Reference (shifted=False) or batch (shifted=True: every third column moves)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i in range(N_FLOAT):
        mu, sd = float(i), 1.0 + i / 10
        x = rng.lognormal(0, 0.5, n) * sd + mu if i % 4 == 3 else rng.normal(mu, sd, n)
        if shifted and i % 3 == 0:
            x = x + 0.2 * sd
        cols[f"f{i:02d}"] = x
    for i in range(N_INT):
        lam = 5.0 * (i + 1)
        cols[f"i{i}"] = rng.poisson(lam * (1.1 if shifted and i % 3 == 0 else 1.0), n)
    values = pa.array([f"value_{j:02d}" for j in range(N_VALUES)])
    for i in range(N_CAT):
        p = 1.0 / np.arange(1, N_VALUES + 1)
        p /= p.sum()
        if shifted and i % 3 == 0:
            p = np.roll(p, 1)
        idx = rng.choice(N_VALUES, n, p=p).astype(np.int32)
        cols[f"c{i}"] = pa.DictionaryArray.from_arrays(idx, values).cast(pa.string())
    return pa.table(cols)


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def py_peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def duckdb_scan(table: pa.Table) -> Callable[[], Any]:
    import duckdb

    con = duckdb.connect()
    con.register("batch", table)
    exprs = []
    for f in table.schema:
        q = '"' + f.name + '"'
        exprs.append(f"sum(length({q}))" if pa.types.is_string(f.type) else f"sum({q})")
    sql = f"SELECT {', '.join(exprs)} FROM batch"
    return lambda: con.execute(sql).fetchall()


def scipy_per_column(ref: pa.Table, cur: pa.Table) -> Callable[[], Any]:
    import pandas as pd
    from scipy import stats

    rdf, cdf = ref.to_pandas(), cur.to_pandas()

    def run() -> None:
        for name in rdf.columns:
            a, b = rdf[name], cdf[name]
            if a.dtype.kind in "fi":
                stats.ks_2samp(a.to_numpy(), b.to_numpy())
                stats.wasserstein_distance(a.to_numpy(), b.to_numpy())
            else:
                table = pd.concat([a.value_counts(), b.value_counts()], axis=1).fillna(0)
                stats.chi2_contingency(table.to_numpy().T)

    return run


def profile_while_writing(table: pa.Table) -> None:
    """What registering a dataset costs: its reference profile and its zstd Parquet snapshot."""
    import threading

    import pyarrow.parquet as pq

    from modelbook.stats.profile import profile_table

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "snapshot.parquet"
        writer = threading.Thread(
            target=pq.write_table, args=(table, path), kwargs={"compression": "zstd"}
        )
        writer.start()
        profile_table(table)
        writer.join()


def line(label: str, seconds: float, scan: float, extra: str = "") -> None:
    print(f"  {label:<44} {seconds:8.3f} s   {seconds / scan:7.1f}× scan  {extra}")


def in_memory(rows: int, repeats: int) -> None:
    from modelbook.stats.drift import drift_exact, drift_from_profiles
    from modelbook.stats.profile import profile_table

    print(f"In memory: {rows:,} rows × 30 columns (20 float, 5 int, 5 categorical)")
    t0 = time.perf_counter()
    ref_t = make_table(rows, shifted=False, seed=1)
    cur_t = make_table(rows, shifted=True, seed=2)
    print(f"  generated in {time.perf_counter() - t0:.1f} s")

    scan_s, _ = best_of(duckdb_scan(cur_t), repeats)
    ref_s, ref = best_of(lambda: profile_table(ref_t), repeats)
    batch_s, cur = best_of(lambda: profile_table(cur_t, reference=ref), repeats)
    drift_s, result = best_of(lambda: drift_from_profiles(ref, cur), repeats)
    both_s, _ = best_of(
        lambda: drift_from_profiles(ref, profile_table(cur_t, reference=ref)), repeats
    )
    register_s, _ = best_of(lambda: profile_while_writing(ref_t), repeats)
    exact_s, _ = best_of(lambda: drift_exact(ref_t, cur_t), 1)
    sc = scipy_per_column(ref_t, cur_t)
    scipy_s, _ = best_of(sc, 1 if rows > 200_000 else repeats)

    peak_batch = py_peak_mb(lambda: drift_from_profiles(ref, profile_table(cur_t, reference=ref)))
    peak_ref = py_peak_mb(lambda: profile_table(ref_t))
    print(f"  best of {repeats} (scipy and drift_exact: 1 run above 200k rows)")
    line("plain DuckDB scan of the batch", scan_s, scan_s)
    line("reference profile", ref_s, scan_s, f"py peak {peak_ref:.0f} MB")
    line("reference profile + Parquet write (threads)", register_s, scan_s, "(registration)")
    line("batch profile (on reference bins)", batch_s, scan_s)
    line("drift from the two profiles", drift_s, scan_s)
    line("batch profile + drift", both_s, scan_s, f"py peak {peak_batch:.0f} MB")
    line("drift_exact (raw values, ours)", exact_s, scan_s)
    line("scipy per column (ks+wasserstein+chi2)", scipy_s, scan_s)
    print(f"  scipy / ours (batch profile + drift): {scipy_s / both_s:.0f}×")
    shifted = sum(1 for n in (N_FLOAT, N_INT, N_CAT) for i in range(n) if i % 3 == 0)
    print(
        f"  drifted columns: {len(result.drifted_columns)}/{len(result.columns)} "
        f"(shifted: {shifted}, every third column of each type)"
    )


_CHILD = r"""
import pathlib, pickle, resource, sys, time
mode, path, ref_path = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
import duckdb, numpy, pyarrow
from modelbook.stats.drift import drift_from_profiles
from modelbook.stats.profile import profile_table
t = time.perf_counter()
if mode == "reference":
    prof = profile_table(path)
    extra = ""
elif mode == "batch":
    ref = pickle.loads(pathlib.Path(ref_path).read_bytes())
    prof = profile_table(path, reference=ref)
    result = drift_from_profiles(ref, prof)
    extra = f"drifted {len(result.drifted_columns)}/{len(result.columns)}"
else:
    prof, extra = None, ""
elapsed = time.perf_counter() - t
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child would report its parent's.
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(elapsed, int(hwm) / 1024, extra)
"""


def run_child(mode: str, path: pathlib.Path, ref_path: pathlib.Path) -> tuple[float, float, str]:
    out = (
        subprocess.run(
            [sys.executable, "-c", _CHILD, mode, str(path), str(ref_path)],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
        .split(maxsplit=2)
    )
    return float(out[0]), float(out[1]), out[2].strip() if len(out) > 2 else ""


def parquet(rows: int, ref_rows: int) -> None:
    import pyarrow.parquet as pq

    from modelbook.stats.profile import profile_table

    print(f"Parquet: {rows:,} rows × 30 columns, zstd, streamed by DuckDB (one process per run)")
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "batch.parquet"
        chunk = 1_000_000
        t0 = time.perf_counter()
        writer = None
        for k, start in enumerate(range(0, rows, chunk)):
            part = make_table(min(chunk, rows - start), shifted=True, seed=100 + k)
            if writer is None:
                writer = pq.ParquetWriter(path, part.schema, compression="zstd")
            writer.write_table(part)
        assert writer is not None
        writer.close()
        size = path.stat().st_size / 2**20
        print(f"  wrote {size:.0f} MB in {time.perf_counter() - t0:.1f} s")
        ref_path = pathlib.Path(tmp) / "ref.pickle"
        ref = profile_table(make_table(ref_rows, shifted=False, seed=1))
        ref_path.write_bytes(pickle.dumps(ref))
        _, base_rss, _ = run_child("imports", path, ref_path)
        scan_t = time.perf_counter()
        import duckdb

        con = duckdb.connect()
        cols = ", ".join(
            f"sum(length({f.name}))" if pa.types.is_string(f.type) else f"sum({f.name})"
            for f in pq.read_schema(path)
        )
        con.execute(f"SELECT {cols} FROM read_parquet(?)", [str(path)]).fetchall()
        scan_s = time.perf_counter() - scan_t
        con.close()
        print(f"  plain DuckDB scan of the file          {scan_s:8.3f} s")
        for mode, label in (
            ("batch", "batch profile (reference bins) + drift"),
            ("reference", "reference profile (pilot sample + pass)"),
        ):
            seconds, rss, extra = run_child(mode, path, ref_path)
            print(
                f"  {label:<40} {seconds:8.3f} s   {seconds / scan_s:5.1f}× scan   "
                f"peak RSS {rss:.0f} MB (imports alone {base_rss:.0f} MB) {extra}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parquet-rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}, pyarrow {pa.__version__}")
    in_memory(args.rows, args.repeats)
    if args.parquet_rows:
        parquet(args.parquet_rows, min(args.rows, 1_000_000))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Benchmark process peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
