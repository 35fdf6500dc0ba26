"""The prediction log of a monitor run: each row's id, prediction and score, kept for late labels.

``monitor(..., id="customer_id")`` keeps, per row of the batch, what the model said about that
entity, so labels that arrive days later can be joined to it (:mod:`modelbook.prediction_log`). One run's
log is one Parquet (zstd) blob in the content store, never rows of the metadata tables; its
columns, in order:

* ``id``: the id column's values, int64 or string (float ids are accepted only when every value
  is a whole number, and then stored as int64);
* ``predicted``: the predicted label (the model's class type) or value (float64);
* ``score``: float64: P(``classes_[1]``) for a binary classifier, the highest probability for a
  multiclass one, the value for a regressor; null when the model gives no probabilities;
* ``score_class``: the class of the highest probability (multiclass), else null;
* ``time``: timestamp[us, UTC], only when the run was given a time column (``time=``);
* ``row``: int64, the row's position in the batch.

Bad ids are a :class:`~modelbook.errors.DataError` before anything is written: an unknown column,
nulls, NaN, nested values (lists, structs), or an id that occurs twice in one batch (a label
could not say which of the two predictions it belongs to).

Cost: the predictions are already computed; the log adds reading one column (zero copy from an
in-memory batch, one DuckDB column scan of a file), a hash pass for duplicates and the Parquet
write, well under the 20 % budget of a 1M-row run (benchmarks/bench_feedback.py).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelbook.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa

    from modelbook.capture.datasets import TableSource
    from modelbook.monitoring.context import ModelRun, RunContext
    from modelbook.registry import Registry

__all__ = [
    "LogInputs",
    "StagedLog",
    "attach",
    "chunk_inputs",
    "for_timeline",
    "log_of_run",
    "log_table",
    "stage",
    "start",
]

_SHOWN = 5  # duplicate ids named in the error


@dataclass(frozen=True)
class LogInputs:
    """What a run logs per row besides the model's answer: the ids and, when given, the times."""

    id_column: str
    ids: Any  # pyarrow Array: int64 or string, no nulls, unique (None: a timeline's marker)
    time_column: str | None = None
    times: Any = None  # pyarrow Array of timestamp[us, UTC] (None: no time column)


