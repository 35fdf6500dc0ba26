"""Figure: a timeline (one monitor run per chunk) against one unchunked monitor run of the same
batch, both with performance estimation (issue 11: target ≤ 2×).

    python benchmarks/_timeline_figure.py                 # 1M rows × 30 columns, 10 chunks
    python benchmarks/_timeline_figure.py --rows 20000    # CI size, seconds

The batch has the benchmarks' 30 columns (20 float, 5 int, 5 categorical) and a time column over
as many months as chunks, so ``chunk="month"`` cuts it into ``--chunks`` chunks. The model is a
scikit-learn pipeline (one-hot + logistic regression) registered with an evaluation set, so every
run estimates performance. The reference predictions are stored by a warm-up run, so both figures
are steady-state runs (``store="none"``: nothing written while timing). ``bench_estimation.py``
calls :func:`timeline_figure` at its end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import make_frame  # type: ignore[import-not-found]


def _labelled(rows: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    frame = make_frame(rows, seed=seed)
    rng = np.random.default_rng(seed + 100)
    logit = 0.8 * (frame["f0"] - 0.0) - 0.5 * (frame["f1"] - 1.0) + 0.01 * (frame["i0"] - 50)
    y = pd.Series((rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64), name="label")
    return frame, y


def _model(frame: pd.DataFrame, y: pd.Series) -> Any:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [c for c in frame.columns if c.startswith("c")]
    numeric = [c for c in frame.columns if c not in categorical]
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric)
        ),
        LogisticRegression(max_iter=300),
    ).fit(frame, y)


def _best(func: Any, repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return best, result


def timeline_figure(rows: int, columns: int, chunks: int, *, repeat: int = 1) -> None:
    """Print the time of a ``rows`` × ``columns`` timeline in ``chunks`` monthly chunks with
    estimation, of one unchunked monitor run of the same rows, and their ratio."""
    import modelbook

    if columns != 30:
        print(f"(the benchmark frame has 30 columns; {columns} asked, 30 used)")
    train_rows = min(rows, 100_000)
    x_train, y_train = _labelled(train_rows, seed=1)
    x_eval, y_eval = _labelled(min(rows, 50_000), seed=2)
    model = _model(x_train, y_train)
    batch, _ = _labelled(rows, seed=3)
    months = pd.date_range("2026-01-01", periods=chunks + 1, freq="MS")
    span = (months[-1] - months[0]).total_seconds()
    offsets = np.sort(np.random.default_rng(4).uniform(0, span, rows))
    batch["ts"] = months[0] + pd.to_timedelta(offsets, unit="s")
    plain = batch.drop(columns="ts")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / ".modelbook"
        os.environ["MODELBOOK_PROGRESS"] = "never"
        modelbook.register(
            model, name="bench", data=x_train, target=y_train, eval_data=x_eval,
            eval_target=y_eval, registry=home,
        )  # fmt: skip
        modelbook.monitor("bench", data=plain.iloc[:1_000], registry=home)  # warm-up: stores
        single_s, single = _best(
            lambda: modelbook.monitor("bench", data=plain, store="none", registry=home), repeat
        )
        chunked_s, timeline = _best(
            lambda: modelbook.monitor(
                "bench", data=batch, time="ts", chunk="month", store="none", registry=home
            ),
            repeat,
        )
    estimated = "estimated" if getattr(single, "estimated", None) else "no estimate (!)"
    print(
        f"timeline: {rows:,} rows × 30 columns in {len(timeline)} monthly chunks with "
        f"estimation ({estimated}): {chunked_s:.2f} s; one unchunked monitor run: "
        f"{single_s:.2f} s; ratio {chunked_s / single_s:.2f}× (target ≤ 2×)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1, help="timings: best of")
    args = parser.parse_args(argv)
    timeline_figure(args.rows, args.columns, args.chunks, repeat=args.repeat)


if __name__ == "__main__":
    main()
