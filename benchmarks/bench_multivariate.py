"""Benchmark (issue 14): multivariate drift on a 1M × 30 frame: the PCA check's cost on a monitor
run, its peak memory streaming Parquet, the domain classifier on 50k + 50k rows, the registration
overhead of the PCA statistics, and NannyML's DataReconstructionDriftCalculator side by side.

    python benchmarks/bench_multivariate.py                 # 1M rows (the issue's size)
    python benchmarks/bench_multivariate.py --rows 20000 --sample-rows 5000   # CI size
    python benchmarks/bench_multivariate.py --nannyml-python /tmp/nannyml-venv/bin/python
    python benchmarks/bench_multivariate.py --calibrate 20  # the classifier's AUC threshold

Columns: 20 float (f0 and f1 a correlated pair), 5 int, 5 categorical. The batch is drawn like
the reference; a second batch flips the pair's correlation (every marginal unchanged). Times are
the best of ``--repeat`` runs, "with" and "without" interleaved so that a busy machine slows
both alike (targets: PCA check ≤ +30 % on a monitor run, registration ≤ +15 %, classifier
≤ 10 s). Peak memory of the Parquet stream is measured in a fresh process (VmHWM above the
RSS after imports). ``--calibrate N`` monitors N unchanged 200k-row batches with the domain
classifier (50k + 50k sampled) and prints the AUCs: the default threshold (0.55) sits above
their maximum.

NannyML needs its own virtualenv (its pins): ``python3 -m venv /tmp/nannyml-venv &&
/tmp/nannyml-venv/bin/pip install nannyml==0.13.1``, then pass ``--nannyml-python``. The same
reference and batch go to ``benchmarks/peers/nannyml_reconstruction.py`` as Parquet; its
``fit`` + ``calculate`` (5,000-row chunks, its usual setup) is timed against ours: fitting the
statistics from the reference plus measuring the batch. Without it, the comparison is skipped.
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

PEER = Path(__file__).parent / "peers" / "nannyml_reconstruction.py"
CATEGORIES = [f"cat_{i}" for i in range(12)]


def make_frame(rows: int, seed: int, *, flip: bool = False) -> Any:
    """20 float, 5 int, 5 categorical columns; f1 follows f0 (or its opposite with ``flip``)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i in range(20):
        data[f"f{i}"] = rng.normal(10.0, 2.0, rows)
    data["f1"] = 10.0 + (-0.8 if flip else 0.8) * (data["f0"] - 10.0) + rng.normal(0, 1.2, rows)
    for i in range(5):
        data[f"i{i}"] = rng.poisson(20.0, rows).astype(np.int64)
    p = np.linspace(3.0, 1.0, len(CATEGORIES))
    for i in range(5):
        codes = rng.choice(len(CATEGORIES), size=rows, p=p / p.sum())
        data[f"c{i}"] = pd.Series(np.asarray(CATEGORIES, dtype=object)[codes], dtype="str")
    return pd.DataFrame(data)


