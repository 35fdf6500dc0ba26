"""What changed between two versions of a model or a dataset: as data first, views after.

* Models: parameters, metrics (with deltas), input signature, environment (package versions),
  the training cell's code as a unified diff, drift between the two training datasets, and with
  an evaluation frame (``on=``) how often the two models' predictions disagree.
* Datasets: schema, row counts, per-column statistics and drift; with ``key=`` the rows that
  were added, removed or changed, computed by DuckDB over the two stored Parquet files (so
  nothing larger than the samples is loaded into Python).

Drift between two stored versions needs the second counted on the first one's bins (its own
stored profile has its own bins): the second version's Parquet is profiled once more against
the first's stored profile, streamed, then :func:`~modelbook.stats.drift.drift_from_profiles`
compares the two.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelbook.errors import DataError
from modelbook.results import DatasetVersion, ModelVersion, Renderable

if TYPE_CHECKING:
    from modelbook.stats.drift import DatasetDrift

__all__ = [
    "ColumnStats",
    "DatasetDiff",
    "MetricDelta",
    "ModelDiff",
    "PredictionDiff",
    "RowChanges",
    "diff",
]

PathLike = str | os.PathLike[str]

#: Rows shown per sample (added, removed, changed, largest prediction differences).
SAMPLE_ROWS = 10
#: Regression predictions "differ" when they are not np.isclose with these tolerances.
PREDICTION_RTOL = 1e-6
PREDICTION_ATOL = 1e-9
#: Statistics compared per column in a dataset diff.
COLUMN_STATS = ("nulls", "distinct", "min", "mean", "std", "max")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MetricDelta:
    name: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass(frozen=True)
class PredictionDiff:
    """How two models' predictions on one evaluation frame differ."""

    rows: int
    task: str  # "classification" | "regression"
    differing: int
    mean_abs_difference: float | None  # regression, or classification with probabilities
    largest: tuple[Mapping[str, Any], ...]  # {"row", "a", "b", "difference"}

    @property
    def disagreement(self) -> float:
        """Share of rows whose predictions differ."""
        return self.differing / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class ColumnStats:
    """One column's statistics in both versions (None where a version lacks the column)."""

    column: str
    kind: str
    a: Mapping[str, float | None]
    b: Mapping[str, float | None]

    def delta(self, stat: str) -> float | None:
        x, y = self.a.get(stat), self.b.get(stat)
        return None if x is None or y is None else y - x

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(s for s in COLUMN_STATS if not _same(self.a.get(s), self.b.get(s)))


@dataclass(frozen=True)
class RowChanges:
    """Row-level changes by key (computed in DuckDB over the stored Parquet files)."""

    key: tuple[str, ...]
    added: int
    removed: int
    changed: int
    unchanged: int
    changed_columns: Mapping[str, int]  # column -> rows where it changed
    added_sample: tuple[Mapping[str, Any], ...] = ()
    removed_sample: tuple[Mapping[str, Any], ...] = ()
    changed_sample: tuple[Mapping[str, Any], ...] = ()  # {"key": {...}, "changes": {col: [a, b]}}
    compared_columns: tuple[str, ...] = ()


@dataclass(frozen=True, repr=False)
class DatasetDiff(Renderable):
    """Two dataset versions compared: schema, rows, statistics, drift, and rows by key."""

    a: str  # name@version
    b: str
    rows_a: int
    rows_b: int
    columns_added: tuple[tuple[str, str], ...]  # (column, type)
    columns_removed: tuple[tuple[str, str], ...]
    columns_retyped: tuple[tuple[str, str, str], ...]  # (column, type in a, type in b)
    column_stats: tuple[ColumnStats, ...]
    drift: DatasetDrift | None = None
    rows: RowChanges | None = None
    notes: tuple[str, ...] = ()
    kind = "dataset_diff"

    @property
    def schema_changed(self) -> bool:
        return bool(self.columns_added or self.columns_removed or self.columns_retyped)

    def __repr__(self) -> str:
        return f"<DatasetDiff {self.a} → {self.b}>"


