"""Figure (issue 12): late labels. ``feedback`` of ``--rows`` labels (default 1M) against a log
of 10 × ``--rows`` stored predictions (10 runs). Targets: ≤ 2 s, peak memory < 1 GB.

Called by ``benchmarks/bench_feedback.py`` (``feedback_figure(args)``); alone::

    python benchmarks/_feedback_figure.py --rows 20000   # CI size

The 10 runs are real monitor runs of a small batch; their prediction logs are written directly
as Parquet (zstd) in the log's format (id int64, predicted int64, score float64, score_class,
row) and recorded through the registry (no need to monitor 10M rows first). Ids are unique
across runs; the labels are a random ``--rows`` of them (≈ 10 % coverage per run), read from a
Parquet file, so every run gets a new realized-quality result. A second call with the same file
is timed too (idempotent: nothing new is stored).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import make_frame, mb, measure

RUNS = 10


def _setup(args: argparse.Namespace) -> tuple[Path, Path]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.linear_model import LogisticRegression

    import modelbook
    from modelbook.registry import Registry
    from modelbook.registry.store import now

    home = Path(args.workdir) / "feedback" / ".modelbook"
    train = make_frame(5_000, seed=1)
    numeric = [c for c in train.columns if not c.startswith("c")][:5]
    y = (train[numeric[0]] > train[numeric[0]].median()).astype(int)
    model = LogisticRegression(max_iter=500).fit(train[numeric], y)
    modelbook.register(model, name="churn", data=train[numeric], target=y, registry=home)
    small = train[numeric].iloc[:200]
    run_ids = [str(modelbook.monitor("churn", data=small, registry=home).run_id)
               for _ in range(RUNS)]  # fmt: skip
    reg = Registry(home)
    rng = np.random.default_rng(7)
    rows = args.rows
    logs = []
    truth = np.empty(RUNS * rows, dtype=np.int64)
    for k, run_id in enumerate(run_ids):
        ids = np.arange(k * rows, (k + 1) * rows, dtype=np.int64)
        score = rng.random(rows)
        predicted = (score > 0.5).astype(np.int64)
        # The truth agrees with the prediction 85 % of the time.
        truth[k * rows : (k + 1) * rows] = np.where(rng.random(rows) < 0.85, predicted,
                                                    1 - predicted)  # fmt: skip
        table = pa.table(
            {
                "id": ids,
                "predicted": predicted,
                "score": score,
                "score_class": pa.nulls(rows, pa.int64()),
                "row": np.arange(rows, dtype=np.int64),
            }
        )
        tmp = reg.objects.temp_path(".parquet")
        pq.write_table(table, tmp, compression="zstd", compression_level=1)
        blob = reg.objects.put_file(tmp)
        logs.append(
            {
                "run_id": run_id,
                "model": "churn",
                "model_version": 1,
                "blob": blob,
                "n_rows": rows,
                "id_column": "customer_id",
                "time_column": None,
                "created_at": now(),
            }
        )
    with reg.write() as con:
        reg._insert_prediction_logs(con, logs)
    chosen = rng.choice(RUNS * rows, size=rows, replace=False)
    labels = Path(args.workdir) / "labels.parquet"
    pd.DataFrame({"customer_id": chosen.astype(np.int64), "churned": truth[chosen]}).to_parquet(
        labels
    )
    return home, labels


def feedback_figure(args: argparse.Namespace) -> dict[str, float]:
    """Time and peak memory of one feedback (and of sending the same file again)."""
    from modelbook.late_labels import feedback

    home, labels = _setup(args)

    def run() -> Any:
        return feedback("churn", labels=str(labels), id="customer_id", target="churned",
                        registry=home)  # fmt: skip

    first, report = measure(run)
    assert report.applied and report.stored_runs == RUNS, report.summary()
    again, repeat = measure(run)
    assert not repeat.applied and repeat.stored_runs == 0
    print(
        f"feedback of {args.rows:,} labels against {RUNS * args.rows:,} stored predictions "
        f"({RUNS} runs): {first.seconds:.2f} s, peak memory +{mb(first.peak_bytes)} "
        f"(targets ≤ 2 s, < 1 GB); the same file again: {again.seconds:.2f} s, nothing stored"
    )
    return {
        "seconds": first.seconds,
        "peak_bytes": float(first.peak_bytes),
        "again_seconds": again.seconds,
    }


if __name__ == "__main__":
    import os
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="labels; predictions ×10")
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one)")
    parsed = parser.parse_args()
    os.environ.setdefault("MODELBOOK_PROGRESS", "never")
    with tempfile.TemporaryDirectory() as scratch:
        parsed.workdir = parsed.workdir or scratch
        feedback_figure(parsed)
