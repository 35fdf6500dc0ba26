"""Figure (issue 12): champion/challenger on one batch against one monitor run of it.

    python benchmarks/_challenger_figure.py                # 1M rows × 30 columns
    python benchmarks/_challenger_figure.py --rows 20000   # CI size, seconds

Both versions are the same kind of scikit-learn pipeline (one-hot + logistic regression, other
``C``) on the benchmarks' 30 columns, trained on 100k rows; the batch comes with its labels, so
the comparison computes quality per version and the McNemar test. A warm-up run stores both
versions' reference predictions, so both figures are steady-state runs that store what a real
run stores (two runs + comparison vs one run). Target: the challenger run takes ≤ 2.2× one
monitor run (the second model's ``predict`` dominates). ``bench_feedback.py`` calls
:func:`challenger_figure` at its end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _timeline_figure import _labelled, _model  # type: ignore[import-not-found]


def _best(func: Any, repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return best, result


def challenger_figure(args: argparse.Namespace) -> dict[str, float]:
    """Print one monitor run of ``args.rows`` rows, the same run with ``challenger=``, and
    their ratio; returns the figures."""
    import modelbook

    rows = int(getattr(args, "rows", 1_000_000))
    repeat = int(getattr(args, "repeat", 1))
    x_train, y_train = _labelled(min(rows, 100_000), seed=1)
    champion = _model(x_train, y_train)
    challenger = _model(x_train, y_train)
    challenger.set_params(logisticregression__C=0.05).fit(x_train, y_train)
    batch, y = _labelled(rows, seed=3)
    labels = y.to_numpy()
    workdir = getattr(args, "workdir", None)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        home = Path(tmp) / ".modelbook"
        os.environ["MODELBOOK_PROGRESS"] = "never"
        modelbook.register(champion, name="bench", data=x_train, target=y_train, registry=home)
        modelbook.register(challenger, name="bench", data=x_train, target=y_train, registry=home)
        small = batch.iloc[:1_000]
        modelbook.monitor("bench@1", data=small, challenger="bench@2", registry=home)  # warm-up
        single_s, _ = _best(
            lambda: modelbook.monitor("bench@1", data=batch, target=labels, registry=home), repeat
        )
        pair_s, pair = _best(
            lambda: modelbook.monitor(
                "bench@1", data=batch, target=labels, challenger="bench@2", registry=home
            ),
            repeat,
        )
    ratio = pair_s / single_s
    print(
        f"challenger: {rows:,} rows × 30 columns, two versions scored and compared "
        f"({pair.verdict}, n = {pair.comparison.n_labelled:,} labelled): {pair_s:.2f} s; one "
        f"monitor run: {single_s:.2f} s; ratio {ratio:.2f}× (target ≤ 2.2×)"
    )
    return {"challenger_s": pair_s, "single_s": single_s, "ratio": ratio}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="timings: best of")
    challenger_figure(parser.parse_args(argv))


if __name__ == "__main__":
    main()
