"""Any table → Arrow → Parquet, with a content fingerprint.

Accepted: pandas and polars DataFrames, pandas Series, pyarrow Tables, 1-D and 2-D numpy arrays,
and paths to Parquet or CSV files. Files are streamed through DuckDB into Parquet and never loaded
whole. CSV is read strictly: duplicate or empty header names, rows with the wrong number of
fields and text that is not UTF-8 are reported with their line numbers, never guessed around.

pandas columns of Python strings (object dtype) are converted once each; a column that reuses
a few string objects (as pandas' CSV reader makes them) is converted by object address.

The fingerprint identifies the data, not its memory layout: it hashes each column's values as a
stream (null positions, fixed-width values with nulls zeroed, string lengths and bytes), so the
same data gives the same fingerprint however it is chunked or sliced. Identical data is then
stored once, and re-registering it returns the existing version.
"""

from __future__ import annotations

import concurrent.futures
import functools
import io
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelbook.errors import DataError, UnsupportedObjectError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "LABELS",
    "SUPPORTED_DATA",
    "Fingerprinter",
    "TableSource",
    "check_csv",
    "fingerprint_batches",
    "is_dataset",
    "label_array",
    "label_name",
    "to_arrow",
    "write_parquet",
]

SUPPORTED_DATA = (
    "pandas or polars DataFrame, pyarrow Table, 2-D numpy array, or a path to a .parquet/.csv file"
)
#: What ``target=`` accepts besides a column name (said in errors).
LABELS = "a pandas or polars Series, a 1-D numpy array, a list or a tuple"
#: The column name of labels that have none (an unnamed Series, an array, a list).
DEFAULT_TARGET = "target"
_FILE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv"}
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 1}


@dataclass(frozen=True)
class TableSource:
    """Data ready to store: an in-memory Arrow table, or a file streamed by DuckDB."""

    table: pa.Table | None
    path: Path | None
    kind: str  # 'pandas' | 'polars' | 'arrow' | 'numpy' | 'parquet' | 'csv'
    label: str  # what the user gave, for messages and the `source` column


def _module(obj: object) -> str:
    return type(obj).__module__.split(".")[0]


def is_dataset(obj: object) -> bool:
    """True for anything :func:`to_arrow` accepts (without converting it)."""
    if isinstance(obj, (str, os.PathLike)):
        return Path(obj).suffix.lower() in _FILE_SUFFIXES
    module = _module(obj)
    name = type(obj).__name__
    if module == "pandas" and name in {"DataFrame", "Series"}:
        return True
    if module == "polars" and name in {"DataFrame", "LazyFrame"}:
        return True
    if module == "pyarrow" and name in {"Table", "RecordBatch"}:
        return True
    return module == "numpy" and name == "ndarray"


def to_arrow(obj: object, *, what: str = "data") -> TableSource:
    """Convert ``obj`` to an Arrow table (or a checked file path), validating its columns."""
    import pyarrow as pa

    if isinstance(obj, (str, os.PathLike)):
        return _file_source(Path(obj), what)
    module, name = _module(obj), type(obj).__name__
    table: pa.Table
    if module == "pandas" and name == "Series":
        obj = _series_frame(obj, what)
        name = "DataFrame"
    if module == "pandas" and name == "DataFrame":
        _check_names(list(obj.columns), what)  # type: ignore[attr-defined]
        table = _pandas_table(obj, what)
        kind = "pandas"
    elif module == "polars":
        frame: Any = obj.collect() if name == "LazyFrame" else obj  # type: ignore[attr-defined]
        table = frame.to_arrow()
        kind = "polars"
    elif module == "pyarrow":
        table = obj if name == "Table" else pa.Table.from_batches([obj])  # type: ignore[list-item]
        _check_names(table.column_names, what)
        kind = "arrow"
    elif module == "numpy" and name == "ndarray":
        table = _numpy_table(obj, what)
        kind = "numpy"
    else:
        raise UnsupportedObjectError(
            f"cannot use a {type(obj).__module__}.{type(obj).__name__} as {what}: "
            f"expected a {SUPPORTED_DATA}."
        )
    table = table.replace_schema_metadata(None)
    if table.num_columns == 0 or table.num_rows == 0:
        raise DataError(
            f"{what} is empty ({table.num_rows} rows × {table.num_columns} columns): "
            "there is nothing to store."
        )
    return TableSource(table=table, path=None, kind=kind, label=kind)


