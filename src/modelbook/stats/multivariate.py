"""Multivariate drift: the shift no single column shows (a relation between columns changes).

Two measures, both explained column by column:

PCA reconstruction error (default)
----------------------------------
At registration a dataset's numeric columns (booleans as 0/1) and low-cardinality categorical
columns (at most :data:`MAX_CATEGORIES` values) are encoded, standardised and summarised by the
principal components that explain ``variance`` (0.65) of their variance, as NannyML's
``DataReconstructionDriftCalculator`` does. A row's *reconstruction error* is the Euclidean norm
of what those components cannot express (its residual, in standard deviations). A batch whose
columns keep their marginals but change how they move together (a sensor pair that used to rise
together, a join that pairs the wrong rows) leaves the reference's main directions and its error
grows, while every per-column test stays quiet.

* **Categoricals are frequency-encoded** (a value becomes its share of the reference rows; NannyML
  does the same), not one-hot: one feature per column keeps the per-column attribution exact
  (the residual of column ``c`` is the residual of one feature), keeps the dimension at the
  number of columns whatever the cardinality, and keeps the comparison with NannyML like for like.
  A value the reference never had encodes as 0 (rarer than anything seen).
* **Missing values** (null, NaN, ±inf) are imputed: the reference mean of a numeric column, the
  share of the most frequent value of a categorical one (scikit-learn's ``SimpleImputer``
  strategies ``mean`` and ``most_frequent``). An imputed cell sits at the centre of its column,
  so missing values alone lower the error a little; they have checks of their own.
* **Bounded, deterministic fit.** The statistics are fitted on at most :data:`FIT_ROWS` (50,000)
  rows: blocks of 5,000 consecutive rows evenly spaced through the data (:func:`blocks`:
  deterministic, spread over the whole file, zero-copy slices in memory, the same rows from the
  stored Parquet). That estimates 30 columns' covariance to about ±0.5 % and costs ~0.06 s,
  computed while the Parquet is written and the profile runs (registering 1M × 30: +2 %). The
  components come from the eigendecomposition of the standardised covariance: the subspace
  scikit-learn's ``PCA`` finds by SVD, at a tenth of the cost.
* **The band.** The fit sample is cut into 20 chunks of consecutive rows (2,500 rows each at
  50,000; at most :data:`CHUNK_ROWS`) and each chunk's mean error is measured *cross-fitted*:
  with components fitted on the other half of the chunks, so the reference reads like new data
  (in-sample errors are optimistic on small data: 569 rows × 30 columns underestimate by ~7 %).
  A batch of ``n`` rows alerts above ``mean + sigma × spread(m)``, ``m = min(n, 5,000)``, where
  ``spread(m)`` is the standard deviation of the chunk means scaled to ``m`` rows (at least the
  per-row spread / √m), combined with the uncertainty of the reference mean (see
  :meth:`PcaReference.band`).
  An error *below* ``mean − …`` is reported (``info``), not alerted: it means less variety than
  the reference (imputed or constant values: 20 % of cells imputed in every column lowers the
  error by ~7 %), which the null and per-column checks name; a broken relation raises it.
  The chunks' spread is scaled to ``m`` rows (× √(chunk / m)); 5,000 rows is a usual daily
  batch and NannyML's usual example chunk; the band narrows as a
  batch grows up to that size and then stops, so that a batch of millions of rows is not held to
  a precision that the reference's own sampling and a slow, harmless wander cannot meet (the
  same reasoning as the per-column effect sizes: an unchanged batch of 2M rows raises nothing).
* **Measuring a batch.** Its mean error is taken over at most :data:`MEASURE_ROWS` rows (evenly
  spaced blocks): the standard error is then below 1/13 of the band's half-width, so more rows
  change nothing the band can see. Rows are streamed; one record batch is in memory at a time.
* **Which columns.** The batch's mean squared residual per column minus the reference's is the
  column's *extra* error; its share of the total extra says which columns carry the change.

Domain classifier (opt-in)
--------------------------
A :class:`~sklearn.ensemble.HistGradientBoostingClassifier` learns to tell up to ``sample_rows``
reference rows (sampled in DuckDB from the stored Parquet snapshot) from as many batch rows;
its cross-validated ROC AUC is 0.5 when it cannot. It alerts above ``auc`` (default
:data:`DEFAULT_AUC`) or above chance's own reach at small samples, ``0.5 + 4 × SE`` of the AUC
of two identical samples (Mann–Whitney), whichever is higher; see :func:`auc_threshold`.
The top columns are ranked by permutation importance (the drop of AUC when a column is
shuffled) on a held-out fold.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from modelbook.errors import ConfigError, DataError

__all__ = [
    "CHUNK_ROWS",
    "DEFAULT_AUC",
    "FIT_ROWS",
    "MAX_CATEGORIES",
    "MEASURE_ROWS",
    "METHODS",
    "ClassifierDrift",
    "Feature",
    "MultivariateDrift",
    "MultivariateRules",
    "PcaDrift",
    "PcaReference",
    "auc_threshold",
    "block_filter",
    "blocks",
    "domain_classifier",
    "encode",
    "features_of",
    "fit_pca",
    "pca_drift",
    "reference_json",
    "sample_file",
    "sample_table",
    "select_columns",
]

FloatArray = npt.NDArray[np.float64]

METHODS = ("pca", "classifier", "both")
#: Rows the PCA statistics are fitted on at most (evenly spaced through the data).
FIT_ROWS = 50_000
#: Rows per reference chunk: the size at which the band stops narrowing (module docstring).
CHUNK_ROWS = 5_000
#: A batch's mean error is measured on at most this many rows (evenly spaced blocks): its
#: standard error is then under 1/13 of the band's half-width, so more rows change nothing the
#: band can see, and a 1M-row batch costs a tenth.
MEASURE_ROWS = 100_000
#: A categorical column with more distinct values is left out (IDs, free text).
MAX_CATEGORIES = 50
#: Fewer reference rows than this: no statistics (20 chunks of at least 3 rows).
MIN_ROWS = 60
#: Calibrated AUC floor of the domain classifier: unchanged data at 200k rows (50k + 50k sampled)
#: scored at most 0.503 over 12 seeds, sd 0.002 (benchmarks/bench_multivariate.py --calibrate 12);
#: 0.55 leaves room for real data's ties and duplicates, and equals Evidently's fixed threshold.
DEFAULT_AUC = 0.55
DEFAULT_SAMPLE_ROWS = 50_000
_VERSION = 1


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class MultivariateRules:
    """``[tool.modelbook.monitor.multivariate]``: what runs and when it alerts."""

    enabled: bool = True
    method: str = "pca"  # 'pca' | 'classifier' | 'both'
    variance: float = 0.65  # share of the variance the kept components explain
    sigma: float = 3.0  # half-width of the band, in reference-chunk standard deviations
    auc: float = DEFAULT_AUC  # the domain classifier alerts above this AUC
    sample_rows: int = DEFAULT_SAMPLE_ROWS  # rows of each side the classifier learns from

    @property
    def pca(self) -> bool:
        return self.enabled and self.method in ("pca", "both")

    @property
    def classifier(self) -> bool:
        return self.enabled and self.method in ("classifier", "both")

    @classmethod
    def from_mapping(
        cls, config: Mapping[str, Any], where: str = "multivariate"
    ) -> MultivariateRules:
        if not isinstance(config, Mapping):
            raise ConfigError(f"{where} must be a table, got {type(config).__name__}.")
        allowed = ("enabled", "method", "variance", "sigma", "auc", "sample_rows")
        for key in config:
            if key not in allowed:
                raise ConfigError(
                    f"unknown setting {key!r} in {where}; allowed: {', '.join(allowed)}."
                )
        out = cls()
        if "enabled" in config:
            if not isinstance(config["enabled"], bool):
                raise ConfigError(
                    f"{where}.enabled must be true or false; got {config['enabled']!r}."
                )
            out = replace(out, enabled=config["enabled"])
        if "method" in config:
            method = config["method"]
            if method not in METHODS:
                raise ConfigError(
                    f"{where}.method must be one of {', '.join(METHODS)}; got {method!r}."
                )
            out = replace(out, method=str(method))

        def number(key: str, low: float, high: float, text: str) -> float | None:
            if key not in config:
                return None
            value = config[key]
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not (low < float(value) < high) or math.isnan(float(value)):
                raise ConfigError(f"{where}.{key} must be a number {text}; got {value!r}.")
            return float(value)

        variance = number("variance", 0.0, 1.0, "between 0 and 1 (exclusive), e.g. 0.65")
        sigma = number("sigma", 0.0, math.inf, "> 0, e.g. 3")
        auc = number("auc", 0.5, 1.0, "between 0.5 and 1 (exclusive), e.g. 0.55")
        if variance is not None:
            out = replace(out, variance=variance)
        if sigma is not None:
            out = replace(out, sigma=sigma)
        if auc is not None:
            out = replace(out, auc=auc)
        if "sample_rows" in config:
            rows = config["sample_rows"]
            if not isinstance(rows, int) or isinstance(rows, bool) or rows < 100:
                raise ConfigError(
                    f"{where}.sample_rows must be a whole number ≥ 100, e.g. 50000; got {rows!r}."
                )
            out = replace(out, sample_rows=rows)
        return out


# --------------------------------------------------------------------------- samples


def blocks(n: int, rows: int, size: int = CHUNK_ROWS) -> list[tuple[int, int]]:
    """``(start, length)`` of the blocks a sample of at most ``rows`` of ``n`` rows is made of.

    Blocks of :data:`CHUNK_ROWS` consecutive rows, evenly spaced through the data (the whole
    data when it fits): deterministic, spread over the whole file, zero-copy slices of an
    in-memory table, and the reference chunks of the band are stretches of consecutive rows,
    as a batch is.
    """
    if n <= rows:
        return [(0, n)]
    count = max(1, rows // size)
    size = rows // count
    starts = np.floor(np.arange(count) * ((n - size) / max(1, count - 1))).astype(np.int64)
    if count == 1:
        starts = np.asarray([(n - size) // 2])
    return [(int(s), size) for s in starts]


def block_filter(n: int, rows: int, size: int = CHUNK_ROWS) -> str:
    """A DuckDB predicate on ``file_row_number`` keeping the rows of :func:`blocks`."""
    kept = [f"file_row_number BETWEEN {s} AND {s + k - 1}" for s, k in blocks(n, rows, size)]
    return "(" + " OR ".join(kept) + ")"


def sample_table(
    table: pa.Table, rows: int, columns: Sequence[str] | None = None, size: int = CHUNK_ROWS
) -> pa.Table:
    """At most ``rows`` rows of an in-memory table, as :func:`blocks` (slices: no copy)."""
    if columns is not None:
        table = table.select(list(columns))
    if table.num_rows <= rows:
        return table
    return pa.concat_tables([table.slice(s, k) for s, k in blocks(table.num_rows, rows, size)])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sample_file(
    path: Path, columns: Sequence[str], rows: int, *, kind: str = "parquet"
) -> pa.Table:
    """At most ``rows`` rows of a Parquet (or CSV) file, sampled by DuckDB, never loaded whole.

    Parquet: the rows of :func:`blocks`, by their position in the file (``file_row_number``):
    deterministic whatever DuckDB's threads do. CSV: a seeded reservoir sample. Memory holds
    the sample, not the file.
    """
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    cols = ", ".join(_quote(c) for c in columns)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        if kind == "parquet":
            import pyarrow.parquet as pq

            n = int(pq.ParquetFile(path).metadata.num_rows)
            source = f"read_parquet({_sql_string(str(path))}, file_row_number = true)"
            sql = (
                f"SELECT {cols} FROM {source} WHERE {block_filter(n, rows)} "
                "ORDER BY file_row_number"
            )
        else:
            sql = (
                f"SELECT {cols} FROM {duckdb_scan(path, kind)} "
                f"USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE (7)"
            )
        table: pa.Table = con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise DataError(f"cannot sample {path.name!r}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()
    return table.slice(0, rows)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class Feature:
    """One column as a PCA feature: how it is encoded, imputed and standardised."""

    name: str
    kind: str  # 'numeric' (booleans as 0/1) | 'categorical' (frequency-encoded)
    fill: float  # encoded value of a missing cell: mean, or the share of the mode
    mean: float = 0.0
    scale: float = 1.0
    categories: tuple[str, ...] = ()
    frequencies: tuple[float, ...] = ()


def _is_numeric(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
    )


def _is_categorical(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_dictionary(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
    )


def select_columns(schema: pa.Schema, exclude: Iterable[str] = ()) -> list[str]:
    """Columns that can be PCA features by type: numeric, boolean, string/dictionary."""
    skip = set(exclude)
    return [
        f.name
        for f in schema
        if f.name not in skip and (_is_numeric(f.type) or _is_categorical(f.type))
    ]


def _floats(col: pa.Array | pa.ChunkedArray) -> FloatArray:
    """A numeric/boolean column as float64, nulls as NaN."""
    if not pa.types.is_floating(col.type) or pa.types.is_float16(col.type):
        col = pc.cast(col, pa.float64())
    values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
    return values


def _strings(col: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_string(col.type):
        return col
    return pc.cast(col, pa.string())


def _feature_stats(name: str, col: pa.ChunkedArray, n: int) -> Feature | None:
    """Imputation value and encoding of one column, from the fit sample; None: not usable."""
    if _is_numeric(col.type):
        x = _floats(col)
        finite = x[np.isfinite(x)]
        if len(finite) < 2:
            return None
        if pa.types.is_integer(col.type) and n > 1000:
            wide = finite.max() - finite.min() + 1 >= 0.99 * n  # else it cannot be unique
            if wide and len(np.unique(finite)) >= 0.99 * n:  # an ID: new values in every batch
                return None
        return Feature(name, "numeric", fill=float(finite.mean()))
    counts = pc.value_counts(_strings(col).drop_null())
    if len(counts) < 2 or len(counts) > MAX_CATEGORIES:
        return None
    values = [str(v) for v in counts.field("values").to_pylist()]
    numbers = np.asarray(counts.field("counts").to_numpy(), dtype=np.float64)
    order = sorted(range(len(values)), key=lambda i: (-numbers[i], values[i]))
    shares = numbers / numbers.sum()
    return Feature(
        name,
        "categorical",
        fill=float(shares[order[0]]),
        categories=tuple(values[i] for i in order),
        frequencies=tuple(float(shares[i]) for i in order),
    )


def features_of(sample: pa.Table, names: Iterable[str]) -> list[Feature]:
    """The usable features among ``names``, encoded as a reference ``sample`` says (unscaled)."""
    n = sample.num_rows
    return [f for name in names if (f := _feature_stats(name, sample.column(name), n))]


def encode(batch: pa.Table | pa.RecordBatch, features: Sequence[Feature]) -> FloatArray:
    """The batch's features as an ``n × d`` float matrix, missing cells imputed (not scaled).

    A column the batch lacks is imputed whole (callers check for that first).
    """
    n = batch.num_rows
    out = np.empty((n, len(features)), dtype=np.float64, order="F")  # contiguous columns
    names = set(batch.schema.names)
    for j, f in enumerate(features):
        if f.name not in names:
            out[:, j] = f.fill
            continue
        col = batch.column(f.name)
        if f.kind == "numeric":
            if not _is_numeric(col.type):
                raise DataError(f"column {f.name!r} is not numeric in the batch ({col.type}).")
            x = _floats(col)
            out[:, j] = np.where(np.isfinite(x), x, f.fill)
        else:
            strings = _strings(col)
            index = pc.index_in(strings, value_set=pa.array(f.categories, pa.string()))
            codes = np.asarray(
                pc.fill_null(index, len(f.categories)).to_numpy(zero_copy_only=False),
                dtype=np.int64,
            )
            lookup = np.asarray((*f.frequencies, 0.0), dtype=np.float64)
            values = lookup[codes]
            if strings.null_count:
                nulls = np.asarray(pc.is_null(strings).to_numpy(zero_copy_only=False), dtype=bool)
                values[nulls] = f.fill
            out[:, j] = values
    return out


def _standardized(batch: pa.Table | pa.RecordBatch, features: Sequence[Feature]) -> FloatArray:
    """:func:`encode`, standardised, written column by column into a column-major matrix (each
    column one contiguous write; missing cells are 0, the standardised fill)."""
    n = batch.num_rows
    out = np.empty((n, len(features)), dtype=np.float64, order="F")
    names = set(batch.schema.names)
    for j, f in enumerate(features):
        column = out[:, j]
        if f.name not in names:
            column[:] = (f.fill - f.mean) / f.scale
            continue
        col = batch.column(f.name)
        if f.kind == "numeric":
            if not _is_numeric(col.type):
                raise DataError(f"column {f.name!r} is not numeric in the batch ({col.type}).")
            np.subtract(_floats(col), f.mean, out=column)
            column *= 1.0 / f.scale
            bad = ~np.isfinite(column)
            if bad.any():
                column[bad] = (f.fill - f.mean) / f.scale
        else:
            column[:] = encode(pa.table({f.name: col}), [f])[:, 0]
            column -= f.mean
            column *= 1.0 / f.scale
    return out


# --------------------------------------------------------------------------- PCA reference


@dataclass(frozen=True)
class PcaReference:
    """What a batch's reconstruction error is measured against (stored as JSON)."""

    features: tuple[Feature, ...]
    components: tuple[tuple[float, ...], ...]  # k × d, orthonormal rows
    explained: tuple[float, ...]  # explained variance ratio of each kept component
    variance: float  # the share asked for
    rows: int  # rows of the dataset
    fit_rows: int  # rows fitted on (evenly spaced sample)
    chunk_rows: int
    chunk_errors: tuple[float, ...]  # cross-fitted mean error of each reference chunk
    row_std: float  # standard deviation of one row's error (cross-fitted)
    residual: tuple[float, ...]  # mean squared residual of each feature (stored components)
    version: int = _VERSION

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def center(self) -> float:
        return float(np.mean(self.chunk_errors))

    def band(self, rows: int, sigma: float) -> tuple[float, float, float]:
        """(lower, upper, spread at ``rows``): the band narrows up to :data:`CHUNK_ROWS`, then
        stops.

        The spread of a batch's mean error at ``m = min(rows, CHUNK_ROWS)`` rows is the
        measured spread of the reference chunks scaled to ``m`` (at least the per-row spread
        / √m), plus the uncertainty of the reference mean itself (per-row spread / √fit rows,
        which matters for small references: 284 rows of breast_cancer).
        """
        m = max(1, min(rows, CHUNK_ROWS))
        measured = float(np.std(self.chunk_errors, ddof=1)) if len(self.chunk_errors) > 1 else 0.0
        batch = max(measured * measured * self.chunk_rows / m, self.row_std**2 / m)
        spread = math.sqrt(batch + self.row_std**2 / max(1, self.fit_rows))
        return max(0.0, self.center - sigma * spread), self.center + sigma * spread, spread

    def to_json(self) -> str:
        data = {
            "version": self.version,
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "fill": f.fill,
                    "mean": f.mean,
                    "scale": f.scale,
                    "categories": list(f.categories),
                    "frequencies": list(f.frequencies),
                }
                for f in self.features
            ],
            "components": [list(c) for c in self.components],
            "explained": list(self.explained),
            "variance": self.variance,
            "rows": self.rows,
            "fit_rows": self.fit_rows,
            "chunk_rows": self.chunk_rows,
            "chunk_errors": list(self.chunk_errors),
            "row_std": self.row_std,
            "residual": list(self.residual),
        }
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> PcaReference | None:
        """The stored statistics; None when absent or written by another format version."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            return None
        return cls(
            features=tuple(
                Feature(
                    name=f["name"],
                    kind=f["kind"],
                    fill=float(f["fill"]),
                    mean=float(f["mean"]),
                    scale=float(f["scale"]),
                    categories=tuple(f["categories"]),
                    frequencies=tuple(float(v) for v in f["frequencies"]),
                )
                for f in data["features"]
            ),
            components=tuple(tuple(float(v) for v in c) for c in data["components"]),
            explained=tuple(float(v) for v in data["explained"]),
            variance=float(data["variance"]),
            rows=int(data["rows"]),
            fit_rows=int(data["fit_rows"]),
            chunk_rows=int(data["chunk_rows"]),
            chunk_errors=tuple(float(v) for v in data["chunk_errors"]),
            row_std=float(data["row_std"]),
            residual=tuple(float(v) for v in data["residual"]),
        )

    # numpy views, cached on first use (the dataclass is frozen: object.__setattr__)
    def _complement(self) -> FloatArray:
        """An orthonormal basis (d × (d − k)) of what the components leave out, cached.

        A row's residual is its projection on this basis, so its squared error is the sum of
        d − k squares, and the columns' squared residuals follow from the (d − k)² Gram matrix
        of those projections: one product per batch instead of two, and no n × d residual.
        """
        cached = self.__dict__.get("_basis")
        if cached is None:
            d = len(self.features)
            w = np.asarray(self.components, dtype=np.float64).reshape(-1, d)
            _, _, vt = np.linalg.svd(w, full_matrices=True)
            cached = np.ascontiguousarray(vt[w.shape[0] :].T)
            object.__setattr__(self, "_basis", cached)
        return cached  # type: ignore[no-any-return]


def _components(z: FloatArray, variance: float) -> tuple[FloatArray, FloatArray]:
    """Principal axes of standardised rows ``z`` explaining ``variance``: (k × d, ratios).

    scikit-learn's rule for a fractional ``n_components``: the fewest components whose
    cumulative explained variance ratio exceeds ``variance``; here at most d − 1, so that
    something is left to reconstruct.
    """
    d = z.shape[1]
    cov = (z.T @ z) / max(1, len(z) - 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values = np.clip(values[order], 0.0, None)
    vectors = vectors[:, order]
    total = values.sum()
    ratio = values / total if total > 0 else np.full(d, 1.0 / d)
    k = int(np.searchsorted(np.cumsum(ratio), variance, side="right")) + 1
    k = max(1, min(k, d - 1))
    return np.ascontiguousarray(vectors[:, :k].T), ratio[:k]


def _row_errors(z: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-row reconstruction error and the squared residual matrix of standardised rows."""
    residual = z - (z @ w.T) @ w
    squared = residual * residual
    return np.sqrt(squared.sum(axis=1)), squared


