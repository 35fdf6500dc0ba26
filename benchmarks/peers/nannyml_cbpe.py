"""NannyML CBPE on Parquet files, for benchmarks/bench_estimation.py (run in NannyML's own venv).

    /tmp/nannyml-venv/bin/python benchmarks/peers/nannyml_cbpe.py \
        --reference ref.parquet --analysis ana.parquet --chunk-size 5000 --out out.json

The reference has columns ``score`` (P(positive)), ``y_pred`` and ``y_true``; the analysis
``score`` and ``y_pred``. Timed: ``CBPE.fit(reference)`` + ``CBPE.estimate(analysis)`` (best of
``--repeat``; reading the files and importing NannyML are not timed). Writes JSON: NannyML's
version, the seconds, and per analysis chunk and metric its value, sampling error and confidence
bounds. NannyML cannot share modelbook's environment (its pins), hence the subprocess.
Needs: ``pip install nannyml==0.13.1 statsmodels 'pandas<3'``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--analysis", required=True)
    parser.add_argument("--chunk-size", type=int, required=True)
    parser.add_argument("--metrics", default="roc_auc,accuracy,precision,recall,f1")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)
    import nannyml as nml
    import pandas as pd

    reference = pd.read_parquet(args.reference)
    analysis = pd.read_parquet(args.analysis)
    metrics = args.metrics.split(",")
    best, result = math.inf, None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        cbpe = nml.CBPE(
            y_pred_proba="score",
            y_pred="y_pred",
            y_true="y_true",
            problem_type="classification_binary",
            metrics=metrics,
            chunk_size=args.chunk_size,
        )
        cbpe.fit(reference)
        result = cbpe.estimate(analysis)
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    frame = result.filter(period="analysis").to_df()
    chunks = []
    for _, row in frame.iterrows():
        chunk = {}
        for metric in metrics:
            chunk[metric] = {
                "value": float(row[(metric, "value")]),
                "se": float(row[(metric, "sampling_error")]),
                "lower": float(row[(metric, "lower_confidence_boundary")]),
                "upper": float(row[(metric, "upper_confidence_boundary")]),
            }
        chunk["rows"] = int(row[("chunk", "end_index")] - row[("chunk", "start_index")] + 1)
        chunks.append(chunk)
    with open(args.out, "w") as handle:
        json.dump({"version": nml.__version__, "seconds": best, "chunks": chunks}, handle)


if __name__ == "__main__":
    main()