@dataclass(frozen=True, repr=False)
class ModelDiff(Renderable):
    """Two model versions compared."""

    a: str
    b: str
    class_a: str
    class_b: str
    params_added: tuple[tuple[str, Any], ...]
    params_removed: tuple[tuple[str, Any], ...]
    params_changed: tuple[tuple[str, Any, Any], ...]
    metrics: tuple[MetricDelta, ...]
    signature_added: tuple[tuple[str, str], ...] = ()
    signature_removed: tuple[tuple[str, str], ...] = ()
    signature_retyped: tuple[tuple[str, str, str], ...] = ()
    packages: tuple[tuple[str, str | None, str | None], ...] = ()  # (package, in a, in b)
    code_diff: str | None = None  # unified diff of the training cells; None when equal/unknown
    train_a: str | None = None
    train_b: str | None = None
    drift: DatasetDrift | None = None
    predictions: PredictionDiff | None = None
    notes: tuple[str, ...] = ()
    kind = "model_diff"

    @property
    def params_unchanged(self) -> bool:
        return not (self.params_added or self.params_removed or self.params_changed)

    def __repr__(self) -> str:
        return f"<ModelDiff {self.a} → {self.b}>"


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return bool(x == y)


# --------------------------------------------------------------------------- entry point


def diff(
    a: str | ModelVersion | DatasetVersion,
    b: str | ModelVersion | DatasetVersion,
    *,
    key: str | Sequence[str] | None = None,
    on: object = None,
    trust: bool = False,
    registry: PathLike | None = None,
) -> ModelDiff | DatasetDiff:
    """Compare two versions of a model or a dataset (``a`` is the older/baseline one).

    ``key`` (datasets): column(s) identifying a row; adds row-level changes. ``on`` (models): an
    evaluation table both models predict on; adds their disagreement. ``trust`` allows loading
    pickled models for ``on``.
    """
    from modelbook import catalog

    ref_a, ref_b = _ref(a), _ref(b)
    ra = catalog.resolve(ref_a, registry=registry)
    rb = catalog.resolve(ref_b, registry=registry)
    if ra.kind != rb.kind:
        raise DataError(
            f"{ref_a} is a {ra.kind} but {ref_b} is a {rb.kind}: compare two models or two datasets."
        )
    if ra.kind == "model":
        if key is not None:
            raise DataError("key= compares dataset rows; for models pass on= an evaluation table.")
        return _model_diff(ra, rb, on=on, trust=trust, registry=registry)
    if on is not None:
        raise DataError("on= compares model predictions; for datasets pass key= a column.")
    return _dataset_diff(ra, rb, key=key, registry=registry)


def _ref(value: str | ModelVersion | DatasetVersion) -> str:
    if isinstance(value, (ModelVersion, DatasetVersion)):
        return value.ref
    if isinstance(value, str):
        return value
    raise DataError(
        f"diff() compares registry versions: pass references like 'churn@1', "
        f"not a {type(value).__name__}."
    )


# --------------------------------------------------------------------------- datasets


def _columns_of(version: DatasetVersion) -> dict[str, Mapping[str, Any]]:
    return {str(c["name"]): c for c in version.columns}


def _stats(profile: Mapping[str, Any] | None) -> dict[str, float | None]:
    if profile is None:
        return {}
    out: dict[str, float | None] = {}
    for stat in COLUMN_STATS:
        value = profile.get(stat)
        out[stat] = None if value is None else float(value)
    return out


def _dataset_diff(
    ra: Any, rb: Any, *, key: str | Sequence[str] | None, registry: PathLike | None
) -> DatasetDiff:
    from modelbook import catalog

    va = catalog.show(f"{ra.name}@{ra.version}", registry=registry)
    vb = catalog.show(f"{rb.name}@{rb.version}", registry=registry)
    assert isinstance(va, DatasetVersion) and isinstance(vb, DatasetVersion)
    ca, cb = _columns_of(va), _columns_of(vb)
    added = tuple((n, str(c["arrow_type"])) for n, c in cb.items() if n not in ca)
    removed = tuple((n, str(c["arrow_type"])) for n, c in ca.items() if n not in cb)
    retyped = tuple(
        (n, str(ca[n]["arrow_type"]), str(cb[n]["arrow_type"]))
        for n in ca
        if n in cb and ca[n]["arrow_type"] != cb[n]["arrow_type"]
    )
    stats = tuple(
        ColumnStats(
            column=n,
            kind=str((ca.get(n) or cb[n])["kind"]),
            a=_stats(ca.get(n)),
            b=_stats(cb.get(n)),
        )
        for n in [*ca, *(n for n in cb if n not in ca)]
    )
    notes: list[str] = []
    drift = _stored_drift(va.ref, vb.ref, ca, cb, notes, registry=registry)
    rows = None
    if key is not None:
        keys = (key,) if isinstance(key, str) else tuple(key)
        rows = row_changes(
            catalog.dataset_path(va.ref, registry=registry),
            catalog.dataset_path(vb.ref, registry=registry),
            keys,
            labels=(va.ref, vb.ref),
        )
    return DatasetDiff(
        a=va.ref,
        b=vb.ref,
        rows_a=va.n_rows,
        rows_b=vb.n_rows,
        columns_added=added,
        columns_removed=removed,
        columns_retyped=retyped,
        column_stats=stats,
        drift=drift,
        rows=rows,
        notes=tuple(notes),
    )