def _series_frame(series: Any, what: str) -> Any:
    """A pandas Series as a one-column frame; an unnamed one is named like a 1-D array (x0)."""
    name = series.name
    if name is None:
        name = "x0"
    elif not isinstance(name, str) or not name:
        raise DataError(
            f"{what} is a Series named {name!r}: a column name must be a non-empty string; "
            "rename it, e.g. series.rename('amount')."
        )
    return series.to_frame(name=name)


def _complex_error(what: str, column: str) -> DataError:
    return DataError(
        f"{what} has a complex-number column {column!r}: modelbook stores real numbers only; "
        f"store its parts as two columns, e.g. df.assign({column}_real=df[{column!r}].to_numpy()"
        f".real, {column}_imag=df[{column!r}].to_numpy().imag).drop(columns={column!r})."
    )


def _pandas_table(frame: Any, what: str) -> pa.Table:
    """A pandas frame as Arrow, each column converted once.

    Object columns of Python strings (pandas 2's strings, many loaders' output) go straight to
    Arrow strings, without inferring types over the whole frame (see :func:`_object_strings`),
    several at a time; every other column is converted as ``Table.from_pandas`` would.
    """
    import pyarrow as pa

    names = [str(c) for c in frame.columns]
    for name, dtype in zip(names, frame.dtypes, strict=True):
        if _numpy_kind(dtype) == "c":
            raise _complex_error(what, name)
    objects = [i for i, dtype in enumerate(frame.dtypes) if _numpy_kind(dtype) == "O"]
    if not objects:
        try:
            return pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise _conversion_error(what, None, exc) from exc

    def convert(i: int) -> Any:
        return _pandas_column(frame.iloc[:, i], names[i], what)

    arrays: list[Any] = [None] * len(names)
    with concurrent.futures.ThreadPoolExecutor(max_workers=_workers(len(objects))) as pool:
        converting = {i: pool.submit(convert, i) for i in objects}
        for i in range(len(names)):
            if i not in converting:
                arrays[i] = convert(i)
        for i, future in converting.items():
            arrays[i] = future.result()
    return pa.Table.from_arrays(arrays, names=names)


def _numpy_kind(dtype: Any) -> str | None:
    """A numpy dtype's kind ('O' for object); None for pandas extension dtypes (str, category),
    whose ``kind`` says 'O' too but whose values are not Python objects."""
    import numpy as np

    return dtype.kind if isinstance(dtype, np.dtype) else None


def _workers(tasks: int) -> int:
    return max(1, min(tasks, os.cpu_count() or 1, 8))


def _pandas_column(series: Any, name: str, what: str) -> Any:
    import pandas as pd
    import pyarrow as pa

    objects = _numpy_kind(series.dtype) == "O"
    try:
        if objects:
            strings = _shared_strings(series.to_numpy())
            if strings is not None:
                return strings
        return pa.array(series, from_pandas=True)  # one pass: inference while converting
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        if objects and pd.api.types.infer_dtype(series, skipna=True).startswith("complex"):
            raise _complex_error(what, name) from None
        raise _conversion_error(what, name, exc) from exc


_SAMPLE_OBJECTS = 4096  # pointers looked at to guess whether a column reuses its objects
_FEW_OBJECTS = 1024  # at most this many distinct objects in the sample: take the shared path


