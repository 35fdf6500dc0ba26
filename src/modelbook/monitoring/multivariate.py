"""Multivariate drift: ``drift.multivariate`` (PCA reconstruction error, default) and
``drift.domain_classifier`` (opt-in), with the columns that carry the change.

The statistics and the tests are in :mod:`modelbook.stats.multivariate`; this family decides
which columns take part, where the reference statistics come from, and streams the batch.

* **Columns.** The comparable inputs of the run (present on both sides with the same kind,
  within ``columns=``), minus the label column, the served model outputs and columns whose
  ``drift.column`` rule is ``off``.
* **Reference statistics.** Stored with the dataset version at registration. A version
  registered before they existed gets them on first use, fitted on a DuckDB sample of its
  Parquet snapshot and stored (a short write under the registry's lock; not with
  ``store="none"``). When the run's columns or ``variance`` differ from the stored ones, they are
  fitted for this run from the same sample (and not stored).
* **The batch** is measured on at most 100,000 rows (evenly spaced blocks; see
  :data:`~modelbook.stats.multivariate.MEASURE_ROWS`), streamed in record batches of at most
  :data:`BATCH_ROWS` rows (a Parquet path through DuckDB, which reads only those blocks; a CSV
  whole): memory holds one record batch's ``rows × columns`` floats.
* **The domain classifier** learns from at most ``sample_rows`` rows of each side: the
  reference's sampled by DuckDB from the snapshot, the batch's as evenly spaced blocks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelbook.errors import ConfigError, DataError, RegistryError
from modelbook.monitoring.checks import status_of
from modelbook.monitoring.report import CheckResult
from modelbook.monitoring.rules import MonitorRules

if TYPE_CHECKING:
    import pyarrow as pa

    from modelbook.monitoring.context import RunContext
    from modelbook.stats.multivariate import ClassifierDrift, PcaDrift, PcaReference

__all__ = [
    "BATCH_ROWS",
    "METHOD_CHOICES",
    "checks",
    "rules_with_method",
    "run_columns",
    "with_method",
]

#: What ``multivariate=`` / ``--multivariate`` accept: a method, or ``off``.
METHOD_CHOICES = ("pca", "classifier", "both", "off")
BATCH_ROWS = 65_536
#: Rows per block of the measured sample: 10 blocks spread over the batch.
MEASURE_BLOCK = 10_000
_DEFAULT_VARIANCE = 0.65


def with_method(settings: MonitorRules, method: str | None) -> MonitorRules:
    """The rules with ``multivariate=`` applied (None: as configured)."""
    if method is None:
        return settings
    if method not in METHOD_CHOICES:
        raise ConfigError(
            f"multivariate={method!r} is not one of {', '.join(METHOD_CHOICES)}: pass e.g. "
            "multivariate='classifier' (--multivariate classifier)."
        )
    rules = settings.multivariate
    if method == "off":
        rules = dataclasses.replace(rules, enabled=False)
    else:
        rules = dataclasses.replace(rules, enabled=True, method=method)
    return dataclasses.replace(settings, multivariate=rules)


def rules_with_method(
    rules: Mapping[str, Any] | None, method: str | None
) -> Mapping[str, Any] | None:
    """``rules=`` with ``multivariate=`` written into its ``multivariate`` table (for callers
    that take rules only, e.g. a timeline); the keyword wins over the table."""
    if method is None or (rules is not None and not isinstance(rules, Mapping)):
        return rules  # a malformed rules= gets its own error where rules are read
    with_method(MonitorRules(), method)  # the same one-line error for a bad value
    given = (rules or {}).get("multivariate")
    table = dict(given) if isinstance(given, Mapping) else {}
    table.update({"enabled": False} if method == "off" else {"enabled": True, "method": method})
    return {**(rules or {}), "multivariate": table}


def run_columns(ctx: RunContext) -> list[str]:
    """The columns this run's multivariate checks may use (module docstring)."""
    label = ctx.label_column
    served = set(ctx.served_columns)
    return [
        c
        for c in ctx.comparable
        if c != label and c not in served and ctx.settings.rule("drift.column", c).severity != "off"
    ]


