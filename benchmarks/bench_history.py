"""Benchmark: monitor history over thousands of stored runs (target: < 100 ms per query).

    python benchmarks/bench_history.py              # 5,000 runs (the issue's figure)
    python benchmarks/bench_history.py --runs 200   # the tiny size CI uses

Seeds one registry with a model and N monitor runs spread over a year (a tenth of them for a
second model, so the query has to filter), then times, best and median of repeated calls:
``modelbook.history(name)`` (all runs, built into result objects), with ``since='30d'``,
with ``limit=50``, the text rendering, and the CLI (``modelbook history --json``) end to end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any


def _seed(home: Path, runs: int) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import modelbook
    from modelbook.registry import Registry
    from modelbook.registry.store import now

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = (X["a"] > 0).astype(int)
    for name in ("churn", "other"):
        modelbook.register(
            LogisticRegression().fit(X, y), name=name, data=X, target=y, registry=home
        )
    reg = Registry(home)
    start = now() - timedelta(days=365)
    step = timedelta(days=365) / runs
    rows: list[list[Any]] = []
    for i in range(runs):
        status = "alert" if i % 7 == 0 else ("error" if i % 97 == 0 else "ok")
        began = start + step * i
        rows.append(
            [
                str(uuid.uuid4()), "other" if i % 10 == 0 else "churn", 1, "churn-training@1",
                status, "scheduled" if i % 2 else "interactive", 10_000, float(rng.uniform(0, 0.5)),
                int(status != "ok"),
                json.dumps({"accuracy": float(rng.uniform(0.8, 0.9)), "roc_auc": 0.9}),
                None, "monitoring.ipynb", json.dumps({"batch": f"batch-{i}.parquet"}),
                json.dumps({"checks": ["x" * 2000]}),  # a realistic report size, never read
                began, began + timedelta(seconds=2), "bench",
            ]
        )  # fmt: skip
    # Seeding only: one transaction for all rows (the engine stores runs one at a time).
    with reg.write() as con:
        con.executemany(
            "INSERT INTO monitor_runs (id, target, target_version, reference, status, source, "
            "n_rows, drift_share, n_alerts, metrics, batch_dataset, notebook, parameters, report, "
            "started_at, finished_at, created_by) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def _time(func: Any, repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000, help="monitor runs to store")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per query")
    args = parser.parse_args()

    import modelbook
    from modelbook.render.text import to_text

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / ".modelbook"
        t0 = time.perf_counter()
        _seed(home, args.runs)
        print(f"seeded {args.runs:,} monitor runs in {time.perf_counter() - t0:.1f} s")
        modelbook.history("churn", registry=home)  # warm imports
        cases = {
            "history(all runs)": lambda: modelbook.history("churn", registry=home),
            "history(since='30d')": lambda: modelbook.history("churn", since="30d", registry=home),
            "history(limit=50)": lambda: modelbook.history("churn", limit=50, registry=home),
        }
        print(f"{'query':<24} {'runs':>6} {'best ms':>9} {'median ms':>10}")
        worst = 0.0
        for label, func in cases.items():
            best, median, result = _time(func, args.repeat)
            worst = max(worst, median)
            print(f"{label:<24} {len(result):>6,} {best * 1e3:>9.1f} {median * 1e3:>10.1f}")
        report = modelbook.history("churn", registry=home)
        best, median, _ = _time(lambda: to_text(report), args.repeat)
        print(f"{'text render (100 rows)':<24} {'':>6} {best * 1e3:>9.1f} {median * 1e3:>10.1f}")
        command = [sys.executable, "-m", "modelbook", "--registry", str(home), "history", "churn",
                   "--json"]  # fmt: skip
        best, median, done = _time(
            lambda: subprocess.run(command, capture_output=True, check=True), 3
        )
        n = len(json.loads(done.stdout)["runs"])
        print(f"{'CLI history --json':<24} {n:>6,} {best * 1e3:>9.1f} {median * 1e3:>10.1f}"
              "  (process start included)")  # fmt: skip
        verdict = "PASS" if worst < 0.1 else "FAIL"
        print(f"slowest API query median: {worst * 1e3:.1f} ms (target < 100 ms): {verdict}")


if __name__ == "__main__":
    main()