def _shared_strings(values: Any) -> Any:
    """An object array of Python strings that reuses a few objects, as one Arrow string array;
    None for any other array (the caller converts it directly, as ``from_pandas`` would).

    pandas' CSV reader and pyarrow's ``to_pandas`` share one object per distinct value. Such a
    column is factorised by object address, which needs no Python call per row and mostly runs
    without the GIL; only the distinct objects are read, then an Arrow ``take`` spreads them
    over the rows. The result equals the direct conversion (missing values: None and NaN).
    """
    import pyarrow as pa

    shared = _shared_objects(values)
    if shared is None:
        return None
    codes, distinct = shared
    if not any(isinstance(v, str) for v in distinct) or not all(
        isinstance(v, str) or _missing(v) for v in distinct
    ):
        return None
    dictionary = pa.array(distinct, type=pa.string(), from_pandas=True)
    try:
        return dictionary.take(pa.array(codes))
    except pa.ArrowCapacityError:  # over 2 GB of text: the direct path chunks it
        return None


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _shared_objects(values: Any) -> tuple[Any, Any] | None:
    """(codes, distinct objects) of an object array that reuses few objects; else None."""
    import ctypes

    import numpy as np
    import pandas as pd

    n = len(values)
    if n < _SAMPLE_OBJECTS or values.ndim != 1 or not values.flags.c_contiguous:
        return None
    # The array's PyObject* slots read as integers (no Python call, no copy): equal addresses
    # are the same object. The addresses are hashed, never dereferenced.
    slots = (ctypes.c_size_t * n).from_address(values.ctypes.data)
    addresses = np.ctypeslib.as_array(slots)
    step = n // _SAMPLE_OBJECTS
    if len(pd.unique(addresses[::step][:_SAMPLE_OBJECTS])) > _FEW_OBJECTS:
        return None
    codes, distinct_addresses = pd.factorize(addresses)
    if len(distinct_addresses) > max(_FEW_OBJECTS, n // 16):
        return None
    where = np.empty(len(distinct_addresses), dtype=np.intp)
    where[codes] = np.arange(n)  # any row holding each object (they all hold the same one)
    return codes.astype(np.int32), values[where]


def _conversion_error(what: str, column: str | None, exc: BaseException) -> DataError:
    where = f"column {column!r}" if column is not None else "a column"
    example = f"df[{column!r}].astype(str)" if column is not None else "df[col].astype(str)"
    return DataError(
        f"{what} cannot be stored: {where} cannot be converted ({_first_line(exc)}); "
        f"convert it to one type, e.g. {example}."
    )


def _numpy_table(array: Any, what: str) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise DataError(f"{what} is a {array.ndim}-D numpy array: only 1-D and 2-D are supported.")
    if array.dtype.kind == "c":
        raise DataError(
            f"{what} is an array of complex numbers: modelbook stores real numbers only; store "
            "the real and imaginary parts as columns, e.g. np.column_stack([a.real, a.imag])."
        )
    try:
        if array.dtype == object:
            columns = [pa.array(list(array[:, i])) for i in range(array.shape[1])]
        else:
            columns = [pa.array(np.ascontiguousarray(array[:, i])) for i in range(array.shape[1])]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise DataError(
            f"{what} cannot be stored: {_first_line(exc)}; give each column of the array one "
            "type (or pass a DataFrame)."
        ) from exc
    return pa.Table.from_arrays(columns, names=[f"x{i}" for i in range(array.shape[1])])


# -- labels ---------------------------------------------------------------------------------------


def label_name(target: object) -> str | None:
    """The labels' own column name: a named Series keeps it; anything else has none."""
    name = getattr(target, "name", None)
    return name if isinstance(name, str) and name else None


def label_array(target: object, *, what: str = "target", looked_in: str = "data") -> Any:
    """``target=`` labels as one Arrow array (any name, or none, is fine: labels are one column).

    Accepts a pandas or polars Series (or a one-column DataFrame), a pyarrow Array, a 1-D numpy
    array, a list or a tuple. Messages speak of labels, never of 2-D tables; ``looked_in`` names what
    a column name would have been looked up in ("data" at registration, "batch" at monitor time).
    """
    import numpy as np
    import pyarrow as pa

    module, name = _module(target), type(target).__name__
    try:
        if module == "pandas" and name == "DataFrame":
            frame: Any = target
            if frame.shape[1] != 1:
                raise DataError(
                    f"{what} must be one column of labels; got a DataFrame with {frame.shape[1]} "
                    f"columns: pass one of them, e.g. {what}=df[{str(frame.columns[0])!r}]."
                )
            target, name = frame.iloc[:, 0], "Series"
        if module == "pandas" and name == "Series":
            series: Any = target
            if _numpy_kind(series.dtype) == "c":
                raise _complex_labels(what)
            if _numpy_kind(series.dtype) == "O":
                return _object_labels(series.to_numpy(), what)
            return pa.Array.from_pandas(series)
        if module == "polars" and name in ("DataFrame", "Series"):
            polars: Any = target
            if name == "DataFrame":
                if polars.width != 1:
                    raise DataError(
                        f"{what} must be one column of labels; got a DataFrame with "
                        f"{polars.width} columns: pass one of them, e.g. {what}=df['label']."
                    )
                polars = polars.to_series()
            return polars.to_arrow()
        if module == "pyarrow":
            if name in ("Table", "RecordBatch"):
                table: Any = target
                if table.num_columns != 1:
                    raise DataError(
                        f"{what} must be one column of labels; got a table with "
                        f"{table.num_columns} columns: pass one of them."
                    )
                column = table.column(0)
                return column.combine_chunks() if hasattr(column, "combine_chunks") else column
            if name == "ChunkedArray":
                return target.combine_chunks()  # type: ignore[attr-defined]
            if isinstance(target, pa.Array):
                return target
        if module == "numpy" and name == "ndarray":
            array: Any = target
            if array.ndim == 2 and array.shape[1] == 1:
                array = array[:, 0]
            if array.ndim != 1:
                raise DataError(
                    f"{what} must be one column of labels; got an array of shape {array.shape}: "
                    "pass one label per row."
                )
            if array.dtype.kind == "c":
                raise _complex_labels(what)
            if array.dtype == object:
                return _object_labels(array, what)
            return pa.array(np.ascontiguousarray(array))
        if isinstance(target, (list, tuple)):
            return _object_labels(np.asarray(list(target), dtype=object), what)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise DataError(
            f"{what} labels cannot be read: {_first_line(exc)}; give every label one type."
        ) from exc
    raise DataError(
        f"cannot use a {type(target).__module__}.{type(target).__name__} as {what}: expected "
        f"the name of a column of the {looked_in}, or the labels as {LABELS}."
    )


def _object_labels(values: Any, what: str) -> Any:
    import pandas as pd
    import pyarrow as pa

    strings = _shared_strings(values)
    if strings is not None:
        return strings
    if pd.api.types.infer_dtype(values, skipna=True).startswith("complex"):
        raise _complex_labels(what)
    return pa.array(values, from_pandas=True)


def _complex_labels(what: str) -> DataError:
    return DataError(f"{what} labels are complex numbers: give real numbers or class labels.")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_names(names: list[Any], what: str) -> None:
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        shown = ", ".join(repr(n) for n in bad[:5])
        raise DataError(
            f"{what} has non-string column names ({shown}): rename them, "
            "e.g. df.columns = df.columns.astype(str)."
        )
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise DataError(
            f"{what} has duplicate column names ({', '.join(map(repr, duplicates[:5]))}): "
            "give every column a unique name."
        )


def _file_source(path: Path, what: str) -> TableSource:
    fmt = _FILE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedObjectError(
            f"cannot read {path} as {what}: expected a .parquet or .csv file."
        )
    if not path.is_file():
        raise DataError(f"{what} file {path} does not exist.")
    if fmt == "csv":
        check_csv(path, what=what)
    return TableSource(table=None, path=path.absolute(), kind=fmt, label=str(path.absolute()))


# -- CSV, read strictly ---------------------------------------------------------------------------

_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE = 1 << 16
_SHOWN = 5  # problem lines named in a message


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    header: tuple[str, ...]


def csv_dialect(path: Path) -> CsvDialect:
    """The delimiter and header of a CSV file, from its first line (cached per file version)."""
    stat = path.stat()
    return _csv_dialect(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _csv_dialect(path: str, _mtime: int, _size: int) -> CsvDialect:
    import csv

    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE)
    text = sample.decode("utf-8-sig", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    if path.lower().endswith(".tsv"):
        delimiter = "\t"
    else:  # the candidate seen most often in the header line; ',' on a tie or for one column
        delimiter = max(_DELIMITERS, key=lambda d: (first.count(d), d == ","))
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(rows, [])
    return CsvDialect(delimiter, tuple(header))


def check_csv(path: Path, *, what: str = "data") -> CsvDialect:
    """Read ``path`` strictly, or raise DataError naming the lines to fix.

    Checked: UTF-8 text; a header of unique, non-empty names; every row with as many fields as
    the header (a DuckDB scan of the whole file with the header's shape, so a ragged row can
    never turn into phantom columns or a one-row table).
    """
    _check_utf8(path, what)
    dialect = csv_dialect(path)
    header = dialect.header
    if not header:
        raise DataError(f"{what} file {path} is empty: there is nothing to store.")
    empty = [i + 1 for i, name in enumerate(header) if not name.strip()]
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for name in header:
        key = name.strip().lower()  # DuckDB column names are case-insensitive
        if key and key in seen and name not in duplicates:
            duplicates.append(name)
        seen.setdefault(key, name)
    if empty or duplicates:
        problems = []
        if duplicates:
            problems.append(f"duplicate column names ({', '.join(map(repr, duplicates[:_SHOWN]))})")
        if empty:
            plural = "s" if len(empty) > 1 else ""
            columns = ", ".join(str(i) for i in empty[:_SHOWN])
            problems.append(f"an empty column name (column{plural} {columns})")
        raise DataError(
            f"{what} file {path}: the header (line 1) has {' and '.join(problems)}: give every "
            "column a unique, non-empty name."
        )
    _check_row_widths(path, dialect, what)
    return dialect


def _check_utf8(path: Path, what: str) -> None:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines + chunk.count(b"\n", 0, max(exc.start, 0))
                byte = chunk[exc.start] if 0 <= exc.start < len(chunk) else None
                shown = f"byte 0x{byte:02x} on line {line}" if byte is not None else f"line {line}"
                raise DataError(
                    f"{what} file {path} is not UTF-8 text ({shown}): save it as UTF-8, or read "
                    "it with pandas.read_csv(path, encoding='latin-1') (its real encoding) and "
                    "pass the DataFrame."
                ) from None
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DataError(
                f"{what} file {path} is not UTF-8 text (it ends inside a character): save it as "
                "UTF-8, or read it with pandas.read_csv(path, encoding=...) and pass the "
                "DataFrame."
            ) from None


def _check_row_widths(path: Path, dialect: CsvDialect, what: str) -> None:
    import duckdb

    columns = {f"c{i}": "VARCHAR" for i in range(len(dialect.header))}
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        rows = con.execute(
            f"SELECT count(*) FROM read_csv({_sql_string(str(path))}, columns = {columns}, "
            f"header = true, auto_detect = false, delim = {_sql_string(dialect.delimiter)}, "
            "quote = '\"', escape = '\"', strict_mode = true, null_padding = false)"
        ).fetchall()[0][0]
    except duckdb.Error as exc:
        raise _ragged_error(path, dialect, what, exc) from None
    finally:
        con.close()
    if not rows:
        raise DataError(f"{what} file {path} has a header but no rows: there is nothing to store.")


def _ragged_error(path: Path, dialect: CsvDialect, what: str, exc: BaseException) -> DataError:
    """Name the rows whose field count differs from the header's (a Python pass, errors only)."""
    import csv

    width = len(dialect.header)
    bad: list[tuple[int, int]] = []
    count = 0
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=dialect.delimiter, strict=False)
        line = 1
        try:
            next(reader)
            line = reader.line_num + 1
            for row in reader:
                if row and len(row) != width:
                    count += 1
                    if len(bad) < _SHOWN:
                        bad.append((line, len(row)))
                line = reader.line_num + 1
        except csv.Error as error:
            return DataError(f"{what} file {path}: line {line} cannot be read ({error}).")
    if not bad:
        return DataError(f"{what} file {path}: {_duckdb_csv_problem(exc)}.")
    delimiter = "tab" if dialect.delimiter == "\t" else repr(dialect.delimiter)
    shown = [f"line {n} has {k}" for n, k in bad]
    shown[0] += " fields"
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    more = f" ({count:,} such rows in all)" if count > len(bad) else ""
    rows = "that row" if count == 1 else "those rows"
    return DataError(
        f"{what} file {path}: the header has {width} columns, but {listed}{more}: fix {rows} "
        f"(a missing or extra {delimiter}, or a value containing {delimiter} without quotes)."
    )


def _duckdb_csv_problem(exc: BaseException) -> str:
    """'line 3: value with unterminated quote found' from DuckDB's multi-line CSV error."""
    import re

    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    lines = [s.strip() for s in text.splitlines() if s.strip()]
    problem = next(
        (
            s.rstrip(".")
            for s in lines[1:]
            if not s.startswith(("Original Line", "Possible", "*", "file =")) and "=" not in s
        ),
        _first_line(exc),
    )
    problem = problem[:1].lower() + problem[1:]
    return f"line {line.group(1)}: {problem}" if line else problem


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_scan(path: Path, kind: str) -> str:
    """The DuckDB table function that streams ``path`` (a CSV with its checked delimiter)."""
    if kind == "parquet":
        return f"read_parquet({_sql_string(str(path))})"
    dialect = csv_dialect(path)
    return (
        f"read_csv({_sql_string(str(path))}, header = true, "
        f"delim = {_sql_string(dialect.delimiter)}, strict_mode = true, null_padding = false)"
    )


def copy_file_to_parquet(source: TableSource, dest: Path) -> None:
    """Stream a Parquet/CSV file through DuckDB into a zstd Parquet file (bounded memory)."""
    import duckdb

    assert source.path is not None
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")
        relation = con.sql(f"SELECT * FROM {duckdb_scan(source.path, source.kind)}")
        names = relation.columns
        _check_names(list(names), source.label)
        target = str(dest).replace("'", "''")
        con.execute(
            f"COPY (SELECT * FROM {duckdb_scan(source.path, source.kind)}) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
    except duckdb.Error as exc:
        raise DataError(f"cannot read {source.label}: {_first_line(exc)}") from exc
    finally:
        con.close()


def write_parquet(table: pa.Table, dest: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, dest, **PARQUET_OPTIONS)


class Fingerprinter:
    """Streaming, layout-independent content hash of a table (xxh3-128 per column stream)."""

    def __init__(self, schema: pa.Schema) -> None:
        import xxhash

        self._schema = schema
        self._rows = 0
        self._streams = [
            (xxhash.xxh3_128(), xxhash.xxh3_128(), xxhash.xxh3_128()) for _ in schema.names
        ]

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        for i, column in enumerate(batch.columns):
            chunks = column.chunks if hasattr(column, "chunks") else [column]
            offset = self._rows
            for chunk in chunks:
                _hash_array(chunk, offset, self._streams[i])
                offset += len(chunk)
        self._rows += batch.num_rows

    def hexdigest(self) -> str:
        import xxhash

        total = xxhash.xxh3_128()
        total.update(f"rows={self._rows};".encode())
        for field, streams in zip(self._schema, self._streams, strict=True):
            total.update(f"{field.name}:{field.type};".encode())
            for stream in streams:
                total.update(stream.digest())
        return "xxh3:" + total.hexdigest()


def _hash_array(array: pa.Array, offset: int, streams: tuple[Any, Any, Any]) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    nulls, values, data = streams
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if array.null_count:
        mask = np.asarray(array.is_null())
        nulls.update((np.flatnonzero(mask) + offset).astype(np.int64).tobytes())
    kind = array.type
    if pa.types.is_string_view(kind) or pa.types.is_binary_view(kind):
        array = array.cast(pa.large_binary())
        kind = array.type
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    ):
        width = 8 if (pa.types.is_large_string(kind) or pa.types.is_large_binary(kind)) else 4
        buffers = array.buffers()
        offsets = np.frombuffer(
            buffers[1], dtype=np.int64 if width == 8 else np.int32,
            count=len(array) + 1, offset=array.offset * width,
        )  # fmt: skip
        values.update(np.diff(offsets).astype(np.int64).tobytes())
        if buffers[2] is not None and offsets[-1] > offsets[0]:
            data.update(memoryview(buffers[2])[int(offsets[0]) : int(offsets[-1])])
        return
    if pa.types.is_boolean(kind):
        filled = pc.fill_null(array, False) if array.null_count else array
        values.update(np.asarray(filled.to_numpy(zero_copy_only=False)).tobytes())
        return
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_temporal(kind)
        or pa.types.is_decimal(kind)
    ):
        if array.null_count:
            array = pc.fill_null(array, pa.scalar(0, kind) if not pa.types.is_decimal(kind) else 0)
        width = kind.bit_width // 8
        buffer = array.buffers()[1]
        values.update(
            memoryview(buffer)[array.offset * width : (array.offset + len(array)) * width]
        )
        return
    # Nested and other rare types: slower, but still layout independent.
    data.update(repr(array.to_pylist()).encode())


def fingerprint_batches(schema: pa.Schema, batches: Iterable[pa.RecordBatch | pa.Table]) -> str:
    printer = Fingerprinter(schema)
    for batch in batches:
        printer.update(batch)
    return printer.hexdigest()


def parquet_fingerprint(path: Path) -> tuple[str, int, pa.Schema]:
    """Fingerprint, row count and schema of a Parquet file, streamed in batches."""
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    schema = handle.schema_arrow
    digest = fingerprint_batches(schema, handle.iter_batches(batch_size=262_144))
    return digest, handle.metadata.num_rows, schema