def _hwm_kb() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def best_of(funcs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Best wall time of each function, the functions interleaved ``repeat`` times."""
    best = {k: float("inf") for k in funcs}
    for _ in range(repeat):
        for key, func in funcs.items():
            t0 = time.perf_counter()
            func()
            best[key] = min(best[key], time.perf_counter() - t0)
    return best


def registration(frame: Any, repeat: int) -> None:
    """Register the frame with and without the PCA statistics (new names: no dedup)."""
    import modelbook
    import modelbook.stats.multivariate as mv

    original = mv.reference_json
    count = [0]

    def register(with_stats: bool) -> None:
        mv.reference_json = original if with_stats else (lambda *a, **k: None)  # type: ignore[assignment]
        count[0] += 1
        try:
            modelbook.register(frame, name=f"reg-{count[0]}")
        finally:
            mv.reference_json = original  # type: ignore[assignment]

    t = best_of({"without": lambda: register(False), "with": lambda: register(True)}, repeat)
    over = t["with"] / t["without"] - 1
    print(
        f"  register {len(frame):,} × {frame.shape[1]}: {t['without']:.3f} s without the PCA "
        f"statistics, {t['with']:.3f} s with: {over:+.1%}   (target ≤ +15 %)"
    )


def monitor_cost(batch: Any, flipped: Any, repeat: int) -> None:
    import modelbook

    def run(method: str, data: Any = batch) -> Callable[[], Any]:
        return lambda: modelbook.monitor("bench-ref", data=data, store="none", multivariate=method)

    t = best_of({"off": run("off"), "pca": run("pca")}, repeat)
    over = t["pca"] / t["off"] - 1
    print(
        f"  monitor {len(batch):,} rows: {t['off']:.3f} s without, {t['pca']:.3f} s with the "
        f"PCA check: {over:+.1%} ({t['pca'] - t['off']:.3f} s)   (target ≤ +30 %)"
    )
    report = run("both")()
    pca = report.multivariate.pca
    cls = report.multivariate.classifier
    print(
        f"  unchanged batch: error {pca.error:.4f} in [{pca.lower:.4f}, {pca.upper:.4f}] "
        f"({'ALERT' if pca.drifted else 'ok'}); classifier AUC {cls.auc:.4f} ≤ "
        f"{cls.threshold:.3f}? {'ALERT' if cls.drifted else 'ok'}"
    )
    t0 = time.perf_counter()
    report = run("both", flipped)()
    elapsed = time.perf_counter() - t0
    pca, cls = report.multivariate.pca, report.multivariate.classifier
    top = ", ".join(c for c, *_ in pca.contributions[:2])
    print(
        f"  f0/f1 correlation flipped: error {pca.error:.4f} > {pca.upper:.4f}: "
        f"{'ALERT' if pca.drifted else 'missed'} (from {top}); classifier AUC {cls.auc:.3f}: "
        f"{'ALERT' if cls.drifted else 'missed'} (top {cls.importances[0][0]}, "
        f"{cls.importances[1][0]}); whole run {elapsed:.2f} s"
    )
    print(
        f"  domain classifier on {cls.reference_rows:,} + {cls.batch_rows:,} rows: "
        f"{cls.seconds:.2f} s   (target ≤ 10 s)"
    )


STREAM = """
import json, sys, time
import modelbook
t0 = time.perf_counter()
r = modelbook.monitor("bench-ref", data=sys.argv[1], store="none", multivariate=sys.argv[2])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": int(hwm.split()[1]) / 1024,
                  "rows": r.multivariate.pca.rows if r.multivariate else 0}))
