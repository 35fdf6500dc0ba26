"""Running the model on a batch: predictions, serving cost, and the reference predictions.

What is compared for prediction drift
-------------------------------------
* binary classifiers with ``predict_proba``: the predicted probability of the positive class
  (``classes_[1]``), a numeric column. Scores move before labels flip, so drift in the score is
  seen earlier than drift in the predicted class;
* other classifiers: the predicted class, as a categorical column;
* regressors: the predicted value.

Memory
------
An in-memory batch is converted to pandas once (only the model's input columns). A Parquet/CSV
path is streamed by DuckDB in record batches of :data:`CHUNK_ROWS` rows, each converted and
predicted on its own, so memory holds one chunk of inputs plus the predictions (8 bytes per row)
— never the whole file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from modelbook.errors import DataError

__all__ = [
    "CHUNK_ROWS",
    "Predictions",
    "input_columns",
    "predict_batches",
    "task_of",
]

CHUNK_ROWS = 65_536
_LATENCY_SAMPLES = 10
_LATENCY_BUDGET_S = 0.25  # stop sampling one-row latency after this long (≥ 3 samples)
_MAX_TIMED_CHUNKS = 20


@dataclass
class Predictions:
    """Predictions of one model over one table, with timings of the ``predict`` calls."""

    labels: npt.NDArray[Any]  # predict() output
    scores: npt.NDArray[np.float64] | None  # P(positive class) for binary classifiers
    proba: npt.NDArray[np.float64] | None = None  # predict_proba() of a multiclass model, if asked
    chunk_seconds: list[float] = field(default_factory=list)
    chunk_rows: list[int] = field(default_factory=list)
    single_row_seconds: list[float] = field(default_factory=list)

    @property
    def monitored(self) -> npt.NDArray[Any]:
        """The values prediction drift compares (see the module docstring)."""
        return self.scores if self.scores is not None else self.labels

    def serving(self) -> dict[str, float]:
        """Serving cost: single-row request latency and batch throughput."""
        out: dict[str, float] = {}
        total = sum(self.chunk_seconds)
        rows = sum(self.chunk_rows)
        if total > 0 and rows:
            out["rows_per_second"] = rows / total
            per_row = np.asarray(self.chunk_seconds) / np.asarray(self.chunk_rows) * 1e6
            out["batch_us_per_row_p50"] = float(np.percentile(per_row, 50))
            out["batch_us_per_row_p95"] = float(np.percentile(per_row, 95))
        if self.single_row_seconds:
            ms = np.asarray(self.single_row_seconds) * 1e3
            out["latency_ms_p50"] = float(np.percentile(ms, 50))
            out["latency_ms_p95"] = float(np.percentile(ms, 95))
        return out


def task_of(model: object) -> str:
    """'binary', 'multiclass' or 'regression' (from ``classes_`` / ``_estimator_type``)."""
    classes = getattr(model, "classes_", None)
    if classes is None and getattr(model, "_estimator_type", None) != "classifier":
        return "regression"
    if (
        classes is not None
        and len(classes) == 2
        and callable(getattr(model, "predict_proba", None))
    ):
        return "binary"
    return "multiclass"


def input_columns(signature: dict[str, Any] | None, available: Sequence[str]) -> list[str]:
    """The columns the model takes, in its training order."""
    if signature:
        names = signature.get("feature_names_in") or [c["name"] for c in signature["columns"]]
        return [str(n) for n in names]
    return list(available)


def _frame(table: Any, columns: list[str], named: bool) -> Any:
    frame = table.select(columns).to_pandas()
    return frame if named else frame.to_numpy()


def _chunks(table: Any, columns: list[str], rows: int) -> Iterator[Any]:
    for start in range(0, table.num_rows, rows):
        yield table.slice(start, rows)


def _path_chunks(path: Path, kind: str, columns: list[str]) -> Iterator[Any]:
    import duckdb
    import pyarrow as pa

    from modelbook.capture.datasets import duckdb_scan

    con = duckdb.connect()
    try:
        cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        reader = con.sql(f"SELECT {cols} FROM {duckdb_scan(path, kind)}").to_arrow_reader(
            CHUNK_ROWS
        )
        for batch in reader:
            yield pa.Table.from_batches([batch])
    finally:
        con.close()


def predict_batches(
    model: Any,
    *,
    table: Any = None,
    path: Path | None = None,
    file_kind: str = "parquet",
    columns: list[str],
    tick: Callable[[int], None] | None = None,
    proba: bool = False,
) -> Predictions:
    """Predict every row of ``table`` (Arrow) or the file at ``path``, chunk by chunk.

    ``proba``: also keep a multiclass model's ``predict_proba`` matrix (for quality metrics such
    as ``roc_auc_ovr``; 8 bytes per row and class). A ``predict_proba`` that fails leaves it out.
    Raises whatever ``predict`` raises; the caller records it as a failed check.
    """
    named = getattr(model, "feature_names_in_", None) is not None or _wants_frame(model)
    task = task_of(model)
    labels: list[npt.NDArray[Any]] = []
    scores: list[npt.NDArray[np.float64]] = []
    matrices: list[npt.NDArray[np.float64]] | None = (
        []
        if proba and task == "multiclass" and callable(getattr(model, "predict_proba", None))
        else None
    )
    out = Predictions(labels=np.empty(0), scores=None)
    if table is not None:
        n = table.num_rows
        size = max(1_000, math.ceil(n / _MAX_TIMED_CHUNKS)) if n > CHUNK_ROWS else n
        source: Iterator[Any] = _chunks(table, columns, size)
    else:
        assert path is not None
        source = _path_chunks(path, file_kind, columns)
    first: Any = None
    for chunk in source:
        x = _frame(chunk, columns, named)
        if first is None:
            first = x
        t0 = time.perf_counter()
        y = np.asarray(model.predict(x))
        out.chunk_seconds.append(time.perf_counter() - t0)
        out.chunk_rows.append(chunk.num_rows)
        if y.shape[0] != chunk.num_rows:
            raise DataError(
                f"predict() returned {y.shape[0]} values for {chunk.num_rows} rows; "
                "the model must return one prediction per row."
            )
        labels.append(y.reshape(chunk.num_rows, -1)[:, 0] if y.ndim > 1 else y)
        if task == "binary":
            scores.append(np.asarray(model.predict_proba(x), dtype=np.float64)[:, 1])
        if matrices is not None:
            matrices = _with_proba(matrices, model, x)
        if tick is not None:
            tick(chunk.num_rows)
    if first is not None:
        out.single_row_seconds = _single_row_latency(model, first)
    out.labels = np.concatenate(labels) if labels else np.empty(0)
    out.scores = np.concatenate(scores) if scores else None
    out.proba = np.concatenate(matrices) if matrices else None
    return out


def _with_proba(
    matrices: list[npt.NDArray[np.float64]], model: Any, x: Any
) -> list[npt.NDArray[np.float64]] | None:
    """One more chunk of ``predict_proba``, or None (given up) when the model cannot give it."""
    try:
        matrix = np.asarray(model.predict_proba(x), dtype=np.float64)
    except Exception:  # the model is user code: without probabilities, fewer metrics
        return None
    if matrix.ndim != 2 or matrix.shape[0] != len(x):
        return None
    matrices.append(matrix)
    return matrices


def _wants_frame(model: Any) -> bool:
    """Pipelines with column transformers take DataFrames even without feature_names_in_."""
    return type(model).__module__.startswith("sklearn.pipeline") or hasattr(model, "transformers")


def _single_row_latency(model: Any, x: Any) -> list[float]:
    """Latency of one-row ``predict`` calls (what a serving endpoint pays per request)."""
    n = len(x)
    if n == 0:
        return []
    picks = np.linspace(0, n - 1, num=min(_LATENCY_SAMPLES, n)).astype(int)
    times: list[float] = []
    for i in picks:
        row = x.iloc[[int(i)]] if hasattr(x, "iloc") else x[int(i) : int(i) + 1]
        t0 = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - t0)
        if len(times) >= 3 and sum(times) > _LATENCY_BUDGET_S:
            break
    return times


def prediction_table(values: npt.NDArray[Any], *, categorical: bool) -> Any:
    """The monitored predictions as a one-column Arrow table named ``prediction``."""
    import pyarrow as pa

    if not categorical and values.dtype.kind in "fiu":
        array = pa.array(np.asarray(values, dtype=np.float64))
    elif values.dtype.kind == "b":
        array = pa.array(values.astype(str))
    else:
        array = pa.array([str(v) for v in values.tolist()])
    return pa.table({"prediction": array})