@dataclass(frozen=True)
class StagedLog:
    """A run's log, written and staged in the object store (installed with the run row)."""

    blob: str
    n_rows: int
    id_column: str
    time_column: str | None

    def summary(self) -> dict[str, Any]:
        """``MonitorReport.prediction_log``."""
        return {"rows": self.n_rows, "id_column": self.id_column, "blob": self.blob}

    def row(self, run_id: str, model: str, version: int, created_at: datetime) -> dict[str, Any]:
        """The ``prediction_logs`` row naming this blob."""
        return {
            "run_id": run_id,
            "model": model,
            "model_version": version,
            "blob": self.blob,
            "n_rows": self.n_rows,
            "id_column": self.id_column,
            "time_column": self.time_column,
            "created_at": created_at,
        }


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_column(source: TableSource, column: str) -> Any:
    """One batch column as a single Arrow array (zero copy in memory; one column scan of a file)."""
    if source.table is not None:
        return source.table.column(column).combine_chunks()
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    assert source.path is not None
    if source.kind == "parquet":  # one column chunk per row group: no scan of the rest
        import pyarrow.parquet as pq

        try:
            return pq.read_table(source.path, columns=[column]).column(0).combine_chunks()
        except (OSError, ValueError, KeyError):
            pass  # a layout pyarrow does not read as DuckDB does (e.g. a folder): DuckDB says why
    con = duckdb.connect()
    try:
        sql = f"SELECT {_quoted(column)} FROM {duckdb_scan(source.path, source.kind)}"
        table = con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise DataError(f"cannot read {source.label}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()
    return table.column(0).combine_chunks()


def checked_ids(values: Any, column: str) -> Any:
    """The ids as int64 or string, or a one-line :class:`DataError` saying what is wrong."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_dictionary(kind):
        values = values.cast(kind.value_type)
        kind = values.type
    if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        raise DataError(
            f"id column {column!r} holds {kind} values, which cannot identify a row: "
            "use a column of integers or strings."
        )
    if pa.types.is_floating(kind):
        # pandas NaN arrives as null in Arrow: both are the missing ids of a float column.
        nan = int(pc.sum(pc.is_nan(values)).as_py() or 0) + values.null_count
        if nan:
            raise DataError(
                f"id column {column!r} holds floats with {nan:,} NaN: ids must be integers or "
                "strings; drop or fill those rows (a pandas integer column with missing values "
                "becomes float)."
            )
    nulls = values.null_count
    if nulls:
        raise DataError(
            f"id column {column!r} has {nulls:,} null ids: every logged row needs an id; "
            "drop or fill those rows."
        )
    if pa.types.is_floating(kind):
        whole = pc.all(pc.equal(values, pc.floor(values))).as_py()
        if not whole:
            raise DataError(
                f"id column {column!r} holds fractional floats: ids must be integers or strings."
            )
        values = values.cast(pa.int64())
    elif pa.types.is_integer(kind):
        values = values.cast(pa.int64())
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        values = values.cast(pa.string())
    else:
        raise DataError(
            f"id column {column!r} holds {kind} values: ids must be integers or strings."
        )
    if _unique_ints(values):  # the common case of generated ids: no hash table needed
        return values
    distinct = _distinct(values)
    if distinct != len(values):
        counts = pc.value_counts(values)
        repeated = counts.filter(pc.greater(counts.field("counts"), 1))
        shown = ", ".join(repr(v) for v in repeated.field("values")[:_SHOWN].to_pylist())
        more = f" and {len(repeated) - _SHOWN:,} more" if len(repeated) > _SHOWN else ""
        raise DataError(
            f"id column {column!r} has {len(repeated):,} ids that occur more than once "
            f"({len(values) - distinct:,} extra rows), e.g. {shown}{more}: ids must be unique "
            "within a batch; deduplicate it first."
        )
    return values


def _distinct(values: Any) -> int:
    """How many distinct ids: DuckDB's parallel hash aggregate for strings (about 4× faster than
    ``pc.unique`` on 1M strings here, and the hash is the cost), pyarrow's for integers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(values.type):
        return len(pc.unique(values))
    import duckdb

    con = duckdb.connect()
    try:
        con.register("ids", pa.table({"id": values}))
        row = con.execute("SELECT count(DISTINCT id) FROM ids").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def _unique_ints(values: Any) -> bool:
    """Whether int64 ids are known unique by a fast path: strictly increasing, or (dense ids,
    the usual generated customer numbers) every count of a bincount ≤ 1. False: not known."""
    import numpy as np
    import pyarrow as pa

    if not pa.types.is_int64(values.type) or len(values) < 2:
        return False
    ids = values.to_numpy(zero_copy_only=False)
    if bool(np.all(ids[1:] > ids[:-1])):
        return True
    low, high = int(ids.min()), int(ids.max())
    if high - low >= 4 * len(ids):  # sparse ids: the hash table of pc.unique is cheaper
        return False
    return bool(np.bincount(ids - low).max() <= 1)


def _checked_times(values: Any, column: str) -> Any:
    """Timestamps as timestamp[us, UTC]: naive times are read as UTC; dates as midnight UTC."""
    import pyarrow as pa

    kind = values.type
    if pa.types.is_date(kind):
        values = values.cast(pa.timestamp("us"))
        kind = values.type
    if not pa.types.is_timestamp(kind):
        raise DataError(
            f"time column {column!r} holds {kind}, not dates or times: convert it first "
            f"(e.g. df[{column!r}] = pd.to_datetime(df[{column!r}]))."
        )
    return values.cast(pa.timestamp("us", tz="UTC"))


def attach(ctx: RunContext, id_column: str | None, time_column: str | None) -> RunContext:
    """The context with the log's ids (and times) read and checked: nothing is written yet.

    The id and time columns are not inputs of the model: unless the model takes them, they
    are left out of the schema checks (no ``schema.unexpected`` alert for ``customer_id``).
    """
    if id_column is None:
        return ctx
    ctx = for_timeline(ctx, id_column, time_column)
    return dataclasses.replace(ctx, log=chunk_inputs(ctx.source, id_column, time_column))