def checks(ctx: RunContext) -> list[CheckResult]:
    """drift.multivariate and drift.domain_classifier; records the multivariate findings."""
    from modelbook.stats.multivariate import MultivariateDrift

    rules = ctx.settings.multivariate
    pca_rule = ctx.settings.rule("drift.multivariate")
    classifier_rule = ctx.settings.rule("drift.domain_classifier")
    run_pca = rules.pca and pca_rule.severity != "off"
    run_classifier = rules.classifier and classifier_rule.severity != "off"
    if not (run_pca or run_classifier):
        return []
    columns = run_columns(ctx)
    found: list[CheckResult] = []
    notes: list[str] = []
    pca: PcaDrift | None = None
    classifier: ClassifierDrift | None = None
    snapshot = _Snapshot(ctx)
    if run_pca:
        try:
            pca = _pca(ctx, snapshot, columns)
        except DataError as exc:
            notes.append(f"reconstruction error not measured: {_first_line(exc)}")
            found.append(CheckResult("drift.multivariate", "info", notes[-1]))
        if pca is not None:
            found.append(_pca_check(pca, pca_rule))
    if run_classifier:
        try:
            classifier = _classifier(ctx, snapshot, columns)
        except DataError as exc:
            notes.append(f"domain classifier not run: {_first_line(exc)}")
            found.append(CheckResult("drift.domain_classifier", "info", notes[-1]))
        if classifier is not None:
            found.append(_classifier_check(classifier, classifier_rule))
    ctx.findings.multivariate = MultivariateDrift(
        pca=pca, classifier=classifier, notes=tuple(notes)
    )
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


# --------------------------------------------------------------------------- reference


