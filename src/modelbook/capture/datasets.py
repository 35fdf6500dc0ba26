"""Any table → Arrow → Parquet, with a content fingerprint.

Accepted: pandas and polars DataFrames, pyarrow Tables, 2-D numpy arrays, and paths to Parquet
or CSV files. Files are streamed through DuckDB into Parquet and never loaded whole.

The fingerprint identifies the data, not its memory layout: it hashes each column's values as a
stream (null positions, fixed-width values with nulls zeroed, string lengths and bytes), so the
same data gives the same fingerprint however it is chunked or sliced. Identical data is then
stored once, and re-registering it returns the existing version.
"""

from __future__ import annotations

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
    "SUPPORTED_DATA",
    "Fingerprinter",
    "TableSource",
    "fingerprint_batches",
    "is_dataset",
    "to_arrow",
    "write_parquet",
]

SUPPORTED_DATA = (
    "pandas or polars DataFrame, pyarrow Table, 2-D numpy array, or a path to a .parquet/.csv file"
)
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
        obj = obj.to_frame()  # type: ignore[attr-defined]
        name = "DataFrame"
    if module == "pandas" and name == "DataFrame":
        _check_names(list(obj.columns), what)  # type: ignore[attr-defined]
        try:
            table = pa.Table.from_pandas(obj, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise DataError(
                f"{what} cannot be stored: {_first_line(exc)}; convert that column to one type "
                "(e.g. df[col].astype(str))."
            ) from exc
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


def _numpy_table(array: Any, what: str) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise DataError(f"{what} is a {array.ndim}-D numpy array: only 1-D and 2-D are supported.")
    if array.dtype == object:
        columns = [pa.array(list(array[:, i])) for i in range(array.shape[1])]
    else:
        columns = [pa.array(np.ascontiguousarray(array[:, i])) for i in range(array.shape[1])]
    return pa.Table.from_arrays(columns, names=[f"x{i}" for i in range(array.shape[1])])


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
    return TableSource(table=None, path=path.absolute(), kind=fmt, label=str(path.absolute()))


def duckdb_scan(path: Path, kind: str) -> str:
    """The DuckDB table function that streams ``path``."""
    quoted = str(path).replace("'", "''")
    if kind == "parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv('{quoted}', header = true)"


def copy_file_to_parquet(source: TableSource, dest: Path) -> None:
    """Stream a Parquet/CSV file through DuckDB into a zstd Parquet file (bounded memory)."""
    import duckdb

    assert source.path is not None
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
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