def for_timeline(ctx: RunContext, id_column: str, time_column: str | None = None) -> RunContext:
    """The context with the id column checked (present, a model) and out of the schema checks.

    Its ``log`` is a marker without ids (so the model keeps multiclass probabilities, and
    profiling skips these columns); the ids are read with :func:`chunk_inputs`: a single run
    while its batch is profiled, a timeline per chunk (ids are unique per chunk, i.e. per run).
    """
    if not isinstance(id_column, str) or not id_column:
        raise DataError(f"id= names the batch's id column (a string), not {id_column!r}.")
    if ctx.model_row is None:
        raise DataError(
            f"id={id_column!r} keeps each row's prediction, and {ctx.target} is a dataset: "
            "monitor a model version to keep a prediction log."
        )
    for what, name in (("id", id_column), ("time", time_column)):
        if name is not None and name not in ctx.batch_names:
            raise DataError(
                f"{what} column {name!r} is not in the batch; columns: "
                f"{', '.join(ctx.batch_names[:20])}."
            )
    extra = {id_column, time_column} - set(ctx.expected) - {None}
    names = tuple(n for n in ctx.batch_names if n not in extra)
    marker = LogInputs(id_column, None, time_column)
    return dataclasses.replace(ctx, batch_names=names, log=marker)


def chunk_inputs(source: TableSource, id_column: str, time_column: str | None) -> LogInputs:
    """The ids (and times) of one run's rows, read and checked."""
    ids = checked_ids(_read_column(source, id_column), id_column)
    times = None
    if time_column is not None:
        times = _checked_times(_read_column(source, time_column), time_column)
    return LogInputs(id_column, ids, time_column, times)


def log_table(inputs: LogInputs, model: ModelRun, *, offset: int = 0) -> pa.Table:
    """The log's columns (module docstring) from the model's predictions on the batch."""
    import numpy as np
    import pyarrow as pa

    predictions = model.predictions
    assert predictions is not None
    n = len(inputs.ids)
    labels = np.asarray(predictions.labels)
    if model.task == "regression":
        predicted = pa.array(labels.astype(np.float64, copy=False))
        score = predicted
        score_class = pa.nulls(n, predicted.type)
    else:
        predicted = pa.array(labels if labels.dtype != object else labels.tolist())
        score_class = pa.nulls(n, predicted.type)
        if model.task == "binary" and predictions.scores is not None:
            score = pa.array(np.asarray(predictions.scores, dtype=np.float64))
        elif predictions.proba is not None and model.classes is not None:
            proba = np.asarray(predictions.proba, dtype=np.float64)
            best = proba.argmax(axis=1)
            score = pa.array(proba[np.arange(n), best])
            classes = np.asarray(model.classes)[best]
            score_class = pa.array(classes if classes.dtype != object else classes.tolist())
            score_class = score_class.cast(predicted.type)
        else:
            score = pa.nulls(n, pa.float64())
    columns: dict[str, Any] = {
        "id": inputs.ids,
        "predicted": predicted,
        "score": score,
        "score_class": score_class,
    }
    if inputs.time_column is not None:
        columns["time"] = inputs.times
    columns["row"] = pa.array(np.arange(offset, offset + n, dtype=np.int64))
    return pa.table(columns)


def stage(reg: Registry, table: pa.Table, inputs: LogInputs) -> StagedLog:
    """Write the log as Parquet (zstd) and stage it; the run's commit installs it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = reg.objects.temp_path(".parquet")
    try:
        # Dictionaries only where values repeat (classes); integer ids and row positions are
        # delta-encoded (smaller, and faster to write than dictionaries of distinct values).
        delta = {"row": "DELTA_BINARY_PACKED"}
        if pa.types.is_int64(table.schema.field("id").type):
            delta["id"] = "DELTA_BINARY_PACKED"
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            use_dictionary=["predicted", "score_class"],
            column_encoding=delta,
        )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    blob = reg.objects.put_file(tmp)
    return StagedLog(blob, table.num_rows, inputs.id_column, inputs.time_column)


def start(ctx: RunContext) -> concurrent.futures.Future[StagedLog | None] | None:
    """:func:`log_of_run` in a thread, so the Parquet write overlaps the model's checks
    (Arrow's writer and the hashing release the GIL); None when there is no log to write."""
    if ctx.log is None or ctx.log.ids is None or ctx.model is None:
        return None
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="predlog")
    try:
        return pool.submit(log_of_run, ctx)
    finally:
        pool.shutdown(wait=False)


def log_of_run(ctx: RunContext) -> StagedLog | None:
    """The run's staged log; None without ids or without predictions (predict failed)."""
    if ctx.log is None or ctx.log.ids is None or ctx.model is None:
        return None
    if ctx.model.predictions is None:
        return None
    if len(ctx.model.predictions.labels) != len(ctx.log.ids):
        raise DataError(
            f"the model gave {len(ctx.model.predictions.labels):,} predictions for "
            f"{len(ctx.log.ids):,} ids: the prediction log cannot pair them."
        )
    return stage(ctx.registry, log_table(ctx.log, ctx.model), ctx.log)