class _Snapshot:
    """The reference dataset version's row and Parquet snapshot, read once per run."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._row: dict[str, Any] | None = None

    @property
    def row(self) -> dict[str, Any]:
        if self._row is None:
            ds = self._ctx.reference
            self._row = self._ctx.registry.dataset_version(ds.name, ds.version)
        return self._row

    @property
    def path(self) -> Path:
        path = self._ctx.registry.objects.local_path(str(self.row["blob"]))
        if not path.exists():
            raise DataError(
                f"the snapshot of {self._ctx.reference} is missing ({path}); run `modelbook check`"
            )
        return path

    def sample(self, columns: Sequence[str], rows: int) -> pa.Table:
        from modelbook.stats.multivariate import sample_file

        return sample_file(self.path, columns, rows)


def _fit(snapshot: _Snapshot, columns: Sequence[str], variance: float) -> PcaReference:
    from modelbook.stats.multivariate import FIT_ROWS, fit_pca

    fitted = fit_pca(
        snapshot.sample(columns, FIT_ROWS), rows=int(snapshot.row["n_rows"]), variance=variance
    )
    if fitted is None:
        raise DataError(
            "it needs at least two numeric or low-cardinality categorical columns that vary, "
            "and 60 reference rows"
        )
    return fitted


def _stored_reference(ctx: RunContext, snapshot: _Snapshot) -> tuple[PcaReference | None, str]:
    """The statistics stored with the reference; computed and stored on first use."""
    from modelbook.stats.multivariate import PcaReference, select_columns

    text = snapshot.row.get("multivariate")
    stored = PcaReference.from_json(text) if text else None
    if stored is not None:
        return stored, "registration"
    import pyarrow.parquet as pq

    exclude = [ctx.reference_target] if ctx.reference_target else []
    names = select_columns(pq.read_schema(snapshot.path), exclude)
    try:
        stored = _fit(snapshot, names, _DEFAULT_VARIANCE)
    except DataError:
        return None, "first use"
    if ctx.store:
        try:
            ds = ctx.reference
            ctx.registry.store_multivariate(ds.name, ds.version, stored.to_json())
        except RegistryError:
            pass  # a read-only or busy registry: computed again next time
    return stored, "first use"


def _pca(ctx: RunContext, snapshot: _Snapshot, columns: list[str]) -> PcaDrift:
    from modelbook.stats.multivariate import pca_drift

    rules = ctx.settings.multivariate
    reference, fitted = _stored_reference(ctx, snapshot)
    usable = set(columns)
    if (
        reference is None
        or not set(reference.names) <= usable
        or reference.variance != rules.variance
    ):
        reference, fitted = _fit(snapshot, columns, rules.variance), "this run"
    return pca_drift(reference, _batches(ctx, reference.names), sigma=rules.sigma, fitted=fitted)


def _batches(ctx: RunContext, names: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """The batch's ``names`` columns, at most :data:`~modelbook.stats.multivariate.MEASURE_ROWS`
    rows of it (evenly spaced blocks; a CSV whole), in record batches of :data:`BATCH_ROWS`."""
    from modelbook.stats.multivariate import MEASURE_ROWS, block_filter, sample_table

    source = ctx.source
    if source.table is not None:
        sample = sample_table(source.table, MEASURE_ROWS, names, size=MEASURE_BLOCK)
        yield from sample.to_batches(max_chunksize=BATCH_ROWS)
        return
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    assert source.path is not None
    cols = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
    sql = f"SELECT {cols} FROM {duckdb_scan(source.path, source.kind)}"
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        n = int(pq.ParquetFile(source.path).metadata.num_rows)
        if n > MEASURE_ROWS:
            path = str(source.path).replace("'", "''")
            sql = (
                f"SELECT {cols} FROM read_parquet('{path}', file_row_number = true) "
                f"WHERE {block_filter(n, MEASURE_ROWS, MEASURE_BLOCK)}"
            )
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
        yield from reader
    except duckdb.Error as exc:
        raise DataError(f"cannot read {source.label}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()


def _classifier(ctx: RunContext, snapshot: _Snapshot, columns: list[str]) -> ClassifierDrift:
    from modelbook.stats.multivariate import (
        domain_classifier,
        features_of,
        sample_file,
        sample_table,
    )

    rules = ctx.settings.multivariate
    if not columns:
        raise DataError("no column of the batch can be compared with the reference")
    reference = snapshot.sample(columns, rules.sample_rows)
    features = features_of(reference, columns)
    if not features:
        raise DataError("no numeric or low-cardinality categorical column varies in the reference")
    names = [f.name for f in features]
    source = ctx.source
    if source.table is not None:
        batch = sample_table(source.table, rules.sample_rows, names)
    else:
        assert source.path is not None
        batch = sample_file(source.path, names, rules.sample_rows, kind=source.kind)
    return domain_classifier(reference, batch, features, auc=rules.auc)


# --------------------------------------------------------------------------- checks


def _top(contributions: Sequence[tuple[str, float, float, float]], n: int = 3) -> str:
    shown = [f"{c} {share:.0%}" for c, share, _b, _r in contributions[:n] if share >= 0.005]
    return ", ".join(shown)


def _pca_check(d: PcaDrift, rule: Any) -> CheckResult:
    where = "above" if d.error > d.upper else "below" if d.error < d.lower else "within"
    message = (
        f"reconstruction error {d.error:.4g} {where} the reference band "
        f"[{d.lower:.4g}, {d.upper:.4g}] (mean of the reference chunks ± {d.sigma:g}σ at "
        f"{d.band_rows:,} rows; {d.components} components keep "
        f"{d.explained:.0%} of the variance of {d.features} columns)"
    )
    top = _top(d.contributions)
    if top and d.drifted:
        noun = "extra error" if d.error > d.center else "residual"
        message += f"; {noun} from {top}"
    if d.low:
        message += (
            "; below the band means less variety than the reference (imputed or constant "
            "values: see the null and per-column checks), reported without an alert"
        )
    return CheckResult(
        "drift.multivariate",
        "info" if d.low and rule.severity != "off" else status_of(rule, d.drifted),
        message,
        test="pca reconstruction error",
        statistic=d.error,
        threshold=d.lower if d.error < d.lower else d.upper,
    )


def _classifier_check(d: ClassifierDrift, rule: Any) -> CheckResult:
    sign = ">" if d.drifted else "≤"
    top = ", ".join(f"{c} ({v:.3f})" for c, v in d.importances[:3] if v >= 0.001)
    message = (
        f"a classifier tells batch rows from reference rows with AUC {d.auc:.3f} {sign} "
        f"{d.threshold:.3f} ({d.folds}-fold cross-validation on {d.reference_rows:,} reference "
        f"+ {d.batch_rows:,} batch rows)"
    )
    if top and d.drifted:
        message += f"; top columns: {top}"
    return CheckResult(
        "drift.domain_classifier",
        status_of(rule, d.drifted),
        message,
        test="domain classifier AUC",
        statistic=d.auc,
        threshold=d.threshold,
    )