"""


def stream_memory(path: Path, tmp: Path) -> None:
    """Monitor a Parquet path (fresh processes) with and without the PCA check, at 1× and 4×
    the rows: the check reads evenly spaced blocks, so its memory does not grow with the file."""
    import duckdb
    import pyarrow.parquet as pq

    longer = tmp / "batch4.parquet"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"COPY (SELECT * FROM read_parquet(['{path}', '{path}', '{path}', '{path}'])) "
        f"TO '{longer}' (FORMAT parquet, ROW_GROUP_SIZE 250000)"
    )
    con.close()
    env = dict(os.environ, MODELBOOK_PROGRESS="never")
    for file in (path, longer):
        out = {}
        for method in ("off", "pca"):
            done = subprocess.run(
                [sys.executable, "-c", STREAM, str(file), method],
                capture_output=True, text=True, check=True, env=env,
            )  # fmt: skip
            out[method] = json.loads(done.stdout.strip().splitlines()[-1])
        rows = int(pq.ParquetFile(file).metadata.num_rows)
        print(
            f"  monitor {rows:,} rows from Parquet: {out['off']['seconds']:.2f} s, peak RSS "
            f"{out['off']['peak_mb']:,.0f} MB without the PCA check; {out['pca']['seconds']:.2f} "
            f"s, {out['pca']['peak_mb']:,.0f} MB with it (measured on "
            f"{out['pca']['rows']:,} rows in blocks)"
        )


def nannyml(python: str, reference: Any, batch: Any, tmp: Path, repeat: int) -> None:
    """NannyML fit + calculate vs our fit (statistics) + measure, on the same files."""
    import pyarrow as pa

    import modelbook.stats.multivariate as mv

    ref_path, ana_path, out = tmp / "nref.parquet", tmp / "nana.parquet", tmp / "nout.json"
    reference.to_parquet(ref_path)
    batch.to_parquet(ana_path)
    ref_table = pa.Table.from_pandas(reference, preserve_index=False)
    bat_table = pa.Table.from_pandas(batch, preserve_index=False)

    def ours() -> Any:
        fitted = mv.PcaReference.from_json(mv.reference_json(ref_table) or "")
        assert fitted is not None
        return mv.pca_drift(fitted, bat_table.to_batches(max_chunksize=65_536))

    best = best_of({"ours": ours}, repeat)["ours"]
    drift = ours()
    done = subprocess.run(
        [python, str(PEER), "--reference", str(ref_path), "--analysis", str(ana_path),
         "--chunk-size", "5000", "--repeat", str(repeat), "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        print(f"  NannyML: failed ({done.stderr.strip().splitlines()[-1:]})")
        return
    peer = json.loads(out.read_text())
    values = [c["value"] for c in peer["chunks"]]
    alerts = sum(c["alert"] for c in peer["chunks"])
    print(
        f"  NannyML {peer['version']} DataReconstructionDriftCalculator (fit + calculate, "
        f"{len(values)} chunks of 5,000): {peer['seconds']:.2f} s; modelbook (fit + measure): "
        f"{best:.2f} s; ratio NannyML / modelbook {peer['seconds'] / best:.1f}×"
    )
    print(
        f"  same data: NannyML's mean chunk error {np.mean(values):.4f} ({alerts} of "
        f"{len(values)} chunks alert), modelbook's batch error {drift.error:.4f} "
        f"({'ALERT' if drift.drifted else 'ok'})"
    )


def calibrate(seeds: int, sample_rows: int) -> None:
    """AUC of unchanged 200k-row batches against a 200k-row reference (50k + 50k sampled)."""
    import modelbook

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / ".modelbook"
        modelbook.register(make_frame(200_000, 1000), name="cal", registry=home)
        aucs = []
        for seed in range(seeds):
            report = modelbook.monitor(
                "cal", data=make_frame(200_000, 2000 + seed), store="none", registry=home,
                multivariate="both", rules={"multivariate": {"sample_rows": sample_rows}},
            )  # fmt: skip
            cls = report.multivariate.classifier
            aucs.append(cls.auc)
            print(f"    seed {seed}: AUC {cls.auc:.4f}  pca {report.multivariate.pca.error:.4f}")
        print(
            f"  calibration: {seeds} unchanged 200k batches, AUC max {max(aucs):.4f}, mean "
            f"{np.mean(aucs):.4f}, sd {np.std(aucs, ddof=1) if seeds > 1 else 0:.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of reference and batch")
    parser.add_argument("--sample-rows", type=int, default=50_000, help="classifier sample/side")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nannyml-python", default=None, help="python of a NannyML venv")
    parser.add_argument("--calibrate", type=int, default=0, metavar="N", help="N seeds at 200k")
    args = parser.parse_args()
    os.environ.setdefault("MODELBOOK_PROGRESS", "never")
    if args.calibrate:
        calibrate(args.calibrate, args.sample_rows)
        return

    import modelbook
    import modelbook.stats.multivariate as mv

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MODELBOOK_HOME"] = str(Path(tmp) / ".modelbook")
        reference = make_frame(args.rows, seed=1)
        batch = make_frame(args.rows, seed=2)
        flipped = make_frame(args.rows, seed=3, flip=True)
        print(f"{args.rows:,} rows × 30 columns (20 float, 5 int, 5 categorical)")
        modelbook.register(reference, name="bench-ref")
        if args.sample_rows != mv.DEFAULT_SAMPLE_ROWS:
            _set_sample_rows(args.sample_rows)
        registration(reference, args.repeat)
        monitor_cost(batch, flipped, args.repeat)
        path = Path(tmp) / "batch.parquet"
        batch.to_parquet(path, row_group_size=250_000)
        stream_memory(path, Path(tmp))
        if args.nannyml_python:
            nannyml(args.nannyml_python, reference, flipped, Path(tmp), args.repeat)
        else:
            print(
                "  NannyML comparison skipped: pass --nannyml-python /tmp/nannyml-venv/bin/python "
                "(python3 -m venv /tmp/nannyml-venv && /tmp/nannyml-venv/bin/pip install "
                "nannyml==0.13.1)"
            )


def _set_sample_rows(rows: int) -> None:
    """Smaller classifier samples for small runs, through the registry's monitor.toml."""
    home = Path(os.environ["MODELBOOK_HOME"])
    (home / "monitor.toml").write_text(f"[monitor.multivariate]\nsample_rows = {rows}\n")


if __name__ == "__main__":
    main()
