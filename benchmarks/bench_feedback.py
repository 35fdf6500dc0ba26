"""Benchmark (issue 12): closing the loop. Figures, one section each:

* the prediction log (this file): a 1M-row monitor run with ``id=`` against the same run
  without it, in memory and from a Parquet path. Target: the log adds ≤ 20 %;
* late labels (``benchmarks/_feedback_figure.py:feedback_figure(args)``, when present);
* champion/challenger (``benchmarks/_challenger_figure.py:challenger_figure(args)``, when present).

    python benchmarks/bench_feedback.py                 # 1M rows
    python benchmarks/bench_feedback.py --rows 20000    # CI size, seconds

The batch: 20 float, 5 int and 5 categorical columns plus an int64 ``customer_id``; the model a
binary logistic regression on the numeric columns, trained on 50k rows (a cheap ``predict``, so
the log's share of the run is the largest it gets). The run without ``id=`` gets the batch
without its id column, the run with it the same batch plus shuffled int64 ids (so the log pays
for the extra column and a uniqueness pass that cannot assume sorted ids); interleaved, best of
``--repeat`` (wall time).

Other figure modules may add arguments with ``add_arguments(parser)``; they receive the parsed
``args`` (``rows``, ``repeat``, ``workdir``, and theirs).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import make_frame

FIGURES = (("_feedback_figure", "feedback_figure"), ("_challenger_figure", "challenger_figure"))


def _figure_modules() -> list[tuple[Any, str]]:
    """The other helpers' figure modules that exist (an import check, nothing else)."""
    found = []
    for module, function in FIGURES:
        if importlib.util.find_spec(module) is None:
            print(f"({module}.py not present: its figure is skipped)")
            continue
        found.append((importlib.import_module(module), function))
    return found


def _best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def prediction_log_figure(args: argparse.Namespace) -> dict[str, float]:
    """Monitor ``--rows`` rows with and without ``id=``: the log's cost, in memory and on disk."""
    from sklearn.linear_model import LogisticRegression

    import modelbook

    home = Path(args.workdir) / "predlog" / ".modelbook"
    train = make_frame(50_000, seed=1)
    numeric = [c for c in train.columns if not c.startswith("c")]
    y = (train["f0"] + 0.5 * train["f3"] - train["f3"].mean() > train["f0"].mean()).astype(int)
    with warnings.catch_warnings():  # convergence does not matter for a timing
        warnings.simplefilter("ignore")
        model = LogisticRegression(max_iter=500).fit(train[numeric], y)
    modelbook.register(model, name="churn", data=train[numeric], target=y, registry=home)
    plain_batch = make_frame(args.rows, seed=2, shift=0.1)[numeric]
    ids = np.random.default_rng(3).permutation(args.rows).astype(np.int64) + 10**9
    batch = plain_batch.assign(customer_id=ids)  # shuffled, dense: not the sorted fast path
    plain_path = Path(args.workdir) / "plain.parquet"
    path = Path(args.workdir) / "batch.parquet"
    plain_batch.to_parquet(plain_path)
    batch.to_parquet(path)
    out: dict[str, float] = {}
    keys = plain_batch.assign(customer_id=[f"cust-{i:09d}" for i in ids])  # hashed ids
    for where, data, without_ids in (
        ("memory", batch, plain_batch),
        ("parquet", path, plain_path),
        ("memory, string ids", keys, plain_batch),
    ):

        def plain(data: Any = without_ids) -> None:
            modelbook.monitor("churn", data=data, registry=home)

        def logged(data: Any = data) -> None:
            report = modelbook.monitor("churn", data=data, id="customer_id", registry=home)
            assert report.prediction_log is not None

        plain()  # warm up: imports, the reference predictions cached
        without, with_id = [], []
        for _ in range(args.repeat):
            without.append(_best(plain, 1))
            with_id.append(_best(logged, 1))
        base, logged_s = min(without), min(with_id)
        extra = (logged_s / base - 1) * 100
        key = where.replace(", ", "_").replace(" ", "_")
        out[f"{key}_without_s"] = base
        out[f"{key}_with_id_s"] = logged_s
        out[f"{key}_extra_pct"] = extra
        print(
            f"monitor {args.rows:,} rows with --id vs without ({where}): "
            f"{logged_s:.2f} s vs {base:.2f} s: {extra:+.1f} % (target ≤ +20 %)"
        )
    return out


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("MODELBOOK_PROGRESS", "never")  # figures, not progress bars
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the monitored batch")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one)")
    modules = _figure_modules()
    for module, _ in modules:
        adder = getattr(module, "add_arguments", None)
        if callable(adder):
            adder(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault("MODELBOOK_PROGRESS", "never")
    with tempfile.TemporaryDirectory() as scratch:
        if args.workdir is None:
            args.workdir = scratch
        print("## prediction log")
        prediction_log_figure(args)
        for module, function in modules:
            print(f"## {function}")
            getattr(module, function)(args)


if __name__ == "__main__":
    main()