def _stored_drift(
    ref_a: str,
    ref_b: str,
    ca: Mapping[str, Mapping[str, Any]],
    cb: Mapping[str, Mapping[str, Any]],
    notes: list[str],
    *,
    registry: PathLike | None,
) -> DatasetDrift | None:
    """Drift of ``b`` against ``a``: b's Parquet counted on a's stored bins and categories."""
    from modelbook import catalog
    from modelbook.stats.drift import drift_from_profiles
    from modelbook.stats.profile import profile_table

    common = [n for n in ca if n in cb and ca[n]["kind"] == cb[n]["kind"] != "other"]
    skipped = [n for n in ca if n in cb and n not in common and ca[n]["kind"] != "other"]
    if skipped:
        notes.append(f"drift not computed for columns whose kind changed: {', '.join(skipped)}")
    if not common:
        return None
    import pyarrow.parquet as pq

    reference = catalog.dataset_profile(ref_a, registry=registry)
    # Stored blobs carry no file suffix, so read the shared columns with pyarrow (column pruned).
    table = pq.read_table(catalog.dataset_path(ref_b, registry=registry), columns=common)
    current = profile_table(table, reference=reference)
    return drift_from_profiles(reference, current, columns=common)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def row_changes(
    path_a: Path,
    path_b: Path,
    key: Sequence[str],
    *,
    labels: tuple[str, str] = ("a", "b"),
    sample: int = SAMPLE_ROWS,
) -> RowChanges:
    """Added, removed and changed rows between two Parquet files, matched on ``key``.

    Runs in DuckDB over the files (an in-memory database; the registry is not touched): anti
    joins for added/removed rows, a join on the key with ``IS DISTINCT FROM`` per shared column
    for changes (so NULL equals NULL). Keys must be unique in each file.
    """
    import duckdb

    if not key:
        raise DataError("key= needs at least one column name.")
    con = duckdb.connect()
    try:
        con.execute(f"CREATE VIEW a AS SELECT * FROM read_parquet({_literal(path_a)})")
        con.execute(f"CREATE VIEW b AS SELECT * FROM read_parquet({_literal(path_b)})")
        cols_a = [r[0] for r in con.execute("DESCRIBE a").fetchall()]
        cols_b = [r[0] for r in con.execute("DESCRIBE b").fetchall()]
        for label, view, cols in ((labels[0], "a", cols_a), (labels[1], "b", cols_b)):
            missing = [k for k in key if k not in cols]
            if missing:
                raise DataError(
                    f"key column {missing[0]!r} is not in {label}; its columns: "
                    f"{', '.join(cols[:20])}."
                )
            k = ", ".join(_quote(c) for c in key)
            dup = con.execute(
                f"SELECT count(*) FROM (SELECT {k} FROM {view} GROUP BY ALL HAVING count(*) > 1)"
            ).fetchall()[0][0]
            if dup:
                raise DataError(
                    f"key {', '.join(key)} is not unique in {label}: {dup:,} values occur more "
                    "than once; pass columns that identify one row."
                )
        compared = [c for c in cols_a if c in cols_b and c not in key]
        on = " AND ".join(f"a.{_quote(c)} IS NOT DISTINCT FROM b.{_quote(c)}" for c in key)
        order = ", ".join(_quote(c) for c in key)
        added = _count(con, f"SELECT count(*) FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE {on})")
        removed = _count(
            con, f"SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE {on})"
        )
        flags = [f"(a.{_quote(c)} IS DISTINCT FROM b.{_quote(c)})" for c in compared]
        any_changed = " OR ".join(flags) if flags else "false"
        sums = ", ".join(f"count_if({f})" for f in flags)
        row = con.execute(
            f"SELECT count(*), count_if({any_changed}){', ' + sums if sums else ''} "
            f"FROM a JOIN b ON {on}"
        ).fetchall()[0]
        matched, changed = int(row[0]), int(row[1])
        per_column = {c: int(n) for c, n in zip(compared, row[2:], strict=True) if n}
        added_sample = _records(
            con,
            f"SELECT * FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE {on}) "
            f"ORDER BY {order} LIMIT {int(sample)}",
        )
        removed_sample = _records(
            con,
            f"SELECT * FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE {on}) "
            f"ORDER BY {order} LIMIT {int(sample)}",
        )
        changed_sample: list[dict[str, Any]] = []
        if changed and per_column:
            cols = list(per_column)
            select = ", ".join(
                [f"a.{_quote(c)}" for c in key] + [f"a.{_quote(c)}, b.{_quote(c)}" for c in cols]
            )
            where = " OR ".join(f"(a.{_quote(c)} IS DISTINCT FROM b.{_quote(c)})" for c in cols)
            korder = ", ".join(f"a.{_quote(c)}" for c in key)
            fetched = con.execute(
                f"SELECT {select} FROM a JOIN b ON {on} WHERE {where} "
                f"ORDER BY {korder} LIMIT {int(sample)}"
            ).fetchall()
            for values in fetched:
                keyvals = dict(zip(key, values[: len(key)], strict=True))
                rest = values[len(key) :]
                changes = {
                    c: [rest[2 * i], rest[2 * i + 1]]
                    for i, c in enumerate(cols)
                    if not _same(rest[2 * i], rest[2 * i + 1])
                }
                changed_sample.append({"key": keyvals, "changes": changes})
    finally:
        con.close()
    return RowChanges(
        key=tuple(key),
        added=added,
        removed=removed,
        changed=changed,
        unchanged=matched - changed,
        changed_columns=dict(sorted(per_column.items(), key=lambda kv: (-kv[1], kv[0]))),
        added_sample=tuple(added_sample),
        removed_sample=tuple(removed_sample),
        changed_sample=tuple(changed_sample),
        compared_columns=tuple(compared),
    )


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _count(con: Any, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def _records(con: Any, sql: str) -> list[dict[str, Any]]:
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


# --------------------------------------------------------------------------- models


def _model_diff(
    ra: Any, rb: Any, *, on: object, trust: bool, registry: PathLike | None
) -> ModelDiff:
    from modelbook import catalog
    from modelbook.capture.environment import package_changes

    ma = catalog.show(f"{ra.name}@{ra.version}", registry=registry)
    mb = catalog.show(f"{rb.name}@{rb.version}", registry=registry)
    assert isinstance(ma, ModelVersion) and isinstance(mb, ModelVersion)
    pa_, pb_ = dict(ma.params), dict(mb.params)
    metrics = tuple(
        MetricDelta(k, _num(ma.metrics.get(k)), _num(mb.metrics.get(k)))
        for k in [*ma.metrics, *(k for k in mb.metrics if k not in ma.metrics)]
    )
    sa, sb = _signature_columns(ma), _signature_columns(mb)
    notes: list[str] = []
    drift = None
    if ma.train_dataset and mb.train_dataset and ma.train_dataset != mb.train_dataset:
        va = catalog.show(ma.train_dataset, registry=registry)
        vb = catalog.show(mb.train_dataset, registry=registry)
        assert isinstance(va, DatasetVersion) and isinstance(vb, DatasetVersion)
        drift = _stored_drift(
            va.ref, vb.ref, _columns_of(va), _columns_of(vb), notes, registry=registry
        )
    elif ma.train_dataset and ma.train_dataset == mb.train_dataset:
        notes.append(f"both versions were trained on {ma.train_dataset}")
    predictions = None
    if on is not None:
        model_a = catalog.load(ma.ref, trust=trust, registry=registry)
        model_b = catalog.load(mb.ref, trust=trust, registry=registry)
        predictions = prediction_diff(model_a, model_b, on)
    return ModelDiff(
        a=ma.ref,
        b=mb.ref,
        class_a=ma.class_name,
        class_b=mb.class_name,
        params_added=tuple((k, pb_[k]) for k in sorted(pb_) if k not in pa_),
        params_removed=tuple((k, pa_[k]) for k in sorted(pa_) if k not in pb_),
        params_changed=tuple(
            (k, pa_[k], pb_[k]) for k in sorted(pa_) if k in pb_ and not _same(pa_[k], pb_[k])
        ),
        metrics=metrics,
        signature_added=tuple((n, t) for n, t in sb.items() if n not in sa),
        signature_removed=tuple((n, t) for n, t in sa.items() if n not in sb),
        signature_retyped=tuple((n, sa[n], sb[n]) for n in sa if n in sb and sa[n] != sb[n]),
        packages=tuple(package_changes(ma.environment, mb.environment)),
        code_diff=code_diff(ma.code, mb.code, labels=(ma.ref, mb.ref)),
        train_a=ma.train_dataset,
        train_b=mb.train_dataset,
        drift=drift,
        predictions=predictions,
        notes=tuple(notes),
    )


def _num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _signature_columns(model: ModelVersion) -> dict[str, str]:
    if not model.signature:
        return {}
    return {str(c["name"]): str(c["type"]) for c in model.signature.get("columns", [])}


def code_diff(a: str | None, b: str | None, *, labels: tuple[str, str]) -> str | None:
    """Unified diff of two code cells; None when both are missing or equal."""
    if a == b or (a is None and b is None):
        return None
    lines = difflib.unified_diff(
        (a or "").splitlines(keepends=True),
        (b or "").splitlines(keepends=True),
        fromfile=labels[0],
        tofile=labels[1],
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _features(model: object, frame: Any) -> Any:
    names = getattr(model, "feature_names_in_", None)
    if names is not None and hasattr(frame, "columns"):
        missing = [str(n) for n in names if n not in frame.columns]
        if missing:
            raise DataError(
                f"the evaluation table lacks the model's input columns: {', '.join(missing[:10])}."
            )
        return frame[list(names)]
    return frame


def prediction_diff(model_a: object, model_b: object, frame: object) -> PredictionDiff:
    """Share of rows where two models' predictions differ, and the largest differences.

    Classifiers (both have ``predict_proba`` or predict non-float labels) differ where their
    labels differ; with probabilities, "largest" ranks rows by the largest absolute change of
    any class probability. Regressors differ where predictions are not ``np.isclose``
    (rtol 1e-6, atol 1e-9), ranked by absolute difference.
    """
    import numpy as np

    from modelbook.capture.datasets import to_arrow

    if not hasattr(frame, "columns"):
        source = to_arrow(frame, what="on= evaluation data")
        assert source.table is not None
        frame = source.table.to_pandas()
    xa, xb = _features(model_a, frame), _features(model_b, frame)
    pred_a = np.asarray(model_a.predict(xa))  # type: ignore[attr-defined]
    pred_b = np.asarray(model_b.predict(xb))  # type: ignore[attr-defined]
    rows = len(pred_a)
    classification = pred_a.dtype.kind not in "fc" or (
        hasattr(model_a, "predict_proba") and hasattr(model_b, "predict_proba")
    )
    score: Any
    mean_abs: float | None
    if classification:
        differ = pred_a != pred_b
        score = differ.astype(np.float64)
        mean_abs = None
        if hasattr(model_a, "predict_proba") and hasattr(model_b, "predict_proba"):
            proba_a = np.asarray(model_a.predict_proba(xa))
            proba_b = np.asarray(model_b.predict_proba(xb))
            if proba_a.shape == proba_b.shape:
                score = np.max(np.abs(proba_a - proba_b), axis=1)
                mean_abs = float(np.mean(score))
    else:
        fa, fb = pred_a.astype(np.float64), pred_b.astype(np.float64)
        differ = ~np.isclose(fa, fb, rtol=PREDICTION_RTOL, atol=PREDICTION_ATOL)
        score = np.abs(fa - fb)
        mean_abs = float(np.mean(score)) if rows else None
    order = np.argsort(-score, kind="stable")[:SAMPLE_ROWS]
    index = list(getattr(frame, "index", range(rows)))
    largest = tuple(
        {
            "row": _plain(index[i]),
            "a": _plain(pred_a[i]),
            "b": _plain(pred_b[i]),
            "difference": float(score[i]),
        }
        for i in order
        if score[i] > 0
    )
    return PredictionDiff(
        rows=rows,
        task="classification" if classification else "regression",
        differing=int(np.count_nonzero(differ)),
        mean_abs_difference=mean_abs,
        largest=largest,
    )


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