def _chunk_rows(n: int) -> int:
    return min(CHUNK_ROWS, max(3, n // 20))


def fit_pca(
    sample: pa.Table,
    *,
    rows: int | None = None,
    variance: float = 0.65,
    exclude: Iterable[str] = (),
) -> PcaReference | None:
    """Fit the PCA statistics on ``sample`` (already at most :data:`FIT_ROWS` rows, in order).

    ``rows`` is the dataset's row count (the sample's when None). Returns None when fewer than
    two columns qualify or there are fewer than :data:`MIN_ROWS` rows: there is nothing a
    relation between columns could show.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # One BLAS thread: the matrices are small (≤ 50k × d), and at registration this runs next
    # to the profile's threads, where spinning BLAS workers cost more than they save.
    with threadpool_limits(1, user_api="blas"):
        return _fit_pca(sample, rows=rows, variance=variance, exclude=exclude)


def _fit_pca(
    sample: pa.Table, *, rows: int | None, variance: float, exclude: Iterable[str]
) -> PcaReference | None:
    n = sample.num_rows
    if n < MIN_ROWS:
        return None
    features = features_of(sample, select_columns(sample.schema, exclude))
    if len(features) < 2:
        return None
    x = encode(sample, features)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    keep = scale > 1e-12 * np.maximum(1.0, np.abs(mean))
    if keep.sum() < 2:
        return None
    features = [
        replace(f, mean=float(m), scale=float(s))
        for f, m, s, k in zip(features, mean, scale, keep, strict=True)
        if k
    ]
    x = x[:, keep]
    z = (x - mean[keep]) / scale[keep]
    del x
    w, ratio = _components(z, variance)
    # Each column's mean squared residual under the stored components, from the covariance:
    # residuals are P z with P = I − WᵀW, so their second moments are diag(P Σ P).
    project = np.eye(z.shape[1]) - w.T @ w
    residual = np.diag(project @ ((z.T @ z) / n) @ project)
    # Cross-fitted reference chunks: each chunk's error from components fitted on the other
    # half of the chunks (alternating chunks, so both halves span the whole data).
    size = _chunk_rows(n)
    chunks = n // size
    z = z[: chunks * size]
    fold = (np.arange(chunks * size) // size) % 2 == 1
    errors = np.empty(chunks * size)
    for held in (False, True):
        held_rows = fold == held
        w_half = _top(z[~held_rows], w.shape[0])  # as many components as the full fit
        errors[held_rows], _ = _row_errors(z[held_rows], w_half)
    chunk_errors = errors.reshape(chunks, size).mean(axis=1)
    return PcaReference(
        features=tuple(features),
        components=tuple(tuple(float(v) for v in row) for row in w),
        explained=tuple(float(v) for v in ratio),
        variance=float(variance),
        rows=int(rows if rows is not None else n),
        fit_rows=n,
        chunk_rows=size,
        chunk_errors=tuple(float(v) for v in chunk_errors),
        row_std=float(errors.std(ddof=1)),
        residual=tuple(float(v) for v in residual),
    )


def _top(z: FloatArray, k: int) -> FloatArray:
    cov = (z.T @ z) / max(1, len(z) - 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:k]
    return np.ascontiguousarray(vectors[:, order].T)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PcaDrift:
    """A batch's mean reconstruction error against the reference band."""

    error: float  # the batch's mean reconstruction error
    center: float  # mean of the reference chunks' errors
    lower: float
    upper: float
    spread: float  # standard deviation of a mean error at this batch size
    sigma: float
    drifted: bool  # above the band: the columns no longer move together as they did
    rows: int  # batch rows measured
    features: int
    components: int
    explained: float  # share of the reference variance the components explain
    chunk_rows: int
    chunk_errors: tuple[float, ...]  # the reference chunks (for the chart)
    #: (column, share of the extra error, batch mean squared residual, reference's), top first
    contributions: tuple[tuple[str, float, float, float], ...]
    fitted: str  # 'registration' | 'first use' | 'this run'
    low: bool = False  # below the band: less variety than the reference (reported, no alert)
    band_rows: int = 0  # the batch size the band is drawn for: min(rows, CHUNK_ROWS)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PcaDrift:
        values = {k: _nan(v) for k, v in data.items()}
        values["chunk_errors"] = tuple(_nan(v) for v in data.get("chunk_errors", ()))
        values["contributions"] = tuple(
            (str(c[0]), _nan(c[1]), _nan(c[2]), _nan(c[3])) for c in data.get("contributions", ())
        )
        return cls(**values)


@dataclass(frozen=True)
class ClassifierDrift:
    """How well a classifier tells batch rows from reference rows (0.5: not at all)."""

    auc: float
    threshold: float
    drifted: bool
    reference_rows: int
    batch_rows: int
    folds: int
    features: int
    importances: tuple[tuple[str, float], ...]  # (column, AUC drop when shuffled), top first
    seconds: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassifierDrift:
        values = {k: _nan(v) for k, v in data.items()}
        values["importances"] = tuple((str(c[0]), _nan(c[1])) for c in data.get("importances", ()))
        return cls(**values)


@dataclass(frozen=True)
class MultivariateDrift:
    """The report's multivariate section: either measure may be absent (with a note why)."""

    pca: PcaDrift | None = None
    classifier: ClassifierDrift | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultivariateDrift:
        pca, classifier = data.get("pca"), data.get("classifier")
        return cls(
            pca=PcaDrift.from_dict(pca) if pca else None,
            classifier=ClassifierDrift.from_dict(classifier) if classifier else None,
            notes=tuple(data.get("notes") or ()),
        )


def _nan(value: Any) -> Any:
    return math.nan if value is None else value


# --------------------------------------------------------------------------- measuring


@dataclass
class _Accumulator:
    rows: int = 0
    error_sum: float = 0.0
    squared: FloatArray | None = None

    def add(self, errors: FloatArray, squared: FloatArray) -> None:
        self.rows += len(errors)
        self.error_sum += float(errors.sum())
        column_sums = squared.sum(axis=0)
        self.squared = column_sums if self.squared is None else self.squared + column_sums


def reconstruction(
    reference: PcaReference, batches: Iterable[pa.Table | pa.RecordBatch]
) -> tuple[int, float, FloatArray]:
    """(rows, mean error, per-feature mean squared residual) of a stream of batches.

    Memory holds one batch and its ``n × d`` float matrix at a time.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(1, user_api="blas"):  # small products: threads cost more than they save
        return _reconstruction(reference, batches)


def _reconstruction(
    reference: PcaReference, batches: Iterable[pa.Table | pa.RecordBatch]
) -> tuple[int, float, FloatArray]:
    basis = reference._complement()
    rows, error_sum = 0, 0.0
    gram = np.zeros((basis.shape[1], basis.shape[1]))
    for batch in batches:
        if batch.num_rows == 0:
            continue
        y = _standardized(batch, reference.features) @ basis  # the residual, in the basis
        error_sum += float(np.sqrt(np.einsum("ij,ij->i", y, y)).sum())
        gram += y.T @ y
        rows += batch.num_rows
    if rows == 0:
        raise DataError("the batch has no rows to measure a reconstruction error on.")
    squared = np.einsum("jk,kl,jl->j", basis, gram, basis)  # diag(B G Bᵀ): each column's
    return rows, error_sum / rows, squared / rows


def pca_drift(
    reference: PcaReference,
    batches: Iterable[pa.Table | pa.RecordBatch],
    *,
    sigma: float = 3.0,
    fitted: str = "registration",
    top: int = 10,
) -> PcaDrift:
    """The batch's mean reconstruction error against the reference band, explained by column."""
    rows, error, squared = reconstruction(reference, batches)
    lower, upper, spread = reference.band(rows, sigma)
    drifted = error > upper
    ref_squared = np.asarray(reference.residual, dtype=np.float64)
    extra = squared - ref_squared
    positive = np.clip(extra, 0.0, None)
    if error > reference.center and positive.sum() > 0:
        shares = positive / positive.sum()
    else:  # no extra error: where the batch's residual is
        shares = squared / squared.sum() if squared.sum() > 0 else np.zeros_like(squared)
    order = np.argsort(-shares, kind="stable")[:top]
    names = reference.names
    return PcaDrift(
        error=float(error),
        center=reference.center,
        lower=float(lower),
        upper=float(upper),
        spread=float(spread),
        sigma=float(sigma),
        drifted=bool(drifted),
        low=bool(error < lower),
        band_rows=min(int(rows), CHUNK_ROWS),
        rows=int(rows),
        features=len(reference.features),
        components=len(reference.components),
        explained=float(sum(reference.explained)),
        chunk_rows=reference.chunk_rows,
        chunk_errors=reference.chunk_errors,
        contributions=tuple(
            (names[i], float(shares[i]), float(squared[i]), float(ref_squared[i])) for i in order
        ),
        fitted=fitted,
    )


# --------------------------------------------------------------------------- domain classifier


def auc_threshold(floor: float, reference_rows: int, batch_rows: int) -> float:
    """The AUC above which two samples differ: ``floor``, or chance's reach at small samples.

    Two samples of one distribution give an AUC of 0.5 with standard error
    √((n₀ + n₁ + 1) / (12 n₀ n₁)) (Mann–Whitney U under the null); 4 SE (0.7 % of such pairs
    of samples are farther, before the classifier's own fitting noise) matters below ~5k rows a
    side: 569 vs 200 rows give 0.5 + 4 × 0.024 = 0.596 > 0.55.
    """
    se = math.sqrt((reference_rows + batch_rows + 1) / (12.0 * reference_rows * batch_rows))
    return max(floor, 0.5 + 4.0 * se)


def _classifier_matrix(table: pa.Table, features: Sequence[Feature]) -> FloatArray:
    """Numeric columns as floats (NaN for missing: the trees route them), categoricals as codes
    of the reference's categories (a new value: one more code; missing: NaN)."""
    out = np.empty((table.num_rows, len(features)), dtype=np.float64)
    for j, f in enumerate(features):
        col = table.column(f.name)
        if f.kind == "numeric":
            x = _floats(col)
            out[:, j] = np.where(np.isfinite(x), x, np.nan)
        else:
            strings = _strings(col)
            index = pc.index_in(strings, value_set=pa.array(f.categories, pa.string()))
            codes = np.asarray(
                pc.fill_null(index, len(f.categories)).to_numpy(zero_copy_only=False),
                dtype=np.float64,
            )
            if strings.null_count:
                nulls = np.asarray(pc.is_null(strings).to_numpy(zero_copy_only=False), dtype=bool)
                codes[nulls] = np.nan
            out[:, j] = codes
    return out


def domain_classifier(
    reference: pa.Table,
    batch: pa.Table,
    features: Sequence[Feature],
    *,
    auc: float = DEFAULT_AUC,
    folds: int = 3,
    top: int = 10,
    seed: int = 0,
) -> ClassifierDrift:
    """Cross-validated AUC of a gradient-boosted classifier telling ``batch`` from ``reference``.

    Out-of-fold probabilities of every row are pooled into one AUC (as NannyML does). Three
    folds keep 50k + 50k rows within seconds; early stopping ends a fit quickly when there is
    nothing to learn (the usual, unchanged case). One OpenMP thread: on a busy two-core machine
    (a notebook next to a scheduled run) scikit-learn's spinning OpenMP workers made the same
    fit 14× slower (39 s instead of 2.8 s at 10k + 10k rows); alone, two threads gain < 2×.
    """
    import sklearn.ensemble  # noqa: F401  (load OpenMP first: threadpoolctl limits loaded libs)
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(1):
        return _domain_classifier(
            reference, batch, features, auc=auc, folds=folds, top=top, seed=seed
        )


def _domain_classifier(
    reference: pa.Table,
    batch: pa.Table,
    features: Sequence[Feature],
    *,
    auc: float,
    folds: int,
    top: int,
    seed: int,
) -> ClassifierDrift:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    started = time.perf_counter()
    if reference.num_rows < 2 * folds or batch.num_rows < 2 * folds:
        raise DataError(
            f"the domain classifier needs at least {2 * folds} rows on each side; got "
            f"{reference.num_rows} reference and {batch.num_rows} batch rows."
        )
    x = np.vstack([_classifier_matrix(reference, features), _classifier_matrix(batch, features)])
    y = np.r_[np.zeros(reference.num_rows), np.ones(batch.num_rows)]
    categorical = np.asarray([f.kind == "categorical" for f in features], dtype=bool)
    scores = np.empty(len(y))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    model: Any = None
    held: npt.NDArray[np.int64] | None = None
    for train, test in splitter.split(x, y):
        model = HistGradientBoostingClassifier(
            max_iter=100,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=5,
            categorical_features=categorical if categorical.any() else None,
            random_state=seed,
        ).fit(x[train], y[train])
        scores[test] = model.predict_proba(x[test])[:, 1]
        held = test
    value = float(roc_auc_score(y, scores))
    assert model is not None and held is not None
    # Permutation importance on the last held-out fold (at most 20k rows): the AUC lost when
    # one column's values are shuffled among the rows.
    rng = np.random.default_rng(seed)
    rows = held if len(held) <= 20_000 else np.sort(rng.choice(held, 20_000, replace=False))
    xv, yv = x[rows], y[rows]
    base = float(roc_auc_score(yv, model.predict_proba(xv)[:, 1]))
    importances = []
    for j, f in enumerate(features):
        shuffled = xv.copy()
        shuffled[:, j] = rng.permutation(shuffled[:, j])
        drop = base - float(roc_auc_score(yv, model.predict_proba(shuffled)[:, 1]))
        importances.append((f.name, drop))
    importances.sort(key=lambda t: -t[1])
    threshold = auc_threshold(auc, reference.num_rows, batch.num_rows)
    return ClassifierDrift(
        auc=value,
        threshold=threshold,
        drifted=value > threshold,
        reference_rows=reference.num_rows,
        batch_rows=batch.num_rows,
        folds=folds,
        features=len(features),
        importances=tuple((n, float(v)) for n, v in importances[:top]),
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- registration


def reference_json(
    data: pa.Table | Path, *, exclude: Iterable[str] = (), variance: float = 0.65
) -> str | None:
    """The PCA statistics of a dataset being registered, as JSON (None: nothing to fit).

    An in-memory table is sampled with ``take`` (no copy of the rest); a Parquet file by DuckDB
    (:func:`sample_file`), one extra scan of the chosen columns. A failure here never fails a
    registration: the statistics are then computed on first use.
    """
    try:
        if isinstance(data, Path):
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(data).metadata
            names = select_columns(meta.schema.to_arrow_schema(), exclude)
            if len(names) < 2:
                return None
            sample = sample_file(data, names, FIT_ROWS)
            rows = int(meta.num_rows)
        else:
            names = select_columns(data.schema, exclude)
            if len(names) < 2:
                return None
            sample = sample_table(data, FIT_ROWS, names)
            rows = data.num_rows
        fitted = fit_pca(sample, rows=rows, variance=variance)
    except (DataError, ValueError, ArithmeticError, np.linalg.LinAlgError, pa.ArrowException):
        return None
    return fitted.to_json() if fitted is not None else None
