"""NannyML's DataReconstructionDriftCalculator on Parquet files, for
benchmarks/bench_multivariate.py (run in NannyML's own venv).

    /tmp/nannyml-venv/bin/python benchmarks/peers/nannyml_reconstruction.py \
        --reference ref.parquet --analysis ana.parquet --chunk-size 5000 --out out.json

Every column of the files is a feature (string columns are NannyML's categoricals). Timed:
``fit(reference)`` + ``calculate(analysis)`` (best of ``--repeat``; reading the files and
importing NannyML are not timed). Writes JSON: NannyML's version, the seconds, the reference
threshold band and per analysis chunk its reconstruction error and alert. NannyML cannot share
modelbook's environment (its pins), hence the subprocess. Needs ``pip install nannyml==0.13.1``.
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
    columns = list(reference.columns)
    best, result = math.inf, None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        calc = nml.DataReconstructionDriftCalculator(
            column_names=columns, chunk_size=args.chunk_size
        )
        calc.fit(reference)
        result = calc.calculate(analysis)
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    frame = result.filter(period="analysis").to_df()
    key = "reconstruction_error"
    chunks = [
        {
            "value": float(row[(key, "value")]),
            "upper": float(row[(key, "upper_threshold")]),
            "lower": _float(row[(key, "lower_threshold")]),
            "alert": bool(row[(key, "alert")]),
        }
        for _, row in frame.iterrows()
    ]
    out = {"version": nml.__version__, "seconds": best, "chunks": chunks}
    with open(args.out, "w") as handle:
        json.dump(out, handle)


def _float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


if __name__ == "__main__":
    main()
